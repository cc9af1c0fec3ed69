"""Members flag content for the moderators, with a reason and an optional note.

One open flag per person per piece of content. Each flag weighs what its flagger's trust and
track record earn (moderation.trust.flag_weight); when the open flags on a published item
weigh enough, it is hidden until a moderator decides (crisis flags never hide anything: a person
in crisis needs an answer, not silence).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from forum import db, ratelimit
from forum.errors import Conflict, Forbidden, NotFound, RateLimited
from forum.permissions import Viewer, can_view_community, can_view_content, ensure_active
from forum.settings import RateLimit
from forum.tables import HIDDEN, PUBLISHED
from forum.validation import Form
from moderation import audit, items, notices, targets, trust
from moderation.rulebook import RuleSet, default_rules
from moderation.tables import OPEN, Flag, ModerationItem

FLAG_REASONS = ("misinformation", "spam", "harassment", "privacy", "crisis", "other")
NOTE_MAX = 1000
FLAGGING_TOO_FAST = (
    "You've flagged a lot of posts in the last hour. Thank you; please wait a while before "
    "flagging more, or write to the moderators."
)
AUTO_HIDE_MESSAGE = (
    "Several members flagged your post, so it is hidden while a moderator reviews it. "
    "You'll hear back here once they have."
)


async def flag_post(
    viewer: Viewer, post_id: Any, reason: Any, note: Any = "", rules: RuleSet | None = None
) -> dict[str, Any]:
    """Flag a post (flagging a thread's opening post flags the thread)."""
    return await _flag(viewer, await targets.load_post(post_id), reason, note, rules)


async def ensure_can_flag_post(viewer: Viewer, post_id: Any) -> None:
    """Raise why the viewer may not flag this post, if they may not (for the flag page, so it
    says so before anyone writes a note rather than after)."""
    _ensure_can_flag(viewer, await targets.load_post(post_id))


async def flag_thread(
    viewer: Viewer, thread_id: Any, reason: Any, note: Any = "", rules: RuleSet | None = None
) -> dict[str, Any]:
    return await _flag(viewer, await targets.load_thread(thread_id), reason, note, rules)


async def flag_content(
    viewer: Viewer,
    kind: str,
    object_id: Any,
    reason: Any,
    note: Any = "",
    rules: RuleSet | None = None,
) -> dict[str, Any]:
    """Flag content of any kind moderation knows (a story or a comment, for instance)."""
    if kind not in targets.KINDS:
        raise NotFound("We couldn't find that.")
    return await _flag(viewer, await targets.load(kind, object_id), reason, note, rules)


def _ensure_can_flag(viewer: Viewer, target: targets.Target) -> None:
    ensure_active(viewer)
    community_id = target.community_id
    if not (
        can_view_community(viewer, target.community)
        and can_view_content(viewer, target.thread, community_id)
        and can_view_content(viewer, target.post, community_id)
    ):
        raise NotFound("We couldn't find that post.")
    if target.author_id == viewer.id:
        raise Forbidden("You can't flag your own post; you can edit or delete it instead.")
    if target.status != PUBLISHED:
        raise Conflict("This post is already with the moderators.")


async def _ensure_not_flooding(viewer: Viewer, rules: RuleSet) -> None:
    """At most `per_hour` flags in any hour; the counter (one atomic update) also holds when
    a burst of flags arrives at once, which counting stored flags alone would let through."""
    since = datetime.now(UTC) - timedelta(hours=1)
    recent = await Flag.count().where((Flag.flagger == viewer.id) & (Flag.created_at >= since))
    if recent >= rules.trust.flags.per_hour:
        raise RateLimited(3600, FLAGGING_TOO_FAST)
    await ratelimit.hit(
        f"flag:{viewer.id}", RateLimit(rules.trust.flags.per_hour, 3600), message=FLAGGING_TOO_FAST
    )


async def _flag(
    viewer: Viewer, target: targets.Target, reason: Any, note: Any, rules: RuleSet | None
) -> dict[str, Any]:
    rules = rules or default_rules()
    _ensure_can_flag(viewer, target)
    form = Form()
    reason_value = form.choice("reason", reason, FLAG_REASONS, label="Reason")
    note_value = form.text(
        "note", note, label="Note", max_length=NOTE_MAX, required=False, multiline=True
    )
    form.check()
    await _ensure_not_flooding(viewer, rules)
    assert viewer.id is not None
    weight = trust.flag_weight(
        viewer.trust_level, **await trust.flag_record(viewer.id), rules=rules.trust
    )
    auto_hidden = False
    async with db.transaction():
        item_id = await items.open_item(
            kind=target.kind,
            object_id=target.object_id,
            post_id=target.post_id,
            thread_id=target.thread_id,
            community_id=target.community_id,
            author_id=target.author_id,
            source="flag",
            reasons=[reason_value],
            severity=items.REASON_SEVERITY.get(reason_value, 10),
        )
        rows = await db.raw(
            'INSERT INTO "moderation_flag" ("item", "kind", "object_id", "flagger", "reason", '
            '"note", "weight", "state", "created_at") VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}) '
            'ON CONFLICT ("flagger", "kind", "object_id") WHERE "state" = \'open\' DO NOTHING '
            'RETURNING "id"',
            item_id,
            target.kind,
            target.object_id,
            viewer.id,
            reason_value,
            note_value,
            weight,
            OPEN,
            datetime.now(UTC),
        )
        if not rows:
            raise Conflict(
                "You've already flagged this post. Thank you: a moderator will look at it."
            )
        totals = await db.raw(
            'SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN "reason" <> {} THEN "weight" ELSE 0 END), 0) '
            'AS "weight" FROM "moderation_flag" WHERE "item" = {} AND "state" = {}',
            "crisis",
            item_id,
            OPEN,
        )
        await ModerationItem.update(
            {
                ModerationItem.flag_count: totals[0]["n"],
                ModerationItem.updated_at: datetime.now(UTC),
            }
        ).where(ModerationItem.id == item_id)
        if float(totals[0]["weight"]) >= rules.trust.flags.auto_hide_weight:
            auto_hidden = await _auto_hide(target, item_id, float(totals[0]["weight"]))
    return {
        "id": rows[0]["id"],
        "item_id": item_id,
        "reason": reason_value,
        "state": OPEN,
        "auto_hidden": auto_hidden,
    }


async def _auto_hide(target: targets.Target, item_id: int, weight: float) -> bool:
    """Hide published content whose flags weigh enough, until a moderator decides."""
    if target.status != PUBLISHED:
        return False
    await targets.set_status(target, HIDDEN)
    await audit.record(
        None,
        "auto_hide",
        kind=target.kind,
        object_id=target.object_id,
        item_id=item_id,
        community_id=target.community_id,
        target_user_id=target.author_id,
        target_name=target.post.get("pseudonym") or "",
        note=f"Open flags weigh {weight:.1f}, at or over the threshold.",
        before=target.summary(),
        after={**target.summary(), "status": HIDDEN},
        anonymous=bool(target.post.get("anonymous")),
    )
    await notices.notify(target.author_id, "auto_hide", AUTO_HIDE_MESSAGE, item_id=item_id)
    return True


async def flags_for_item(item_id: int) -> list[dict[str, Any]]:
    """The flags on an item with their flaggers, for moderators."""
    return await db.raw(
        'SELECT f."id", f."reason", f."note", f."weight", f."state", f."created_at", '
        'u."username" AS "flagger_username", u."display_name" AS "flagger_display_name" '
        'FROM "moderation_flag" f LEFT JOIN "kindred_user" u ON u."id" = f."flagger" '
        'WHERE f."item" = {} ORDER BY f."created_at", f."id"',
        item_id,
    )


async def resolve_flags(item_id: int, upheld: bool) -> int:
    """Close an item's open flags as upheld or dismissed; how many there were."""
    rows = await db.raw(
        'UPDATE "moderation_flag" SET "state" = {}, "resolved_at" = {} '
        'WHERE "item" = {} AND "state" = {} RETURNING "id"',
        "upheld" if upheld else "dismissed",
        datetime.now(UTC),
        item_id,
        OPEN,
    )
    return len(rows)
