"""Fixed-window rate limits kept in the database, so they hold across app instances."""

from __future__ import annotations

import random
import time

from forum import db
from forum.errors import RateLimited
from forum.settings import RateLimit, Settings


async def hit(key: str, rule: RateLimit, *, message: str | None = None) -> None:
    """Count one event for `key`; raise RateLimited once the window's limit is passed."""
    now = int(time.time())
    window_start = now - now % rule.window
    rows = await db.raw(
        'INSERT INTO "rate_limit_hit" ("key", "window_start", "count") VALUES ({}, {}, 1) '
        'ON CONFLICT ("key", "window_start") DO UPDATE '
        'SET "count" = "rate_limit_hit"."count" + 1 RETURNING "count"',
        key[:200],
        window_start,
    )
    if random.random() < 0.01:
        await db.raw('DELETE FROM "rate_limit_hit" WHERE "window_start" < {}', now - 86400)
    if rows and rows[0]["count"] > rule.limit:
        raise RateLimited(retry_after=window_start + rule.window - now, message=message)


async def release(key: str, rule: RateLimit) -> None:
    """Give back one event counted in the current window (an attempt that turned out fine)."""
    now = int(time.time())
    await db.raw(
        'UPDATE "rate_limit_hit" SET "count" = "count" - 1 '
        'WHERE "key" = {} AND "window_start" = {} AND "count" > 0',
        key[:200],
        now - now % rule.window,
    )


def retry_after(rule: RateLimit) -> int:
    now = int(time.time())
    return now - now % rule.window + rule.window - now


POSTING_TOO_FAST = (
    "You're posting very quickly. Please wait a few minutes and try again; your text is kept below."
)


async def count_post(settings: Settings, user_id: int | None) -> None:
    """Count one post, reply, story or comment against the person's posting limit."""
    await hit(f"post:{user_id}", settings.rate_limits["post_user"], message=POSTING_TOO_FAST)
