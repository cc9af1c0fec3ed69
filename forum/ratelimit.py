"""Rate limits kept in the database, so they hold across app instances.

Each rule counts events in fixed windows, and judges an attempt by a sliding window: the
current window's count plus the previous one's, weighted by how much of it still lies within
one window of now. A burst split across a window's edge therefore meets the same limit as one
inside it (fixed windows alone let twice the limit through there). Refused attempts are not
counted, so someone who keeps trying is let in as soon as their earlier attempts age out.
"""

from __future__ import annotations

import math
import random
import time

from forum import db
from forum.errors import RateLimited
from forum.settings import RateLimit, Settings


async def hit(key: str, rule: RateLimit, *, message: str | None = None) -> None:
    """Count one event for `key`; raise RateLimited, counting nothing, when it would pass the
    limit within the last `rule.window` seconds."""
    now = time.time()
    start = int(now) - int(now) % rule.window
    key = key[:200]
    rows = await db.raw(
        'INSERT INTO "rate_limit_hit" ("key", "window_start", "count") VALUES ({}, {}, 1) '
        'ON CONFLICT ("key", "window_start") DO UPDATE '
        'SET "count" = "rate_limit_hit"."count" + 1 RETURNING "count"',
        key,
        start,
    )
    if random.random() < 0.01:
        await db.raw('DELETE FROM "rate_limit_hit" WHERE "window_start" < {}', start - 86400)
    count = rows[0]["count"] if rows else 1
    previous = await _previous_count(key, start, rule)
    if count + previous * _share_left(now, start, rule) > rule.limit:
        await _take_back(key, start)
        raise RateLimited(
            retry_after=_wait_for_room(rule, now, start, count - 1, previous), message=message
        )


async def release(key: str, rule: RateLimit) -> None:
    """Give back one event counted in the current window (an attempt that turned out fine)."""
    now = int(time.time())
    await _take_back(key[:200], now - now % rule.window)


async def _take_back(key: str, start: int) -> None:
    await db.raw(
        'UPDATE "rate_limit_hit" SET "count" = "count" - 1 '
        'WHERE "key" = {} AND "window_start" = {} AND "count" > 0',
        key,
        start,
    )


async def _previous_count(key: str, start: int, rule: RateLimit) -> int:
    rows = await db.raw(
        'SELECT "count" FROM "rate_limit_hit" WHERE "key" = {} AND "window_start" = {}',
        key,
        start - rule.window,
    )
    return rows[0]["count"] if rows else 0


def _share_left(now: float, start: int, rule: RateLimit) -> float:
    """How much of the previous window still lies within one window of now (1 at its end)."""
    return (start + rule.window - now) / rule.window


def _wait_for_room(rule: RateLimit, now: float, start: int, current: int, previous: int) -> int:
    """Whole seconds until one more event fits, if nothing else is counted meanwhile."""
    left = start + rule.window - now
    room = rule.limit - 1 - current  # what the earlier window's weighted count may still be
    if room >= 0 and previous > 0:
        wait = left - room * rule.window / previous  # the earlier window fades to `room`
        if wait < left:
            return max(1, math.ceil(wait))
    elif room >= 0:
        return 1
    # Not within this window: in the next, this window's count is the one fading out.
    fits = (rule.limit - 1) / current if current else 1.0
    return max(1, math.ceil(left + rule.window * max(0.0, 1 - fits)))


POSTING_TOO_FAST = (
    "You're posting very quickly. Please wait a few minutes and try again; your text is kept below."
)


async def count_post(settings: Settings, user_id: int | None) -> None:
    """Count one post, reply, story or comment against the person's posting limit."""
    await hit(f"post:{user_id}", settings.rate_limits["post_user"], message=POSTING_TOO_FAST)
