"""The review queue: open items of the communities a moderator moderates (all for admins),
crisis first, then by severity and age; and everything a moderator needs to decide one.

An appealed item is left out of the queue of the moderator whose decision is appealed.
"""

from __future__ import annotations

import json
from typing import Any

from forum import db
from forum.errors import Forbidden
from forum.pagination import Page
from forum.permissions import Viewer, ensure_signed_in
from moderation import audit, decisions, flags, private, reveal, trust
from moderation.items import REASONS
from moderation.tables import OPEN, RESOLVED

STATES = ("open", "resolved", "all")

_ITEM_COLUMNS = (
    'i.*, c."slug" AS "community_slug", c."name" AS "community_name", '
    'u."username" AS "author_username", u."display_name" AS "author_display_name", '
    'u."trust_level" AS "author_trust_level", u."status" AS "author_status", '
    # A story or a comment under one stands where a post and its thread would.
    'COALESCE(p."body", sc."body", s."body") AS "post_body", '
    'COALESCE(p."body_html", sc."body_html", s."body_html") AS "post_body_html", '
    # A private message's status only: its words stay on its item's page (moderation.private).
    'COALESCE(p."status", sc."status", s."status", pm."status") AS "post_status", '
    'COALESCE(p."label", sc."label", s."label") AS "post_label", p."is_opening" AS "post_is_opening", '
    'COALESCE(t."title", s."title") AS "thread_title", t."status" AS "thread_status", '
    # An anonymous post (forum.anonymity): moderators see its pseudonym (moderation.reveal).
    'p."anonymous" AS "post_anonymous", p."pseudonym" AS "post_pseudonym", '
    's."id" AS "story_id", '
    '(SELECT COUNT(*) FROM "moderation_appeal" a WHERE a."item" = i."id" AND a."state" = \'open\') '
    'AS "open_appeals"'
)
_ITEM_JOINS = (
    'FROM "moderation_item" i LEFT JOIN "community" c ON c."id" = i."community" '
    'LEFT JOIN "kindred_user" u ON u."id" = i."author" '
    'LEFT JOIN "post" p ON p."id" = i."post_id" '
    'LEFT JOIN "thread" t ON t."id" = i."thread_id" '
    'LEFT JOIN "story_comment" sc ON i."kind" = \'comment\' AND sc."id" = i."object_id" '
    'LEFT JOIN "story" s ON s."id" = CASE WHEN i."kind" = \'story\' THEN i."object_id" '
    'ELSE sc."story" END '
    'LEFT JOIN "private_message" pm ON i."kind" = \'message\' AND pm."id" = i."object_id"'
)


def ensure_moderator(viewer: Viewer) -> None:
    """Moderators of at least one community, and admins."""
    ensure_signed_in(viewer)
    if not (viewer.is_admin or viewer.moderates):
        raise Forbidden("The review queue is for moderators.")


def _scope(viewer: Viewer) -> tuple[str, list[Any]]:
    if viewer.is_admin:
        return "1 = 1", []
    ids = sorted(viewer.moderates)
    # Items of no community (clinicians' applications) are site-wide: every moderator's.
    marks = ", ".join("{}" for _ in ids)
    return f'(i."community" IN ({marks}) OR i."community" IS NULL)', list(ids)


def _present(row: dict[str, Any]) -> dict[str, Any]:
    item = dict(row)
    item["anonymous"] = bool(row.get("post_anonymous"))
    if item["anonymous"]:
        item.update(
            author_username=None,
            author_display_name=row.get("post_pseudonym"),
            author_trust_level=None,
            author_status=None,
        )
    item["hits"] = json.loads(row.get("hits") or "[]")
    item["reason_list"] = [r for r in (row.get("reasons") or "").strip(",").split(",") if r]
    item["content_status"] = (
        row.get("thread_status") if row["kind"] == "thread" else row.get("post_status")
    )
    item["priority"] = row["severity"] >= 100
    item["appealed"] = bool(row.get("open_appeals"))
    return item


async def list_queue(
    viewer: Viewer,
    *,
    reason: str | None = None,
    community: str | None = None,
    state: str = "open",
    page: int = 1,
    per_page: int = 20,
) -> Page[dict[str, Any]]:
    """Items needing review, most urgent first; filter by reason, community slug and state."""
    ensure_moderator(viewer)
    where, args = _scope(viewer)
    state = state if state in STATES else "open"
    if state == "open":
        where += ' AND i."state" = {}'
        args.append(OPEN)
        # The moderator whose decision is appealed does not see the appeal.
        where += (
            ' AND NOT EXISTS (SELECT 1 FROM "moderation_appeal" a WHERE a."item" = i."id" '
            'AND a."state" = {} AND a."original_decider" = {})'
        )
        args += [OPEN, viewer.id]
    elif state == "resolved":
        where += ' AND i."state" = {}'
        args.append(RESOLVED)
    if reason in REASONS:
        where += ' AND i."reasons" LIKE {}'
        args.append(f"%,{reason},%")
    if community:
        where += ' AND c."slug" = {}'
        args.append(str(community).lower()[:48])
    order = (
        'i."severity" DESC, i."created_at" ASC, i."id" ASC'
        if state == "open"
        else 'i."updated_at" DESC, i."id" DESC'
    )
    total = await db.raw(
        'SELECT COUNT(*) AS n FROM "moderation_item" i '
        'LEFT JOIN "community" c ON c."id" = i."community" '
        f"WHERE {where}",
        *args,
    )
    rows = await db.raw(
        f"SELECT {_ITEM_COLUMNS} {_ITEM_JOINS} WHERE {where} ORDER BY {order} "
        "LIMIT {} OFFSET {}",
        *args,
        per_page,
        (page - 1) * per_page,
    )
    return Page([_present(row) for row in rows], page, per_page, total[0]["n"])


async def _author_history(viewer: Viewer, author_id: int | None) -> dict[str, Any] | None:
    """The author's record as this moderator may see it: posts only from communities they
    moderate (all for admins), so a private community's content never leaks."""
    if author_id is None:
        return None
    user = await db.raw(
        'SELECT "id", "username", "display_name", "role", "trust_level", "status", '
        '"suspended_until", "created_at" FROM "kindred_user" WHERE "id" = {}',
        author_id,
    )
    if not user:
        return None
    scope, args = _scope(viewer)
    scope = scope.replace('i."community"', 't."community"')
    recent = await db.raw(
        'SELECT p."id", p."thread", p."status", p."body", p."created_at", t."title", '
        'c."slug" AS "community_slug" FROM "post" p JOIN "thread" t ON t."id" = p."thread" '
        'JOIN "community" c ON c."id" = t."community" '
        # Never what they posted anonymously (forum.anonymity).
        f'WHERE p."author" = {{}} AND p."anonymous" = {{}} AND {scope} '
        'ORDER BY p."created_at" DESC, p."id" DESC LIMIT 10',
        author_id,
        False,
        *args,
    )
    record = await trust.member_record(author_id)
    prior = await audit.list_entries(viewer, target_user_id=author_id, per_page=20)
    return {
        **user[0],
        "recent_posts": recent,
        "published_posts": record["published_posts"],
        "upheld_against": record["upheld_against"],
        "account_age_days": int(record["days"]),
        "decisions": [entry for entry in prior.items if entry["actor_id"] is not None],
        "flags": await trust.flag_record(author_id),
    }


async def get_item(viewer: Viewer, item_id: Any) -> dict[str, Any]:
    """One item with its content, the rules that fired, the flags with notes, the author's
    history, any appeal, and the item's own audit trail."""
    ensure_moderator(viewer)
    item = await decisions.load_item(viewer, item_id)
    rows = await db.raw(f'SELECT {_ITEM_COLUMNS} {_ITEM_JOINS} WHERE i."id" = {{}}', item["id"])
    detail = _present(rows[0])
    appeals = await db.raw(
        'SELECT a.*, u."username" AS "appellant_username" FROM "moderation_appeal" a '
        'LEFT JOIN "kindred_user" u ON u."id" = a."appellant" WHERE a."item" = {}',
        item["id"],
    )
    detail["appeal"] = appeals[0] if appeals else None
    detail["may_decide"] = (
        not (
            detail["appeal"]
            and detail["appeal"]["state"] == OPEN
            and detail["appeal"]["original_decider"] == viewer.id
        )
        and detail["author"] != viewer.id
    )
    detail["flags"] = await flags.flags_for_item(item["id"])
    detail["revealed"] = False
    if detail["anonymous"]:
        # Who wrote an anonymous post stays hidden unless this moderator recorded why they
        # need to know (moderation.reveal): no history, no appellant's name.
        detail["revealed"] = await reveal.has_revealed(viewer, item["id"])
        if detail["revealed"]:
            detail.update(
                {
                    key: rows[0][key]
                    for key in (
                        "author_username",
                        "author_display_name",
                        "author_trust_level",
                        "author_status",
                    )
                }
            )
    if detail["anonymous"] and not detail["revealed"]:
        detail["history"] = None
        if detail["appeal"]:
            detail["appeal"] = {**detail["appeal"], "appellant_username": None}
    else:
        detail["history"] = await _author_history(viewer, detail["author"])
    if detail["kind"] == "message":
        # A private message: what was reported (or held) and what the reporter chose to
        # share, and nothing else; this look goes in the log (moderation.private).
        detail["message"] = await private.for_moderator(viewer, item)
    detail["trail"] = (await audit.list_entries(viewer, item_id=item["id"], per_page=50)).items
    return detail


async def moderated_communities(viewer: Viewer) -> list[dict[str, Any]]:
    """The communities whose queue this viewer works (every one, for admins), by name."""
    if viewer.is_admin:
        return await db.raw('SELECT "id", "slug", "name" FROM "community" ORDER BY "name"')
    ids = sorted(viewer.moderates)
    if not ids:
        return []
    return await db.raw(
        f'SELECT "id", "slug", "name" FROM "community" WHERE "id" IN ({", ".join("{}" for _ in ids)}) '
        'ORDER BY "name"',
        *ids,
    )
