"""Shared fixtures: an app per test over a fresh database, people in every role, factories.

The engine is chosen per pass, as Piccolo's own test scripts do: KINDRED_TEST_DB=sqlite (the
default) or postgres. The PostgreSQL pass uses its own database per run, so parallel runs do
not collide, and skips with a reason when no server answers, except in CI, where it fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import re
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from forum import accounts, communities, db, threads
from forum.permissions import Viewer
from forum.settings import RateLimit, Settings

ENGINE = os.environ.get("KINDRED_TEST_DB", "sqlite")
POSTGRES_URL = os.environ.get(
    "KINDRED_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PASSWORD = "correct horse battery"
GENEROUS = RateLimit(10_000, 60)
# New members' daily post limit is a rate limit too: generous here, like the ones above, so
# tests can post as much as they need. tests/moderation checks the real limits.
GENEROUS_TRUST = "[limits.0]\nposts_per_day = 100000\n"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if ENGINE == "postgres" and item.get_closest_marker("sqlite_only"):
            item.add_marker(
                pytest.mark.skip(reason="SQLite-only test, this is the PostgreSQL pass")
            )
        if ENGINE == "sqlite" and item.get_closest_marker("postgres_only"):
            item.add_marker(
                pytest.mark.skip(reason="PostgreSQL-only test, this is the SQLite pass")
            )


def pytest_report_header(config: pytest.Config) -> str:
    return f"kindred test database: {ENGINE}"


async def _postgres_admin_engine() -> Any:
    settings = Settings(data_dir=Path("."), database_url=POSTGRES_URL, secret_key="x")
    engine = db.create_engine(settings)
    await engine.run_ddl("SELECT 1")
    return engine


@pytest.fixture(scope="session")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database for this run: a template file (SQLite) or a fresh database (PostgreSQL)."""
    if ENGINE == "sqlite":
        folder = tmp_path_factory.mktemp("template")
        url = f"sqlite:///{folder / 'template.db'}"
        engine = db.create_engine(Settings(data_dir=folder, database_url=url, secret_key="x"))
        asyncio.run(db.migrate(engine))
        yield url
        return
    name = f"kindred_test_{os.getpid()}"
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
    asyncio.run(admin.run_ddl(f'DROP DATABASE IF EXISTS "{name}"'))
    asyncio.run(admin.run_ddl(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = db.create_engine(Settings(data_dir=Path("."), database_url=url, secret_key="x"))
    asyncio.run(db.migrate(engine))
    yield url
    asyncio.run(admin.run_ddl(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _truncate_postgres(url: str) -> None:
    """Empty the tables the last test wrote to, and restart every id at 1.

    TRUNCATE costs ~20 ms a table whether it holds rows or not, which made it most of this
    pass's time; DELETE of a test's few rows costs next to nothing. Replica mode switches
    off triggers for this session only: the foreign keys (every written table is emptied)
    and the audit log's append-only guard (moderation.audit), which is for the app, not for
    resetting a test database."""
    import asyncpg
    from piccolo.apps.migrations.tables import Migration

    names = [table._meta.tablename for table in db.all_tables() if table is not Migration]
    connection = await asyncpg.connect(url)
    try:
        probe = " UNION ALL ".join(
            f"(SELECT '{name}' AS name FROM \"{name}\" LIMIT 1)" for name in names
        )
        written = [row["name"] for row in await connection.fetch(probe)]
        resets = ", ".join(
            f"setval(pg_get_serial_sequence('\"{name}\"', 'id'), 1, false)" for name in names
        )
        deletes = "".join(f'DELETE FROM "{name}"; ' for name in written)
        await connection.execute(
            f"SET session_replication_role = replica; {deletes}SELECT {resets}"
        )
    finally:
        await connection.close()


@pytest.fixture
def settings(tmp_path: Path, database: str) -> Settings:
    """Settings for one test: its own data folder and a clean database; generous rate limits."""
    (tmp_path / "moderation").mkdir()
    (tmp_path / "moderation" / "trust.toml").write_text(GENEROUS_TRUST)
    if ENGINE == "sqlite":
        template = Path(database.removeprefix("sqlite:///"))
        shutil.copyfile(template, tmp_path / "kindred.db")
        url = f"sqlite:///{tmp_path / 'kindred.db'}"
    else:
        asyncio.run(_truncate_postgres(database))
        url = database
    return Settings(
        data_dir=tmp_path,
        database_url=url,
        secret_key="test-secret-key-not-for-production",
        password_cost=2**10,
        rate_limits={
            name: GENEROUS for name in ("sign_in_ip", "sign_in_user", "register_ip", "post_user")
        },
        db_pool_min=1,
        db_pool_max=4,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    from forum.app import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def make_client(app: Any) -> Callable[[], httpx.AsyncClient]:
    """Another browser: its own cookies, for a second person in the same test."""

    def make() -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 40001))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    return make


# People ---------------------------------------------------------------------------------


async def make_user(settings: Settings, username: str, role: str = "member") -> dict[str, Any]:
    user = await accounts.register(
        settings,
        accounts.Registration(username=username, password=PASSWORD, display_name=username.title()),
        role=role,
    )
    return {**user, "password": PASSWORD}


async def viewer_of(user: dict[str, Any]) -> Viewer:
    """The Viewer a request from this person would get, with their current memberships."""
    viewer = await accounts.load_viewer(user["id"], await accounts.session_epoch(user["id"]))
    assert viewer is not None
    return viewer


@pytest.fixture
def user_factory(app: Any, settings: Settings) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def make(*, username: str, role: str = "member") -> dict[str, Any]:
        return await make_user(settings, username, role)

    return make


@pytest.fixture
async def admin(app: Any, settings: Settings) -> dict[str, Any]:
    return await make_user(settings, "ada_admin", "admin")


@pytest.fixture
async def community(app: Any, admin: dict[str, Any]) -> dict[str, Any]:
    """A public community."""
    return await communities.create_community(
        await viewer_of(admin),
        slug="celiac",
        name="Celiac disease",
        description="For people living with **celiac disease** and those who care for them.",
    )


@pytest.fixture
async def private_community(app: Any, admin: dict[str, Any]) -> dict[str, Any]:
    return await communities.create_community(
        await viewer_of(admin),
        slug="hiv-support",
        name="Living with HIV",
        visibility="private",
        description="A private space.",
    )


@pytest.fixture
async def member(app: Any, settings: Settings, community: dict[str, Any]) -> dict[str, Any]:
    """A member of the public community."""
    user = await make_user(settings, "maria")
    await communities.join(await viewer_of(user), community["slug"])
    return user


@pytest.fixture
async def other_member(app: Any, settings: Settings, community: dict[str, Any]) -> dict[str, Any]:
    user = await make_user(settings, "dev_caregiver")
    await communities.join(await viewer_of(user), community["slug"])
    return user


@pytest.fixture
async def outsider(app: Any, settings: Settings) -> dict[str, Any]:
    """Signed in, but a member of no community."""
    return await make_user(settings, "stranger")


@pytest.fixture
async def moderator(
    app: Any, settings: Settings, admin: dict[str, Any], community: dict[str, Any]
) -> dict[str, Any]:
    """Moderates the public community."""
    user = await make_user(settings, "grace_mod", "moderator")
    await communities.add_member(
        await viewer_of(admin), community["slug"], user["username"], role="moderator"
    )
    return user


@pytest.fixture
async def clinician(app: Any, settings: Settings, community: dict[str, Any]) -> dict[str, Any]:
    user = await make_user(settings, "dr_okafor", "clinician")
    await communities.join(await viewer_of(user), community["slug"])
    return user


@pytest.fixture
def thread_factory(app: Any, settings: Settings) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def make(
        *,
        community: dict[str, Any],
        author: dict[str, Any],
        title: str = "Eating out safely when travelling?",
        body: str = "Any tips for **gluten free** restaurants abroad?",
        kind: str = "discussion",
    ) -> dict[str, Any]:
        return await threads.start_thread(
            settings,
            await viewer_of(author),
            community["slug"],
            threads.Draft(title=title, body=body, kind=kind),
        )

    return make


@pytest.fixture
def reply_factory(app: Any, settings: Settings) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def make(
        *,
        thread: dict[str, Any],
        author: dict[str, Any],
        body: str = "Me too! Try the app *Find Me GF*.",
    ) -> dict[str, Any]:
        return await threads.post_reply(settings, await viewer_of(author), thread["id"], body)

    return make


# The demo site ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_snapshot(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The seeded demo, kept by the first test that asks for `demo_site`: a database file
    (SQLite) or every table's rows (PostgreSQL)."""
    return {"folder": tmp_path_factory.mktemp("demo")}


@pytest.fixture
async def demo_site(app: Any, settings: Settings, demo_snapshot: dict[str, Any]) -> None:
    """This test's database holds the demo (forum.demo.seed), as after `kindred demo`.

    Seeding takes about a second; the first test seeds, later ones get a copy. Tests of
    seeding itself call demo.seed instead."""
    from forum import demo

    if "rows" not in demo_snapshot:
        await demo.seed(settings)
        demo_snapshot["rows"] = await _snapshot(settings, demo_snapshot["folder"])
    else:
        await _restore(settings, demo_snapshot["rows"])


def _sqlite_path(settings: Settings) -> str:
    return settings.database_url.removeprefix("sqlite:///")


async def _snapshot(settings: Settings, folder: Path) -> Any:
    import sqlite3

    from piccolo.apps.migrations.tables import Migration

    if ENGINE == "sqlite":
        copy = folder / "demo.db"
        with sqlite3.connect(_sqlite_path(settings)) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        return copy
    import asyncpg

    connection = await asyncpg.connect(settings.database_url)
    try:
        tables = [t._meta.tablename for t in db.all_tables() if t is not Migration]
        return {name: await connection.fetch(f'SELECT * FROM "{name}"') for name in tables}
    finally:
        await connection.close()


async def _restore(settings: Settings, rows: Any) -> None:
    """Copy the snapshot into this test's (empty, migrated) database, under the app's feet:
    SQLite's backup replaces the file's pages; PostgreSQL's rows go in without triggers, which
    would otherwise count and notify as if they were being written anew."""
    import sqlite3

    if ENGINE == "sqlite":
        with sqlite3.connect(rows) as source, sqlite3.connect(_sqlite_path(settings)) as target:
            source.backup(target)
        return
    import asyncpg

    connection = await asyncpg.connect(settings.database_url)
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL session_replication_role = replica")
            for name, records in rows.items():
                await connection.execute(f'DELETE FROM "{name}"')  # what the app's start wrote
                if records:
                    await connection.copy_records_to_table(
                        name, records=records, columns=list(records[0].keys())
                    )
                    await connection.execute(
                        f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                        f'(SELECT MAX("id") FROM "{name}"))'
                    )
    finally:
        await connection.close()


# Browsers and programs ---------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_from(client: httpx.AsyncClient, path: str = "/login") -> str:
    """The CSRF token a form on `path` carries for this client's session."""
    response = await client.get(path)
    match = CSRF_RE.search(response.text)
    assert match, f"no CSRF token on {path} ({response.status_code})"
    return match.group(1)


async def sign_in(client: httpx.AsyncClient, user: dict[str, Any]) -> None:
    token = await csrf_from(client, "/login")
    response = await client.post(
        "/login",
        data={"username": user["username"], "password": user["password"], "csrf_token": token},
    )
    assert response.status_code == 303, response.text


async def api_token(client: httpx.AsyncClient, user: dict[str, Any]) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/token", json={"username": user["username"], "password": user["password"]}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict[str, str], form_page: str | None = None
) -> httpx.Response:
    """Submit a form the way a browser does: fetch a page for the token, then post."""
    token = await csrf_from(client, form_page or "/")
    return await client.post(path, data={**data, "csrf_token": token})


def shows(response: httpx.Response, text: str) -> bool:
    """True when the page shows `text` (as the template escaped it)."""
    from markupsafe import escape

    return str(escape(text)) in response.text


class QueryCounter:
    """Counts the statements an engine runs, on Piccolo's path and on db.read's fast path."""

    def __init__(self) -> None:
        self.count = 0


@contextlib.contextmanager
def counting_queries(app: Any) -> Iterator[QueryCounter]:
    """Count every query the app's engine runs inside the block."""
    engine_class = type(app.state.engine)
    counter = QueryCounter()
    original_querystring = engine_class.run_querystring
    original_read = engine_class.run_read

    in_read = contextvars.ContextVar("in_read", default=False)

    async def run_querystring(self: Any, querystring: Any, *args: Any, **kwargs: Any) -> Any:
        if not in_read.get():  # a fast read that falls back to this path counts once
            counter.count += 1
        return await original_querystring(self, querystring, *args, **kwargs)

    async def run_read(self: Any, sql: str, args: tuple[Any, ...]) -> Any:
        counter.count += 1
        token = in_read.set(True)
        try:
            return await original_read(self, sql, args)
        finally:
            in_read.reset(token)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine_class, "run_querystring", run_querystring)
        patch.setattr(engine_class, "run_read", run_read)
        yield counter
