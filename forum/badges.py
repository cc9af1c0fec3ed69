"""Badges members earn as they take part, in the spirit of Mayo Clinic Connect's.

The rules are data (BADGES): each badge names the thresholds a member's record must meet, or
the event that awards it. `check` evaluates the record-based ones and is called after the
events that can change the record (a published post, a "helpful" reaction) and when a profile
is shown (time alone earns the anniversary). `award_storyteller` is for the stories code to
call when a member's story is published. Awards are never taken back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from forum import db
from forum.tables import BadgeAward
from moderation import trust


@dataclass(frozen=True)
class Badge:
    """A badge and what earns it: every threshold given must be met (None: not considered).

    `event` badges are awarded by a call from the feature that knows the event instead."""

    id: str
    name: str
    description: str
    min_posts: int | None = None
    min_helpful: int | None = None
    min_days: int | None = None
    min_trust: int | None = None
    max_upheld: int | None = None
    event: str | None = None


BADGES = (
    Badge("first_post", "First post", "Shared a first post with the community.", min_posts=1),
    Badge(
        "helper",
        "Helper",
        "Other members found their posts helpful 10 times.",
        min_helpful=10,
    ),
    Badge(
        "storyteller", "Storyteller", "Shared their own story with the community.", event="story"
    ),
    Badge("anniversary", "One year on Kindred", "Has been a member for a year.", min_days=365),
    Badge(
        "mentor_eligible",
        "Mentor-eligible",
        "Experienced, helpful and kind: can be asked to mentor newcomers.",
        min_posts=50,
        min_helpful=25,
        min_days=180,
        min_trust=2,
        max_upheld=0,
    ),
)
BY_ID = {badge.id: badge for badge in BADGES}


def earned(badge: Badge, record: dict[str, Any]) -> bool:
    """Whether a member's record (moderation.trust.member_record) meets a badge's thresholds."""
    if badge.event is not None:
        return False
    checks = (
        (badge.min_posts, record.get("published_posts", 0), 1),
        (badge.min_helpful, record.get("helpful_received", 0), 1),
        (badge.min_days, record.get("days", 0), 1),
        (badge.min_trust, record.get("trust_level", 0) or 0, 1),
        (badge.max_upheld, record.get("upheld_against", 0), -1),
    )
    for threshold, value, direction in checks:
        if threshold is None:
            continue
        if direction == 1 and value < threshold:
            return False
        if direction == -1 and value > threshold:
            return False
    return True


async def _awarded(user_id: int) -> set[str]:
    rows = await BadgeAward.select(BadgeAward.badge).where(BadgeAward.user == user_id)
    return {row["badge"] for row in rows}


async def award(user_id: int | None, badge_id: str) -> bool:
    """Give a badge (once); True if it is new."""
    if user_id is None or badge_id not in BY_ID:
        return False
    rows = await db.raw(
        'INSERT INTO "badge_award" ("user", "badge", "awarded_at") VALUES ({}, {}, {}) '
        'ON CONFLICT ("user", "badge") DO NOTHING RETURNING "id"',
        user_id,
        badge_id,
        datetime.now(UTC),
    )
    return bool(rows)


async def check(user_id: int | None) -> list[str]:
    """Award every record-based badge this member now qualifies for; the new ones' ids."""
    if user_id is None:
        return []
    record = await trust.member_record(user_id)
    if not record.get("created_at"):
        return []
    have = await _awarded(user_id)
    new = []
    for badge in BADGES:
        if badge.id not in have and earned(badge, record) and await award(user_id, badge.id):
            new.append(badge.id)
    return new


async def award_storyteller(user_id: int | None) -> bool:
    """For the stories code: call when a member's story is published. True if newly earned."""
    return await award(user_id, "storyteller")


async def badges_of(user_id: int) -> list[dict[str, Any]]:
    """A member's badges, in the order of BADGES, with what each means and when it came."""
    rows = await BadgeAward.select(BadgeAward.badge, BadgeAward.awarded_at).where(
        BadgeAward.user == user_id
    )
    when = {row["badge"]: row["awarded_at"] for row in rows}
    return [
        {
            "id": badge.id,
            "name": badge.name,
            "description": badge.description,
            "awarded_at": when[badge.id],
        }
        for badge in BADGES
        if badge.id in when
    ]
