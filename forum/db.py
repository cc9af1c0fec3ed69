"""The database engine: chosen from settings, bound to every table, migrated by Piccolo.

SQLite gets WAL, a busy timeout, IMMEDIATE write transactions and a small pool of persistent
connections for single statements (Piccolo's engine opens a new connection per query, which
costs ~2 ms a query; see shared/STACK.md). PostgreSQL gets a bounded asyncpg pool, started in
the app's lifespan.

`read` is the fast path for the short, indexed reads every page makes (the viewer, a thread
and its posts): it skips Piccolo's query objects and, on SQLite, the hop to a connection thread
(docs/performance.md measured both). Everything else goes through `raw` or Piccolo.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from string import Formatter
from typing import Any
from urllib.parse import urlparse

import aiosqlite
import asyncpg
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, dict_factory
from piccolo.querystring import QueryString
from piccolo.table import Table
from piccolo.utils.sync import run_sync

from forum.settings import Settings, piccolo_conf_module

SQLITE_BUSY_TIMEOUT = 30.0
# How long an inline read may wait on a lock before it moves to a connection thread instead: the
# event loop must not stall (in WAL mode readers almost never wait at all).
INLINE_READ_TIMEOUT = 0.05
# PostgreSQL connections each process keeps for short reads, besides its pool (_Readers).
READ_CONNECTIONS = 4


def _placeholders(sql: str, style: str) -> str:
    """`{}` placeholders as the driver's: `?` (sqlite3) or `$1, $2, ...` (asyncpg)."""
    out, index = [], 0
    for literal, field, _, _ in Formatter().parse(sql):
        out.append(literal)
        if field is not None:
            index += 1
            out.append("?" if style == "sqlite" else f"${index}")
    return "".join(out)


_COMPILED: dict[tuple[str, str], str] = {}


def _compiled(sql: str, style: str) -> str:
    key = (sql, style)
    text = _COMPILED.get(key)
    if text is None:
        if len(_COMPILED) > 2000:  # statements built per call must not grow this forever
            _COMPILED.clear()
        text = _COMPILED[key] = _placeholders(sql, style)
    return text


class _InTurn:
    """asyncpg's pool, handing out connections in the order they were asked for.

    asyncpg keeps idle connections in an asyncio queue, and a request arriving while an earlier
    one is being woken takes the connection it was woken for; the earlier one goes to the back
    of the line, and under load some requests lose that race many times (a thread page's p99
    was 500-640 ms at a p50 of 65 ms; docs/performance.md). A semaphore as wide as the pool,
    first come, first served since CPython's gh-93222 (tests/forum/test_db_pool.py checks it),
    puts them in line before the pool, so the pool itself never makes anyone wait.
    """

    __slots__ = ("_pool", "_turns")

    def __init__(self, pool: Any, size: int) -> None:
        self._pool = pool
        self._turns = asyncio.Semaphore(size)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pool, name)

    def acquire(self, *, timeout: float | None = None) -> _Acquiring:
        """Like asyncpg's `Pool.acquire`: awaited, or used as `async with`."""
        return _Acquiring(self, timeout)

    async def _acquire(self, limit: float | None) -> Any:
        await self._turns.acquire()
        try:
            return await self._pool.acquire(timeout=limit)
        except BaseException:
            self._turns.release()
            raise

    async def release(self, connection: Any, **options: Any) -> None:
        """Like asyncpg's `Pool.release`, then the next in line gets the connection."""
        try:
            await self._pool.release(connection, **options)
        finally:
            self._turns.release()


class _Acquiring:
    """One `_InTurn.acquire()`, as asyncpg's acquire context is: awaitable or `async with`."""

    __slots__ = ("_connection", "_pool", "_timeout")

    def __init__(self, pool: _InTurn, timeout: float | None) -> None:
        self._pool = pool
        self._timeout = timeout
        self._connection: Any = None

    def __await__(self) -> Any:
        return self._pool._acquire(self._timeout).__await__()

    async def __aenter__(self) -> Any:
        self._connection = await self._pool._acquire(self._timeout)
        return self._connection

    async def __aexit__(self, *_: object) -> None:
        connection, self._connection = self._connection, None
        await self._pool.release(connection)


class _Readers:
    """A few PostgreSQL connections of the engine's own, lent for one autocommit read each.

    asyncpg's pool gives a connection back through a new task (asyncio.shield): a read cost a
    second suspension of the request, behind every other request's rendering, and about 60 us
    of CPU more than the query itself (docs/performance.md). These connections carry nothing
    from one read to the next (no transaction, no SET), so lending one is taking it from a
    list. A connection that fails or whose read is cancelled is closed, never lent again, and
    its place goes to the next in line; when all are lent, readers wait in arrival order.
    """

    def __init__(self, connect: Any, size: int) -> None:
        self._connect = connect
        self._size = size
        self._idle: list[Any] = []
        self._opened = 0  # connections open or being opened
        # Each waiter gets a connection, or None: "a place is free, open your own".
        self._waiting: collections.deque[asyncio.Future[Any]] = collections.deque()
        self._closed = False

    async def fetch(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        """The rows of one read; retried once on a fresh connection if the connection (not
        the query) failed, as after a database restart."""
        for attempt in (1, 2):
            connection = await self._borrow()
            try:
                rows = await connection.fetch(sql, *args)
            except Exception:
                if not connection.is_closed():  # the query failed, not the connection
                    self._give_back(connection)
                    raise
                self._discard(connection)  # a restart, a terminated backend: the read is safe
                if attempt == 2 or self._closed:  # to ask again, once, on a new connection
                    raise
                continue
            except BaseException:  # cancelled mid-read: what it would have read next is unknown
                self._discard(connection)
                raise
            self._give_back(connection)
            return rows
        raise AssertionError("unreachable")

    async def _borrow(self) -> Any:
        if self._closed:
            raise asyncpg.InterfaceError("the database engine is stopped")
        while self._idle:
            connection = self._idle.pop()
            if not connection.is_closed():
                return connection
            self._opened -= 1
        if self._opened >= self._size:
            waiter = asyncio.get_running_loop().create_future()
            self._waiting.append(waiter)
            try:
                connection = await waiter
            except asyncio.CancelledError:
                if not waiter.cancelled():  # handed something just as it was cancelled
                    handed = waiter.result()
                    if handed is None:
                        self._opened -= 1
                        self._hand_on_place()
                    else:
                        self._give_back(handed)
                else:
                    with contextlib.suppress(ValueError):  # already passed over as cancelled
                        self._waiting.remove(waiter)
                raise
            if connection is not None:
                return connection
        else:
            self._opened += 1
        try:
            return await self._connect()
        except BaseException:
            self._opened -= 1
            self._hand_on_place()
            raise

    def _give_back(self, connection: Any) -> None:
        if self._closed:
            connection.terminate()
            return
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self._idle.append(connection)

    def _discard(self, connection: Any) -> None:
        connection.terminate()
        self._opened -= 1
        self._hand_on_place()

    def _hand_on_place(self) -> None:
        """A place is free: the next in line opens a connection for it."""
        while self._waiting and self._opened < self._size:
            waiter = self._waiting.popleft()
            if not waiter.done():
                self._opened += 1
                waiter.set_result(None)

    async def close(self) -> None:
        """Close the idle connections; lent ones are closed as they come back."""
        self._closed = True
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_exception(asyncpg.InterfaceError("the database engine is stopped"))
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()
        self._opened -= len(idle)


class KindredSQLiteEngine(SQLiteEngine):
    """SQLite with WAL and a pool of persistent autocommit connections for reads."""

    __slots__ = ("_all", "_inline", "_pool", "_pool_size", "_turns")

    def __init__(self, path: str, pool_size: int = 4) -> None:
        super().__init__(path=path, timeout=SQLITE_BUSY_TIMEOUT)
        self._pool: asyncio.Queue[aiosqlite.Connection] | None = None
        self._pool_size = pool_size
        self._turns = asyncio.Semaphore(pool_size)
        self._all: list[aiosqlite.Connection] = []
        self._inline: sqlite3.Connection | None = None

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
        inline = sqlite3.connect(
            **{**self.connection_kwargs, "timeout": INLINE_READ_TIMEOUT},
            check_same_thread=False,
        )
        inline.row_factory = dict_factory
        inline.execute("PRAGMA query_only = 1")
        self._inline = inline
        # In line before the queue, as _InTurn does for asyncpg: an asyncio queue lets a
        # newcomer take the connection a waiter was woken for. Made here, in the loop that
        # will use it.
        self._turns = asyncio.Semaphore(self._pool_size)
        self._pool = pool

    async def close_connection_pool(self) -> None:
        pool, self._pool = self._pool, None
        connections, self._all = self._all, []
        inline, self._inline = self._inline, None
        if inline is not None:
            inline.close()
        if pool is None:
            return
        for connection in connections:
            await connection.close()

    async def run_read(self, sql: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
        """A short read on the event loop's own thread: no hop to a connection thread, which
        under load costs more than the query. WAL readers do not wait for the writer; if this
        one would (a checkpoint, a recovery), it goes to a pooled connection instead."""
        inline = self._inline
        if inline is not None and self.current_transaction.get() is None:
            try:
                return inline.execute(_compiled(sql, "sqlite"), args).fetchall()
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) and "busy" not in str(error):
                    raise
        return await self.run_querystring(QueryString(sql, *args))

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: type[Table] | None = None,
    ) -> Any:
        if self._pool is None:
            return await super()._run_in_new_connection(query, args, query_type, table)
        pool = self._pool
        async with self._turns:
            connection = pool.get_nowait()  # a turn always finds one: as many turns as connections
            try:
                # One hop to the connection's thread (execute + fetch), not three.
                return await connection.execute_fetchall(query, args or [])
            finally:
                pool.put_nowait(connection)


class KindredPostgresEngine(PostgresEngine):
    """PostgreSQL through asyncpg, with a fast path for short reads and a pool that serves
    requests in turn."""

    _readers: _Readers | None = None

    async def start_connection_pool(self, **kwargs: Any) -> None:
        await super().start_connection_pool(**kwargs)
        if self.pool is not None and not isinstance(self.pool, _InTurn):
            self.pool = _InTurn(self.pool, self.pool.get_max_size())  # type: ignore[assignment]
            self._readers = _Readers(
                self.get_new_connection, min(READ_CONNECTIONS, self.pool.get_max_size())
            )

    async def close_connection_pool(self) -> None:
        readers, self._readers = self._readers, None
        if readers is not None:
            await readers.close()
        await super().close_connection_pool()

    async def run_read(self, sql: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
        """A short read on a connection of its own, skipping Piccolo's query objects and
        asyncpg's pool (asyncpg prepares and caches the statement per connection)."""
        readers = self._readers
        if self.current_transaction.get() is not None or readers is None:
            return await self.run_querystring(QueryString(sql, *args))
        rows = await readers.fetch(_compiled(sql, "postgres"), args)
        return [dict(row) for row in rows]


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
    return KindredPostgresEngine(config=config)


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


async def _keep_session(connection: Any) -> None:
    """What a pooled PostgreSQL connection needs on its way back to the pool: nothing more
    than asyncpg's own clean-up, which rolls back a transaction left open.

    asyncpg's default reset sends "SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL" on every release: a round trip and server work after every query, about a
    fifth of a thread page's database time. Kindred keeps no state in a session: no SET
    outside a transaction (SET LOCAL ends with it), no LISTEN, no cursors, and only
    transaction-level advisory locks (search.postgres_index)."""


async def start(engine: Engine, settings: Settings) -> None:
    """Open the engine's pool (called from the app's lifespan)."""
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(
            min_size=settings.db_pool_min, max_size=settings.db_pool_max, reset=_keep_session
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


async def read(sql: str, *args: Any) -> list[dict[str, Any]]:
    """A short, indexed SELECT on the fast path (see the module docstring); plain values only
    as arguments. Inside a transaction it reads through the transaction's connection."""
    from forum.tables import User

    engine = User._meta.db
    if isinstance(engine, KindredSQLiteEngine | KindredPostgresEngine):
        return await engine.run_read(sql, args)
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
