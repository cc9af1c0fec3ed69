"""`kindred serve|init|demo|create-user`: running and looking after a Kindred site."""

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

    settings = _settings()  # creates the secret key once, before any worker starts
    del settings
    config = uvicorn.Config(
        "forum.app:create_app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        server_header=False,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
    sock = listening_socket(host, port)
    print(f"Kindred is serving on http://{host}:{port} with {workers} worker(s). Ctrl+C stops it.")
    if workers > 1:
        Multiprocess(config, target=uvicorn.Server(config).run, sockets=[sock]).run()
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
    args = parser.parse_args(argv)

    from forum.errors import KindredError

    try:
        if args.command == "serve":
            serve(args.host, args.port, max(1, args.workers))
        elif args.command == "init":
            asyncio.run(init(_settings()))
        elif args.command == "demo":
            asyncio.run(demo(_settings(), args.if_empty))
        elif args.command == "create-user":
            asyncio.run(
                create_user(_settings(), args.name, args.role, _read_password(), args.email)
            )
    except KindredError as error:
        details = "; ".join(f"{field}: {message}" for field, message in error.fields.items())
        raise SystemExit(f"{error.message} {details}".strip()) from None
