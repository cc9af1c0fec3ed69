"""Where a signed-in thread page request spends its time, in-process, without HTTP or load.

Seeds the same 50-post thread as bench/thread_page.py, builds the app with create_app, signs in
through the login form over ASGI, then times (wall and CPU, all threads) each stage of the page
one request at a time: the whole request through the app, the same request through the ceiling
app, the session cookie, loading the Viewer, get_thread, and rendering the template. It counts
the queries a request runs, times each one, and prints the top of a cProfile of full requests.
Stages take turns over several rounds and the median round is shown, so a burst of load from
elsewhere on the machine does not decide the figures.

    .venv/bin/python bench/profile_thread_page.py [--engine sqlite|postgres] [--requests 500]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import re
import shutil
import statistics
import sys
import tempfile
import time
from base64 import b64decode
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import itsdangerous
from ceiling_app import create_ceiling_app
from piccolo.querystring import QueryString
from seeding import PASSWORD, READER, bench_settings, recreate_postgres_database, seed
from thread_page import use_this_checkout

from forum.settings import Settings

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
COOKIE = "kindred_session"


class Asgi:
    """Calls an ASGI app directly: no sockets, no HTTP parsing, one request at a time."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.cookie = ""

    async def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        body = urlencode(form).encode() if form else b""
        headers = [(b"host", b"127.0.0.1")]
        if self.cookie:
            headers.append((b"cookie", f"{COOKIE}={self.cookie}".encode()))
        if form:
            headers.append((b"content-type", b"application/x-www-form-urlencoded"))
        path, _, query = path.partition("?")
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "headers": headers,
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
            "root_path": "",
        }
        sent: list[dict[str, Any]] = []
        received = False

        async def receive() -> dict[str, Any]:
            nonlocal received
            if received:
                await asyncio.sleep(3600)
            received = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        start = sent[0]
        for name, value in start.get("headers", []):
            if name == b"set-cookie" and value.startswith(f"{COOKIE}=".encode()):
                self.cookie = value.decode().split(";", 1)[0].split("=", 1)[1]
        return start["status"], b"".join(m.get("body", b"") for m in sent[1:])


async def timed(make: Callable[[], Awaitable[Any]], n: int) -> tuple[float, float]:
    """Mean wall and CPU ms (process-wide, so database threads count) over n calls."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(n):
        await make()
    return (time.perf_counter() - wall) * 1000 / n, (time.process_time() - cpu) * 1000 / n


async def time_stages(
    stages: list[tuple[str, Callable[[], Awaitable[Any]]]], n: int, rounds: int
) -> dict[str, dict[str, float]]:
    """Each stage n times per round, the stages taking turns; the median round of each, so a
    burst of load from elsewhere on the machine moves one round, not the result."""
    for _, make in stages:
        for _ in range(20):
            await make()
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in stages}
    for _ in range(rounds):
        for label, make in stages:
            samples[label].append(await timed(make, n))
    return {
        label: {
            "wall_ms": statistics.median(wall for wall, _ in runs),
            "cpu_ms": statistics.median(cpu for _, cpu in runs),
        }
        for label, runs in samples.items()
    }


class QueryLog:
    """Wraps the engine class's run_querystring and run_read (engines have __slots__) to time
    every query; each entry is (SQL template, arguments, seconds)."""

    def __init__(self, engine: Any) -> None:
        self.cls = type(engine)
        self.original = self.cls.run_querystring
        self.original_read = self.cls.run_read
        self.entries: list[tuple[str, tuple[Any, ...], float]] = []
        log = self

        async def run_querystring(engine: Any, querystring: Any, *args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await log.original(engine, querystring, *args, **kwargs)
            finally:
                log.entries.append(
                    (querystring.template, tuple(querystring.args), time.perf_counter() - start)
                )

        async def run_read(engine: Any, sql: str, args: tuple[Any, ...]) -> Any:
            start = time.perf_counter()
            try:
                return await log.original_read(engine, sql, args)
            finally:
                log.entries.append((sql, args, time.perf_counter() - start))

        self.cls.run_querystring = run_querystring
        self.cls.run_read = run_read

    def close(self) -> None:
        self.cls.run_querystring = self.original
        self.cls.run_read = self.original_read


async def driver_only(engine: Any, querystrings: list[Any]) -> Callable[[], Awaitable[Any]]:
    """The page's queries straight through the driver: sqlite3 in this thread, or asyncpg."""
    import sqlite3

    from piccolo.engine.postgres import PostgresEngine

    compiled = [qs.compile_string(engine_type=engine.engine_type) for qs in querystrings]
    if isinstance(engine, PostgresEngine):

        async def run_asyncpg() -> None:
            async with engine.pool.acquire() as connection:
                for sql, args in compiled:
                    await connection.fetch(sql, *args)

        return run_asyncpg
    connection = sqlite3.connect(engine.connection_kwargs["database"])

    async def run_sqlite() -> None:
        for sql, args in compiled:
            connection.execute(sql, args).fetchall()

    return run_sqlite


async def sqlite_alternatives(
    engine: Any, querystrings: list[Any]
) -> list[tuple[str, Callable[[], Awaitable[Any]]]]:
    """The page's queries as two cheaper read paths would run them, rows as dicts with Piccolo's
    type conversions: one round trip per query to a pooled aiosqlite connection
    (execute_fetchall), or sqlite3 called on the event loop's thread with no round trip."""
    import sqlite3

    from piccolo.engine.sqlite import dict_factory

    compiled = [qs.compile_string(engine_type="sqlite") for qs in querystrings]
    pooled = await engine._pool.get()
    engine._pool.put_nowait(pooled)  # shared, but used one query at a time here
    inline = sqlite3.connect(**engine.connection_kwargs)
    inline.row_factory = dict_factory

    async def one_round_trip() -> None:
        for sql, args in compiled:
            await pooled.execute_fetchall(sql, args)

    async def on_loop_thread() -> None:
        for sql, args in compiled:
            inline.execute(sql, args).fetchall()

    return [
        ("  same, 1 round trip each (aiosqlite)", one_round_trip),
        ("  same, sqlite3 on the loop thread", on_loop_thread),
    ]


def static_variants(app: Any, path: str, html: bytes) -> tuple[Asgi, Asgi]:
    """The app's own middleware and routes, and a bare Starlette app, both answering `path`
    with the finished page: what the stacks cost with no database and no rendering."""
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.requests import Request
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    async def fixed(request: Request) -> HTMLResponse:
        request.session.get("uid")  # the app's pages read the session
        return HTMLResponse(html)

    routes = list(app.router.routes)
    index = next(i for i, r in enumerate(routes) if getattr(r, "path", "") == "/t/{thread_id:int}")
    routes[index] = Route("/t/{thread_id:int}", fixed)
    middleware = [Middleware(m.cls, *m.args, **m.kwargs) for m in app.user_middleware]
    copy = Starlette(
        routes=routes, middleware=middleware, exception_handlers=app.exception_handlers
    )
    copy.state.settings = app.state.settings

    async def bare_fixed(request: Request) -> HTMLResponse:
        return HTMLResponse(html)

    bare = Starlette(routes=[Route("/t/{thread_id:int}", bare_fixed)])
    client = Asgi(copy)
    return client, Asgi(bare)


class HopCounter:
    """Counts round trips to aiosqlite's connection threads (each is a queue put and a wake-up)."""

    def __init__(self) -> None:
        import aiosqlite.core

        self.cls = aiosqlite.core.Connection
        self.original = self.cls._execute
        self.count = 0
        counter = self

        async def _execute(connection: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
            counter.count += 1
            return await counter.original(connection, fn, *args, **kwargs)

        self.cls._execute = _execute  # type: ignore[method-assign]

    def close(self) -> None:
        self.cls._execute = self.original  # type: ignore[method-assign]


async def profile(settings: Settings, requests: int, rounds: int, top: int) -> dict[str, Any]:
    from forum import accounts, db, threads
    from forum.app import create_app, settle_heap
    from forum.web.render import create_templates

    seeded = await seed(settings)
    app = create_app(settings)
    results: dict[str, Any] = {}
    async with app.router.lifespan_context(app):
        client = Asgi(app)
        status, body = await client.request("GET", "/login")
        token = CSRF_RE.search(body.decode())
        assert status == 200 and token, status
        form = {"username": READER, "password": PASSWORD, "csrf_token": token.group(1)}
        status, _ = await client.request("POST", "/login", form)
        assert status == 303, status
        path = f"/t/{seeded.thread_id}"
        status, body = await client.request("GET", path)  # pops the welcome notice
        status, body = await client.request("GET", path)
        assert status == 200 and b'action="/logout"' in body, status
        csrf = CSRF_RE.search(body.decode())
        assert csrf

        engine = app.state.engine
        viewer = await accounts.load_viewer(seeded.reader_id, 0)
        assert viewer is not None
        data = await threads.get_thread(viewer, seeded.thread_id)
        context = {
            "viewer": viewer,
            "csrf_token": csrf.group(1),
            "notice": None,
            "crisis_resources": None,
            "settings": settings,
            "site": await app.state.site_settings.get(),
            "errors": {},
            "values": {},
            **data,
        }
        ceiling = Asgi(create_ceiling_app(context))
        ceiling.cookie = client.cookie
        template = create_templates().get_template("threads/thread.html")
        signer = itsdangerous.TimestampSigner(settings.secret_key)

        log = QueryLog(engine)
        await client.request("GET", path)
        log.close()
        queries = [(" ".join(sql.split()), seconds) for sql, _, seconds in log.entries]
        page_queries = [QueryString(sql, *args) for sql, args, _ in log.entries]

        async def render() -> str:
            return template.render({**context, "request": None})

        async def session() -> Any:
            return json.loads(b64decode(signer.unsign(client.cookie, max_age=14 * 24 * 3600)))

        driver = await driver_only(engine, page_queries)

        app_static, ceiling_static = static_variants(app, path, body)
        app_static.cookie = ceiling_static.cookie = client.cookie
        stages: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("full request, app", lambda: client.request("GET", path)),
            ("full request, ceiling", lambda: ceiling.request("GET", path)),
            ("app's middleware+routing, fixed page", lambda: app_static.request("GET", path)),
            ("ceiling's routing, fixed page", lambda: ceiling_static.request("GET", path)),
            ("session cookie: unsign + decode", session),
            ("load_viewer", lambda: accounts.load_viewer(seeded.reader_id, 0)),
            ("get_thread (all of it)", lambda: threads.get_thread(viewer, seeded.thread_id)),
            ("template render", render),
            ("db.raw('SELECT 1'): a query's floor", lambda: db.raw("SELECT 1")),
            (f"the {len(page_queries)} queries, driver only", driver),
        ]
        for number, qs in enumerate(page_queries, 1):
            stages.append(
                (f"  query {number} alone (db.read)", lambda qs=qs: db.read(qs.template, *qs.args))
            )
        if engine.engine_type == "sqlite":
            stages += await sqlite_alternatives(engine, page_queries)
        settle_heap()  # as `kindred serve` does once started
        results["stages"] = await time_stages(stages, max(1, requests // rounds), rounds)

        hops = HopCounter()
        log = QueryLog(engine)
        for _ in range(requests):
            await client.request("GET", path)
        log.close()
        hops.close()
        results["queries"] = [{"sql": sql[:140], "ms": seconds * 1000} for sql, seconds in queries]
        results["queries_per_request"] = len(log.entries) / requests
        results["query_ms_per_request"] = sum(s for _, _, s in log.entries) * 1000 / requests
        results["hops_per_request"] = hops.count / requests

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(requests):
            await client.request("GET", path)
        profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(top)
    results["cprofile"] = out.getvalue()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--requests", type=int, default=500, help="calls per stage")
    parser.add_argument("--rounds", type=int, default=5, help="turns the stages take")
    parser.add_argument("--top", type=int, default=30, help="cProfile rows to print")
    parser.add_argument(
        "--postgres-url", default="postgresql://postgres@127.0.0.1:5432/kindred_bench"
    )
    args = parser.parse_args(argv)
    use_this_checkout()
    workdir = Path(tempfile.mkdtemp(prefix="kindred-profile-"))
    try:
        if args.engine == "sqlite":
            url = f"sqlite:///{workdir / 'kindred.db'}"
        else:
            url = args.postgres_url
            asyncio.run(recreate_postgres_database(url))
        # asyncio's own loop, as `kindred serve` uses it.
        results = asyncio.run(
            profile(bench_settings(workdir, url), args.requests, args.rounds, args.top)
        )
    finally:
        if args.engine == "postgres":
            asyncio.run(recreate_postgres_database(args.postgres_url, drop_only=True))
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"{args.engine}: {args.requests} calls per stage, one at a time, in {args.rounds} rounds "
        "(median round shown)\n"
    )
    print(f"{'stage':<40}{'wall ms':>9}{'CPU ms':>9}")
    for label, row in results["stages"].items():
        print(f"{label:<40}{row['wall_ms']:9.3f}{row['cpu_ms']:9.3f}")
    print(
        f"\nqueries per request: {results['queries_per_request']:.1f}, "
        f"{results['query_ms_per_request']:.3f} ms awaiting them; "
        f"{results['hops_per_request']:.1f} round trips to aiosqlite threads"
    )
    for query in results["queries"]:
        print(f"  {query['ms']:7.3f} ms  {query['sql']}")
    print("\n" + results["cprofile"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
