"""The kindred command: init, create-user and demo, as an operator runs them."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ENGINE

KINDRED = str(Path(sys.executable).with_name("kindred"))


def run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [KINDRED, *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("KINDRED_")}
    env["KINDRED_DATA_DIR"] = str(tmp_path / "var")
    env["PICCOLO_CONF"] = "forum.piccolo_conf"
    return env


@pytest.mark.sqlite_only
def test_init_creates_the_database_and_create_user_adds_an_admin(cli_env, tmp_path):
    first = run(["init"], cli_env)
    assert first.returncode == 0, first.stderr
    assert (tmp_path / "var" / "kindred.db").exists()
    assert run(["init"], cli_env).returncode == 0, "init is safe to run again"
    created = run(
        ["create-user", "Grace_Admin", "--role", "admin"],
        cli_env,
        stdin="a long admin passphrase\n",
    )
    assert created.returncode == 0, created.stderr
    assert "Created grace_admin (admin)" in created.stdout
    weak = run(["create-user", "someone", "--role", "member"], cli_env, stdin="short\n")
    assert weak.returncode != 0
    assert "at least 10 characters" in weak.stderr


@pytest.mark.skipif(ENGINE != "sqlite", reason="SQLite pass only: one run of the CLI is enough")
def test_demo_runs_once_only_with_if_empty(cli_env):
    assert run(["init"], cli_env).returncode == 0
    first = run(["demo", "--if-empty"], cli_env)
    assert first.returncode == 0, first.stderr
    assert "Demo data added" in first.stdout
    second = run(["demo", "--if-empty"], cli_env)
    assert "already present" in second.stdout


@pytest.mark.sqlite_only
def test_rerender_reports_what_it_did_and_is_safe_to_run_again(cli_env, tmp_path):
    assert run(["init"], cli_env).returncode == 0
    assert run(["demo"], cli_env).returncode == 0
    with sqlite3.connect(tmp_path / "var" / "kindred.db") as database:
        database.execute('UPDATE "post" SET "policy_version" = 1')
        stale = database.execute('SELECT COUNT(*) FROM "post"').fetchone()[0]
    first = run(["rerender"], cli_env)
    assert first.returncode == 0, first.stderr
    assert f"Rendered {stale:,} texts again" in first.stdout and f"post {stale:,}" in first.stdout
    second = run(["rerender"], cli_env)
    assert "Rendered 0 texts again" in second.stdout and "all were up to date" in second.stdout
