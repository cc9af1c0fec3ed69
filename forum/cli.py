"""`kindred serve|init|demo|create-user|reindex|rerender|search-status|search-writer`: running and
looking after a Kindred site."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import socket
import sys
from collections.abc import Sequence

from forum.settings import Settings


def _settings() -> Settings:
    return Settings.from_env()


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening socket with TCP_NODELAY, inherited by every accepted connection.

    uvicorn's own socket for --workers lacks it, and keep-alive requests then stall on
    delayed ACKs (~40 ms each; shared/STACK.md)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(host: str, port: int, workers: int) -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    _settings()  # creates the secret key once, before any worker starts
    config = uvicorn.Config(
        "forum.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        # asyncio's own loop, not uvloop: under saturation uvloop served some connections
        # ten times later than others (p99 1.2 s at p50 100 ms), asyncio's serves them in turn
        # for about the same throughput (docs/performance.md).
        loop="asyncio",
        server_header=False,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    sock = listening_socket(host, port)
    print(f"Kindred is serving on http://{host}:{port} with {workers} worker(s). Ctrl+C stops it.")
    if workers > 1:
        # uvicorn >= 0.36: each worker process builds its own Server from the config.
        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run(sockets=[sock])


async def init(settings: Settings) -> None:
    """Apply migrations (creating the SQLite file and data folder if needed)."""
    from forum import db

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = db.create_engine(settings)
    await db.migrate(engine)
    print(f"Database is up to date ({'SQLite' if settings.is_sqlite else 'PostgreSQL'}).")


async def demo(settings: Settings, if_empty: bool) -> None:
    from forum import db
    from forum import demo as demo_data

    engine = db.create_engine(settings)
    db.bind_engine(engine)
    await db.start(engine, settings)
    try:
        if if_empty and await demo_data.has_content():
            print("Demo data already present; leaving it as it is.")
            return
        summary = await demo_data.seed(settings)
        print(
            f"Demo data added: {summary}. Sign in as any demo member with the password 'kindred-demo-2026'."
        )
    finally:
        await db.stop(engine)


async def create_user(settings: Settings, name: str, role: str, password: str, email: str) -> None:
    from forum import accounts, db

    engine = db.create_engine(settings)
    db.bind_engine(engine)
    user = await accounts.register(
        settings, accounts.Registration(username=name, password=password, email=email), role=role
    )
    print(f"Created {user['username']} ({role}).")


class ProgressBar:
    """A one-line text progress bar on stderr (no dependency; redrawn at most 10 times a second)."""

    def __init__(self, total: int, label: str = "documents", width: int = 30) -> None:
        import time

        self.total = total
        self.label = label
        self.width = width
        self.started = time.monotonic()
        self._drawn = 0.0
        self._clock = time.monotonic

    def __call__(self, done: int) -> None:
        now = self._clock()
        if now - self._drawn < 0.1 and done < self.total:
            return
        self._drawn = now
        share = min(1.0, done / self.total) if self.total else 1.0
        filled = int(self.width * share)
        sys.stderr.write(
            f"\r[{'#' * filled}{'.' * (self.width - filled)}] {done:,}/{self.total:,} "
            f"{self.label} ({share:.0%}) {now - self.started:.1f} s"
        )
        sys.stderr.flush()

    def finish(self) -> float:
        self(self.total)
        sys.stderr.write("\n")
        return self._clock() - self.started


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.1f} MB"


async def reindex(settings: Settings) -> None:
    """Rebuild the search index from the database, with a progress bar."""
    from forum import db
    from search import writer
    from search.backends import create_index

    engine = db.create_engine(settings)
    db.bind_engine(engine)
    await db.start(engine, settings)
    index = create_index(settings.search_backend, settings.index_dir, build_procs=2)
    try:
        await index.open()
        bar = ProgressBar(await writer.count_documents())
        count = await writer.rebuild(index, progress=bar)
        seconds = bar.finish()
        stats = await index.stats()
        print(
            f"Search index rebuilt ({index.name}): {count:,} documents, "
            f"{_megabytes(stats.size_bytes)}, in {seconds:.1f} s."
        )
    finally:
        await index.close()
        await db.stop(engine)


async def rerender(settings: Settings) -> None:
    """Render again every stored text whose HTML an older content policy made."""
    from forum import db
    from forum import rerender as rerendering

    engine = db.create_engine(settings)
    db.bind_engine(engine)
    await db.start(engine, settings)
    try:
        bar = ProgressBar(await rerendering.pending(), label="texts")
        done = await rerendering.rerender_all(progress=bar)
        seconds = bar.finish()
        changed = ", ".join(f"{table} {count:,}" for table, count in done.items() if count)
        print(
            f"Rendered {sum(done.values()):,} texts again with content policy "
            f"{rerendering.content.POLICY_VERSION} in {seconds:.1f} s"
            + (f" ({changed})." if changed else "; all were up to date.")
        )
    finally:
        await db.stop(engine)


async def search_status(settings: Settings) -> None:
    """How far the index is behind the database, and how big it is."""
    from datetime import UTC, datetime

    from forum import db
    from search import outbox
    from search.backends import create_index

    engine = db.create_engine(settings)
    db.bind_engine(engine)
    await db.start(engine, settings)
    try:
        pending = await outbox.pending_count()
        oldest = await outbox.oldest_pending()
        age = (
            f" (oldest {(datetime.now(UTC) - oldest).total_seconds():,.1f} s ago)" if oldest else ""
        )
        where = settings.index_dir if settings.search_backend == "whoosh" else "the database"
        print(f"Search backend: {settings.search_backend} ({where})")
        print(f"Pending outbox rows: {pending:,}{age}")
        if settings.search_backend == "whoosh" and not settings.index_dir.exists():
            print("Index: not built yet (the server builds it on start; or run `kindred reindex`).")
            return
        index = create_index(settings.search_backend, settings.index_dir)
        await index.open()
        try:
            stats = await index.stats()
        finally:
            await index.close()
        print(f"Indexed documents: {stats.documents:,}; size: {_megabytes(stats.size_bytes)}")
    finally:
        await db.stop(engine)


async def run_search_writer(settings: Settings) -> None:
    """Drain the search outbox into the index until SIGTERM or Ctrl+C: the search writer as a
    process of its own, for KINDRED_SEARCH_WRITER=separate (app processes then run none)."""
    import signal

    from forum import db
    from search import writer
    from search.backends import create_index

    engine = db.create_engine(settings)
    db.bind_engine(engine)
    await db.start(engine, settings)
    index = create_index(settings.search_backend, settings.index_dir)
    try:
        fresh = await index.open()
        # An app process may have created the (empty) index first: build it all the same.
        if not fresh and not (await index.stats()).documents:
            fresh = await writer.count_documents() > 0
        background = writer.Writer(index, rebuild_first=fresh)
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stopping.set)
        background.start()
        print(f"Kindred's search writer is running ({index.name}). Ctrl+C stops it.", flush=True)
        await stopping.wait()
        await background.stop()
    finally:
        await index.close()
        await db.stop(engine)


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != first:
            raise SystemExit("The passwords don't match.")
        return first
    return sys.stdin.readline().rstrip("\n")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="kindred", description="Run and look after a Kindred site."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="serve the site")
    serve_parser.add_argument("--host", default="127.0.0.1")
    serve_parser.add_argument("--port", type=int, default=8000)
    serve_parser.add_argument("--workers", type=int, default=1)
    commands.add_parser("init", help="create or update the database schema")
    demo_parser = commands.add_parser(
        "demo", help="add sample communities, people and conversations"
    )
    demo_parser.add_argument(
        "--if-empty", action="store_true", help="only when the site has no communities"
    )
    user_parser = commands.add_parser(
        "create-user", help="create an account (password from stdin or a prompt)"
    )
    user_parser.add_argument("name")
    user_parser.add_argument(
        "--role", default="member", choices=["admin", "moderator", "clinician", "member"]
    )
    user_parser.add_argument("--email", default="")
    commands.add_parser("reindex", help="rebuild the search index from the database")
    commands.add_parser(
        "rerender", help="render stored texts again after the content policy changed"
    )
    commands.add_parser("search-status", help="pending search changes, and the index's size")
    commands.add_parser(
        "search-writer",
        help="run the search writer alone (for KINDRED_SEARCH_WRITER=separate)",
    )
    args = parser.parse_args(argv)

    from forum.errors import KindredError

    try:
        if args.command == "serve":
            serve(args.host, args.port, max(1, args.workers))
        elif args.command == "init":
            asyncio.run(init(_settings()))
        elif args.command == "demo":
            asyncio.run(demo(_settings(), args.if_empty))
        elif args.command == "reindex":
            asyncio.run(reindex(_settings()))
        elif args.command == "rerender":
            asyncio.run(rerender(_settings()))
        elif args.command == "search-status":
            asyncio.run(search_status(_settings()))
        elif args.command == "search-writer":
            asyncio.run(run_search_writer(_settings()))
        elif args.command == "create-user":
            asyncio.run(
                create_user(_settings(), args.name, args.role, _read_password(), args.email)
            )
    except KindredError as error:
        details = "; ".join(f"{field}: {message}" for field, message in error.fields.items())
        raise SystemExit(f"{error.message} {details}".strip()) from None
