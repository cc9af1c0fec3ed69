"""Crashes under load: kill -9 the search writer alone, then the server, while members post.

A short run of bench/load.py (its docstring says what it checks) on this pass's engine: eight
members for nine seconds against a real `kindred serve` with the search writer as a process of
its own (KINDRED_SEARCH_WRITER=separate). The writer is killed at 1.5 s and stays down 3 s; the
server's whole process group is killed at 5 s and started again.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ENGINE, _truncate_postgres

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.append(str(BENCH))  # after everything else: bench scripts must shadow nothing

import load  # noqa: E402


@pytest.fixture(scope="module")
def crashed_run(tmp_path_factory: pytest.TempPathFactory, database: str) -> Any:
    """One load run with both kills, shared by the tests below, on the suite's migrated
    database (a copy of the SQLite template; the PostgreSQL one, emptied first)."""
    if ENGINE == "postgres":
        asyncio.run(_truncate_postgres(database))
    config = load.Config(
        engine=ENGINE,
        workers=1,
        duration=9.0,
        members=8,
        kill_at=5.0,
        kill_search_writer_at=1.5,
        writer_down=3.0,
        migrated_url=database,
        threads_per_community=3,
        workdir=tmp_path_factory.mktemp("crash"),
        search_timeout=60.0,
        mail_timeout=30.0,
        quiet=True,
    )
    return asyncio.run(load.run(config))


def test_killing_the_server_and_the_search_writer_loses_and_duplicates_nothing(
    crashed_run: Any,
) -> None:
    assert crashed_run.problems == [], load.table(crashed_run)


def test_every_acknowledged_reply_is_stored_and_findable_after_both_kills(
    crashed_run: Any,
) -> None:
    assert crashed_run.acknowledged > 5
    assert crashed_run.missing == []
    assert crashed_run.not_found == []
    assert crashed_run.outbox_left == 0


def test_the_server_answers_and_the_index_catches_up_within_seconds_of_a_restart(
    crashed_run: Any,
) -> None:
    kinds = {recovery.what: recovery for recovery in crashed_run.recoveries}
    writer, server = kinds["search writer alone"], kinds["server (kill -9 the group)"]
    assert writer.backlog > 0  # replies made while it was down waited in the outbox
    assert server.integrity in ("ok", "-") and writer.integrity in ("ok", "-")
    assert server.to_first_answer < 20
    assert writer.to_caught_up < 20 and server.to_caught_up < 20


def test_mail_goes_out_once_each_through_the_crash(crashed_run: Any) -> None:
    assert crashed_run.mail_delivered > 0
    assert crashed_run.mail_delivered_twice == 0
    assert crashed_run.duplicate_mail_rows == 0
    assert crashed_run.duplicate_notifications == 0
