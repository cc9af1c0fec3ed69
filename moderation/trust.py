"""Trust: what screening knows of an author, trust levels, and how much a member's flag weighs.

Trust grows with published posts, "helpful" reactions from other members and time, and falls
with decisions upheld against the member (moderation/rules/trust.toml). The level is stored on the user row, raised as people post and
recomputed whenever a moderator decides about their content.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from forum import db
from forum.permissions import Viewer, moderates
from forum.tables import PUBLISHED, User
from moderation.rulebook import RuleSet, TrustRules
from moderation.screening import Standing

# Decisions that count against the author of the content.
UPHELD_AGAINST = ("hide", "remove", "edit", "warn", "suspend", "ban")


def _as_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def compute_level(
    published_posts: int,
    days: float,
    upheld_against: int,
    rules: TrustRules,
    helpful_received: int = 0,
) -> int:
    """The trust level a record earns: see trust.toml. Helpful reactions from other members
    count too (`helpful_per_post` of them as one post)."""
    effective = (
        published_posts
        + helpful_received // rules.helpful_per_post
        - rules.penalty_posts * upheld_against
    )
    level = 0
    for candidate in rules.levels:
        if (
            effective >= candidate.min_published_posts
            and days >= candidate.min_days
            and (
                candidate.max_upheld_against is None
                or upheld_against <= candidate.max_upheld_against
            )
        ):
            level = candidate.level
    return level


def flag_weight(trust_level: int, upheld: int, dismissed: int, rules: TrustRules) -> float:
    """A flag weighs more from trusted members and from those whose past flags were upheld.

    The base weight of the level is scaled by how often past flags were upheld (with one
    imagined upheld and one dismissed flag, so a newcomer starts at exactly the base)."""
    weights = rules.flags.level_weights
    base = weights[min(max(trust_level, 0), len(weights) - 1)]
    accuracy = (upheld + 1) / (upheld + dismissed + 2)
    weight = base * 2 * accuracy
    return round(min(rules.flags.max_weight, max(rules.flags.min_weight, weight)), 3)


async def member_record(user_id: int) -> dict[str, Any]:
    """Account age, posts in the last day, published posts and decisions upheld against them."""
    since = datetime.now(UTC) - timedelta(days=1)
    rows = await db.raw(
        'SELECT u."created_at", u."trust_level", u."role", '
        '(SELECT COUNT(*) FROM "post" p WHERE p."author" = u."id" AND p."created_at" >= {}) '
        'AS "posts_today", '
        '(SELECT COUNT(*) FROM "post" p WHERE p."author" = u."id" AND p."status" = {}) '
        'AS "published_posts", '
        '(SELECT COUNT(*) FROM "reaction" r JOIN "post" p ON p."id" = r."post" '
        'WHERE p."author" = u."id" AND p."status" = {} AND r."kind" = {}) AS "helpful_received", '
        '(SELECT COUNT(*) FROM "moderation_item" i WHERE i."author" = u."id" AND i."resolution" '
        f'IN ({", ".join("{}" for _ in UPHELD_AGAINST)})) AS "upheld_against" '
        'FROM "kindred_user" u WHERE u."id" = {}',
        since,
        PUBLISHED,
        PUBLISHED,
        "helpful",
        *UPHELD_AGAINST,
        user_id,
    )
    if not rows:
        return {
            "days": 0.0,
            "posts_today": 0,
            "published_posts": 0,
            "upheld_against": 0,
            "helpful_received": 0,
        }
    row = rows[0]
    created = _as_datetime(row["created_at"]) or datetime.now(UTC)
    return {
        **row,
        "days": (datetime.now(UTC) - created).total_seconds() / 86400,
    }


async def standing_of(viewer: Viewer, community_id: int) -> Standing:
    """The author's standing for screening: one query, or none for moderators and admins."""
    moderates_here = moderates(viewer, community_id)
    if moderates_here or viewer.role in ("moderator", "admin"):
        return Standing(
            role=viewer.role, trust_level=viewer.trust_level, moderates_here=moderates_here
        )
    assert viewer.id is not None
    record = await member_record(viewer.id)
    return Standing(
        role=viewer.role,
        trust_level=viewer.trust_level,
        account_age_days=record["days"],
        posts_today=record["posts_today"],
        published_posts=record["published_posts"],
    )


async def raise_after_post(viewer: Viewer, standing: Standing, rules: RuleSet) -> None:
    """After a published post, lift the author's level if their record now earns it."""
    if standing.exempt_from_holds or viewer.id is None:
        return
    level = compute_level(standing.published_posts + 1, standing.account_age_days, 0, rules.trust)
    if level > viewer.trust_level:
        # Decisions against them are counted properly on the next recompute; never lower here.
        record = await member_record(viewer.id)
        level = compute_level(
            record["published_posts"],
            record["days"],
            record["upheld_against"],
            rules.trust,
            record["helpful_received"],
        )
        if level > viewer.trust_level:
            await User.update({User.trust_level: level}).where(User.id == viewer.id)


async def recompute(user_id: int | None, rules: RuleSet) -> int | None:
    """Work a member's level out again from their record (after a decision about them, or a
    "helpful" reaction to their post)."""
    if user_id is None:
        return None
    record = await member_record(user_id)
    level = compute_level(
        record["published_posts"],
        record["days"],
        record["upheld_against"],
        rules.trust,
        record["helpful_received"],
    )
    if record.get("trust_level") != level:
        await User.update({User.trust_level: level}).where(User.id == user_id)
    return level


async def flag_record(user_id: int) -> dict[str, int]:
    """How many of this member's flags were upheld and dismissed."""
    rows = await db.raw(
        'SELECT "state", COUNT(*) AS n FROM "moderation_flag" WHERE "flagger" = {} '
        'AND "state" IN ({}, {}) GROUP BY "state"',
        user_id,
        "upheld",
        "dismissed",
    )
    counts = {row["state"]: row["n"] for row in rows}
    return {"upheld": counts.get("upheld", 0), "dismissed": counts.get("dismissed", 0)}
