"""The database engine: chosen from settings, bound to every table, migrated by Piccolo.

SQLite gets WAL, a busy timeout, IMMEDIATE write transactions and a small pool of persistent
connections for single statements (Piccolo's engine opens a new connection per query, which
costs ~2 ms a query; see shared/STACK.md). PostgreSQL gets a bounded asyncpg pool, started in
the app's lifespan.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlparse

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, dict_factory
from piccolo.table import Table
from piccolo.utils.sync import run_sync

from forum.settings import Settings, piccolo_conf_module

SQLITE_BUSY_TIMEOUT = 30.0


class KindredSQLiteEngine(SQLiteEngine):
    """SQLite with WAL and a pool of persistent autocommit connections for reads."""

    __slots__ = ("_all", "_pool", "_pool_size")

    def __init__(self, path: str, pool_size: int = 4) -> None:
        super().__init__(path=path, timeout=SQLITE_BUSY_TIMEOUT)
        self._pool: asyncio.Queue[aiosqlite.Connection] | None = None
        self._pool_size = pool_size
        self._all: list[aiosqlite.Connection] = []

    async def get_connection(self) -> aiosqlite.Connection:
        connection = aiosqlite.connect(**self.connection_kwargs)
        # A connection someone forgot to close must not keep the process alive at exit
        # (the app's lifespan closes the pool; this is the safety net).
        thread = getattr(connection, "_thread", None)
        if thread is not None:
            thread.daemon = True
        await connection
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        await connection.execute("PRAGMA busy_timeout = 30000")
        return connection

    async def start_connection_pool(self, **_: Any) -> None:
        if self._pool is not None:
            return
        pool: asyncio.Queue[aiosqlite.Connection] = asyncio.Queue()
        for _ in range(self._pool_size):
            connection = await self.get_connection()
            connection.row_factory = dict_factory  # type: ignore[assignment]
            self._all.append(connection)
            pool.put_nowait(connection)
        self._pool = pool

    async def close_connection_pool(self) -> None:
        pool, self._pool = self._pool, None
        connections, self._all = self._all, []
        if pool is None:
            return
        for connection in connections:
            await connection.close()

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        if self._pool is None:
            return await super()._run_in_new_connection(query, args, query_type, table)
        connection = await self._pool.get()
        try:
            # One hop to the connection's thread (execute + fetch), not three.
            return await connection.execute_fetchall(query, args or [])
        finally:
            self._pool.put_nowait(connection)


def create_engine(settings: Settings) -> Engine:
    """The engine the settings ask for (not yet connected)."""
    if settings.is_sqlite:
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        return KindredSQLiteEngine(path=str(path))
    url = urlparse(settings.database_url)
    config = {
        "host": url.hostname or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "database": (url.path or "/postgres").lstrip("/") or "postgres",
    }
    if url.password:
        config["password"] = url.password
    return PostgresEngine(config=config)


def all_tables() -> list[type[Table]]:
    """Every table of every app in the registry, Piccolo's migration table included."""
    from piccolo.apps.migrations.tables import Migration

    from forum.piccolo_conf import APP_REGISTRY

    tables: list[type[Table]] = []
    for app_config in APP_REGISTRY.app_configs.values():
        tables.extend(app_config.table_classes)
    return [*tables, Migration]


def bind_engine(engine: Engine) -> None:
    """Point every table, and Piccolo's migration runner, at this engine."""
    import forum.piccolo_conf as conf

    conf.DB = engine
    for table in all_tables():
        table._meta.db = engine


async def start(engine: Engine, settings: Settings) -> None:
    """Open the engine's pool (called from the app's lifespan)."""
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(
            min_size=settings.db_pool_min, max_size=settings.db_pool_max
        )
    elif isinstance(engine, KindredSQLiteEngine):
        await engine.start_connection_pool()


async def stop(engine: Engine) -> None:
    """Close the engine's pool."""
    if isinstance(engine, PostgresEngine | KindredSQLiteEngine):
        await engine.close_connection_pool()


async def migrate(engine: Engine, quiet: bool = True) -> None:
    """Apply every Piccolo migration not yet applied, on either engine."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    piccolo_conf_module()
    bind_engine(engine)
    if isinstance(engine, SQLiteEngine):
        # WAL lets readers carry on while one writer commits; it persists in the file.
        await engine.run_ddl("PRAGMA journal_mode=WAL")
    with contextlib.redirect_stdout(None) if quiet else contextlib.nullcontext():
        result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}")


def migrate_sync(engine: Engine, quiet: bool = True) -> None:
    run_sync(migrate(engine, quiet=quiet))


@contextlib.asynccontextmanager
async def transaction() -> AsyncIterator[None]:
    """One write transaction: IMMEDIATE on SQLite so concurrent writers queue, not fail."""
    from piccolo.engine.sqlite import TransactionType

    from forum.tables import User

    engine = User._meta.db
    if isinstance(engine, SQLiteEngine):
        async with engine.transaction(transaction_type=TransactionType.immediate):
            yield
    else:
        async with engine.transaction():
            yield


async def raw(sql: str, *args: Any) -> list[dict[str, Any]]:
    """A raw statement on the bound engine, with `{}` placeholders (Piccolo's style)."""
    from forum.tables import User

    return await User.raw(sql, *args)


async def refresh_reply_count(thread_id: int, touched_at: Any = None) -> None:
    """Recompute a thread's derived reply count (its published replies) and whether a verified
    clinician answered it (a published reply carrying a credential), and its last activity
    when `touched_at` is given. Shared by posting, deleting and moderators' decisions."""
    await raw(
        'UPDATE "thread" SET "reply_count" = (SELECT COUNT(*) FROM "post" p '
        'WHERE p."thread" = {} AND p."is_opening" = {} AND p."status" = {}), '
        '"expert_answered" = EXISTS (SELECT 1 FROM "post" p WHERE p."thread" = {} '
        'AND p."is_opening" = {} AND p."status" = {} AND p."author_credential" IS NOT NULL)'
        + (', "last_activity_at" = {}' if touched_at is not None else "")
        + ' WHERE "id" = {}',
        thread_id,
        False,
        "published",
        thread_id,
        False,
        "published",
        *([touched_at] if touched_at is not None else []),
        thread_id,
    )


__all__ = [
    "all_tables",
    "bind_engine",
    "create_engine",
    "migrate",
    "raw",
    "refresh_reply_count",
    "transaction",
]
