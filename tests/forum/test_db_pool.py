"""PostgreSQL connections go back to the pool without asyncpg's reset round trip
(forum.db._keep_session), yet never carry a transaction to the next borrower."""

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
