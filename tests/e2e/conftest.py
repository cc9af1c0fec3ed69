"""Browser-test fixtures: a real Kindred server in a subprocess, and headless Chromium.

The server runs the installed `kindred` program against its own data folder and database on
the engine of this pass (KINDRED_TEST_DB): a fresh SQLite file, or a PostgreSQL database of its
own, since the rest of the suite truncates the shared test database between tests. It is seeded
the way an operator would: `kindred init`, `kindred create-user --role admin`, then the API.

Playwright's sync API marks its event loop as the running one for as long as it is started, so
the browser is module-scoped and stops before the session-scoped server tears down (which may
need asyncio.run to drop its PostgreSQL database).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, ViewportSize, sync_playwright

from tests.conftest import ENGINE, IN_CI, PASSWORD, POSTGRES_URL, _postgres_admin_engine

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KINDRED = Path(sys.executable).parent / "kindred"
SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
ADMIN = "ada_admin"
SERVER_START_TIMEOUT = 20.0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without Chromium, browser tests skip (with the reason), except in CI where they fail."""
    if CHROMIUM.exists() or IN_CI:
        return
    skip = pytest.mark.skip(
        reason=f"Chromium not found at {CHROMIUM}; apt-get install chromium to run"
    )
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@dataclass(frozen=True)
class LiveSite:
    """A running Kindred: where it answers, and an admin's API token for seeding."""

    url: str
    admin_headers: dict[str, str]

    def api(self, method: str, path: str, json: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call the JSON API as the admin; fail the test on anything but success."""
        response = httpx.request(
            method, f"{self.url}/api/v1{path}", json=json, headers=self.admin_headers, timeout=10
        )
        assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _create_postgres_database(name: str) -> str:
    try:
        admin = asyncio.run(_postgres_admin_engine())
    except Exception as error:
        if IN_CI:
            pytest.fail(
                f"PostgreSQL is required in CI but did not answer at {POSTGRES_URL}: {error}"
            )
        pytest.skip(
            f"no PostgreSQL server answered at {POSTGRES_URL} ({error}); start it to run this pass"
        )
    asyncio.run(admin.run_ddl(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(admin.run_ddl(f'CREATE DATABASE "{name}"'))
    return POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres_database(name: str) -> None:
    admin = asyncio.run(_postgres_admin_engine())
    asyncio.run(admin.run_ddl(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _kindred(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    result = subprocess.run(
        [str(KINDRED), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, (
        f"kindred {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    )


def _wait_until_answering(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"kindred serve exited with {server.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(
        f"kindred serve did not answer at {url} within {SERVER_START_TIMEOUT:.0f} s:\n{log.read_text()}"
    )


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the server's whole process group: politely first, then for sure."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)


@dataclass(frozen=True)
class Served:
    """A running `kindred serve`: where it answers and which database it uses."""

    url: str
    database_url: str


@contextmanager
def serving(
    tmp_path_factory: pytest.TempPathFactory, name: str, rate_limits: str
) -> Iterator[Served]:
    """`kindred serve` on a free port over a database of its own (a fresh SQLite file, or a
    PostgreSQL database, since the rest of the suite truncates the shared one), set up the way
    an operator would: `kindred init`, then `kindred create-user ADMIN --role admin`."""
    data_dir = tmp_path_factory.mktemp(name)
    postgres_name = f"kindred_{name}_{os.getpid()}"
    if ENGINE == "postgres":
        database_url = _create_postgres_database(postgres_name)
    else:
        database_url = f"sqlite:///{data_dir / 'kindred.db'}"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {key: value for key, value in os.environ.items() if not key.startswith("KINDRED_")}
    env.update(
        KINDRED_DATA_DIR=str(data_dir),
        KINDRED_DATABASE_URL=database_url,
        KINDRED_SECRET_KEY=f"{name}-secret-key-not-for-production",
        KINDRED_BASE_URL=url,
        KINDRED_RATE_LIMITS=rate_limits,
    )
    server: subprocess.Popen[bytes] | None = None
    log_path = data_dir / "server.log"
    try:
        _kindred(env, "init")
        _kindred(env, "create-user", ADMIN, "--role", "admin", stdin=f"{PASSWORD}\n")
        with log_path.open("wb") as log:
            server = subprocess.Popen(
                [str(KINDRED), "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_until_answering(url, server, log_path)
        yield Served(url=url, database_url=database_url)
    finally:
        if server is not None:
            _stop(server)
        if ENGINE == "postgres":
            _drop_postgres_database(postgres_name)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    """`kindred serve` on a free port, with an admin and the public community "Celiac disease"."""
    # Every browser test registers and signs in from 127.0.0.1.
    with serving(tmp_path_factory, "e2e", "register_ip=1000/3600,sign_in_ip=1000/300") as served:
        response = httpx.post(
            f"{served.url}/api/v1/auth/token",
            json={"username": ADMIN, "password": PASSWORD},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        site = LiveSite(
            url=served.url,
            admin_headers={"Authorization": f"Bearer {response.json()['token']}"},
        )
        site.api(
            "POST",
            "/communities",
            {
                "slug": "celiac",
                "name": "Celiac disease",
                "description": "For people living with **celiac disease** and those who care for them.",
                "visibility": "public",
            },
        )
        yield site


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium (Playwright never downloads a browser here)."""
    if not CHROMIUM.exists():
        pytest.fail(f"CI needs Chromium at {CHROMIUM} for the browser tests")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser: Browser, live_server: LiveSite) -> Iterator[Page]:
    """A fresh phone-sized tab with its own cookies."""
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    context.set_default_timeout(5_000)
    # Init scripts run outside the page's CSP; this one turns every violation into a console
    # error, including ones the browser would otherwise only send to a report-uri.
    context.add_init_script(
        "document.addEventListener('securitypolicyviolation', (e) => console.error("
        "'CSP violation: ' + e.violatedDirective + ' blocked ' + e.blockedURI));"
    )
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def browser_problems(page: Page) -> list[str]:
    """Console errors, uncaught exceptions and CSP violations on `page`; should stay empty."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" or "Content Security Policy" in message.text:
            source = message.location.get("url") or page.url
            problems.append(f"console {message.type} ({source}): {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"uncaught error on {page.url}: {error}"))
    return problems
