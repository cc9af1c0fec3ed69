"""Who wrote an anonymous post: hidden from moderators too, unless they record why they need to
know, and every such look is in the audit log.

Moderators can act on an anonymous post and on its author's account (warn, suspend, ban)
through its review item without knowing who the author is. When they do need to know (threats,
a pattern of abuse), they give a reason on the item's page; that writes a "reveal_author" entry
to the append-only log, and from then on that item shows that moderator the author. Other
moderators still see the pseudonym, and listings of the log never name the author.
"""

from __future__ import annotations

from typing import Any

from forum import db
from forum.errors import Conflict
from forum.permissions import Viewer, ensure_active
from forum.validation import Form
from moderation import audit, decisions

ACTION = "reveal_author"
REASON_MIN = 10
REASON_MAX = 1000


async def anonymous_post(item: dict[str, Any]) -> dict[str, Any] | None:
    """The anonymous post an item is about (its id, author and pseudonym), or None."""
    if item["kind"] not in ("thread", "post") or item.get("post_id") is None:
        return None
    rows = await db.raw(
        'SELECT "id", "author", "anonymous", "pseudonym" FROM "post" WHERE "id" = {}',
        item["post_id"],
    )
    return rows[0] if rows and rows[0]["anonymous"] else None


async def has_revealed(viewer: Viewer, item_id: int) -> bool:
    """Whether this moderator recorded a reason to see this item's author."""
    rows = await db.raw(
        'SELECT 1 AS "x" FROM "moderation_audit" WHERE "action" = {} AND "actor_id" = {} '
        'AND "item_id" = {}',
        ACTION,
        viewer.id,
        item_id,
    )
    return bool(rows)


async def reveal_author(viewer: Viewer, item_id: Any, reason: Any) -> dict[str, Any]:
    """Record why this moderator needs to know who wrote an anonymous post, then tell them."""
    ensure_active(viewer)
    item = await decisions.load_item(viewer, item_id)
    post = await anonymous_post(item)
    if post is None:
        raise Conflict("This item isn't about an anonymous post: its author is already shown.")
    form = Form()
    text = form.text(
        "reason",
        reason,
        label="Why you need to know",
        max_length=REASON_MAX,
        min_length=REASON_MIN,
        multiline=True,
    )
    form.check()
    await audit.record(
        viewer,
        ACTION,
        kind=item["kind"],
        object_id=item["object_id"],
        item_id=item["id"],
        community_id=item["community"],
        target_user_id=post["author"],
        target_name=post["pseudonym"] or "",
        note=text,
        anonymous=True,
    )
    author = await db.raw(
        'SELECT "id", "username", "display_name" FROM "kindred_user" WHERE "id" = {}',
        post["author"],
    )
    return {
        "item_id": item["id"],
        "pseudonym": post["pseudonym"],
        "author": author[0] if author else None,
    }
