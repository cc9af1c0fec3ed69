"""PostgreSQL connections go back to the pool without asyncpg's reset round trip
(forum.db._keep_session), yet never carry a transaction to the next borrower; and when every
connection is busy, they go to requests in the order they asked (forum.db._InTurn)."""

import asyncio

import pytest

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
