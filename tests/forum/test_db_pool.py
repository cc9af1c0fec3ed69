"""PostgreSQL connections go back to the pool without asyncpg's reset round trip
(forum.db._keep_session), yet never carry a transaction to the next borrower; and when every
connection is busy, they go to requests in the order they asked (forum.db._InTurn)."""

import asyncio

import asyncpg
import pytest

from forum import db

pytestmark = pytest.mark.postgres_only


async def test_a_connection_left_in_a_transaction_comes_back_clean(app):
    pool = app.state.engine.pool
    async with pool.acquire() as connection:
        await connection.execute("BEGIN")
        await connection.execute("CREATE TEMPORARY TABLE left_behind (id int)")
        assert connection.is_in_transaction()
    for _ in range(pool.get_size()):  # whichever connection the pool hands out next
        async with pool.acquire() as connection:
            assert not connection.is_in_transaction()
            assert await connection.fetchval("SELECT to_regclass('pg_temp.left_behind')") is None


async def test_release_sends_no_reset_query(app):
    pool = app.state.engine.pool
    async with pool.acquire() as connection:
        raw = connection._con
        await connection.fetchval("SELECT 1")
        counted = raw._protocol.queries_count
    assert raw._protocol.queries_count == counted


async def test_a_busy_pool_serves_requests_in_the_order_they_asked(app):
    pool = app.state.engine.pool
    held = [await pool.acquire() for _ in range(pool.get_max_size())]
    order: list[str] = []

    async def borrow(name: str) -> None:
        async with pool.acquire():
            order.append(name)

    first = asyncio.create_task(borrow("first"))
    await asyncio.sleep(0.01)  # it is in line for a connection
    releasing = asyncio.create_task(pool.release(held.pop()))
    await asyncio.sleep(0)  # the release has begun; the connection is back at the next step
    # A request that runs in the same step as the connection comes back: asyncpg's own queue
    # gives it the connection the first one is being woken for, and sends that one to the back.
    second = asyncio.create_task(borrow("second"))
    await asyncio.gather(releasing, first, second)
    for connection in held:
        await pool.release(connection)
    assert order == ["first", "second"]


async def test_a_failed_acquire_gives_back_its_turn(app, monkeypatch):
    pool = app.state.engine.pool

    class Unreachable:
        async def acquire(self, **_: object) -> None:
            raise OSError("the server went away")

    size = pool.get_max_size()
    monkeypatch.setattr(pool, "_pool", Unreachable())
    for _ in range(size + 1):
        with pytest.raises(OSError):  # not a wait for a turn that is never given back
            await asyncio.wait_for(pool.acquire(), timeout=5)
    monkeypatch.undo()
    async with pool.acquire() as connection:
        assert await connection.fetchval("SELECT 1") == 1


# Short reads use a few connections of the engine's own (forum.db._Readers), not the pool.


async def test_many_reads_at_once_share_a_few_connections_and_each_gets_its_own_answer(app):
    readers = app.state.engine._readers
    answers = await asyncio.gather(
        *(db.read("SELECT {}::int AS n, pg_sleep(0.005) AS pause", n) for n in range(20))
    )
    assert [rows[0]["n"] for rows in answers] == list(range(20))
    assert 1 <= readers._opened <= db.READ_CONNECTIONS
    assert not readers._waiting


async def test_a_read_after_its_connection_was_terminated_is_answered(app):
    pid = (await db.read("SELECT pg_backend_pid() AS pid"))[0]["pid"]
    async with app.state.engine.pool.acquire() as connection:
        assert await connection.fetchval("SELECT pg_terminate_backend($1)", pid)
    for _ in range(db.READ_CONNECTIONS + 1):  # whichever connection comes next
        assert (await db.read("SELECT {}::int AS n", 7))[0]["n"] == 7


async def test_a_failed_read_keeps_its_connection_and_a_cancelled_one_does_not(app):
    readers = app.state.engine._readers
    await db.read("SELECT 1 AS n")
    opened = readers._opened
    with pytest.raises(asyncpg.PostgresError):
        await db.read("SELECT no_such_column FROM kindred_user")
    assert readers._opened == opened and len(readers._idle) == opened

    slow = asyncio.create_task(db.read("SELECT pg_sleep(5) AS pause"))
    await asyncio.sleep(0.1)
    slow.cancel()
    with pytest.raises(asyncio.CancelledError):
        await slow
    assert readers._opened == opened - 1  # closed, not lent again mid-answer
    assert (await db.read("SELECT {}::int AS n", 3))[0]["n"] == 3


async def test_a_reader_cancelled_while_waiting_gives_up_its_place_in_line(app):
    readers = app.state.engine._readers
    busy = [
        asyncio.create_task(db.read("SELECT pg_sleep(0.3) AS pause"))
        for _ in range(db.READ_CONNECTIONS)
    ]
    await asyncio.sleep(0.1)
    waiting = asyncio.create_task(db.read("SELECT 1 AS n"))
    await asyncio.sleep(0.01)
    assert len(readers._waiting) == 1
    waiting.cancel()
    last = asyncio.create_task(db.read("SELECT {}::int AS n", 5))
    await asyncio.gather(*busy)
    assert (await asyncio.wait_for(last, timeout=5))[0]["n"] == 5
    assert readers._opened <= db.READ_CONNECTIONS
