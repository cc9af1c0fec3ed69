"""Reactions to posts: "helpful", "support" (a hug) and "me too".

Members of a community react to others' published posts there, once of each kind per person.
Every page shows the counts and who reacted. "Helpful" feeds trust (moderation.trust counts the
helpful reactions a member's posts received) and the helper badges (forum.badges).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from forum import badges, db, notifications
from forum.communities import find_community
from forum.errors import Conflict, Forbidden
from forum.permissions import Viewer, ensure_can_post_in, ensure_signed_in
from forum.settings import Settings
from forum.tables import PUBLISHED
from forum.validation import Form
from moderation import posting, trust

KINDS = ("helpful", "support", "me_too")
NAMES = {"helpful": "Helpful", "support": "Sending support", "me_too": "Me too"}
# How a button reads before and after the viewer reacted.
BUTTONS = {"helpful": "Helpful", "support": "Send a hug", "me_too": "Me too"}


def _empty() -> dict[str, Any]:
    return {"counts": dict.fromkeys(KINDS, 0), "who": {kind: [] for kind in KINDS}, "mine": []}


def _check_kind(kind: Any) -> str:
    form = Form()
    value = form.choice("kind", kind, KINDS, label="Reaction")
    form.check()
    return value


async def _reactable(viewer: Viewer, post_id: Any) -> dict[str, Any]:
    """The post, if the viewer may react to it: published, someone else's, in a community
    they belong to."""
    from forum import threads  # forum.threads reads reactions for its pages: import lazily

    post = await threads.get_post(viewer, post_id)
    community = await find_community(post["community"])
    assert community is not None
    ensure_can_post_in(viewer, community)
    if post["status"] != PUBLISHED:
        raise Conflict("You can react to published posts only.")
    if post["author"] == viewer.id:
        raise Forbidden("You can't react to your own post.")
    return post


async def react(settings: Settings, viewer: Viewer, post_id: Any, kind: Any) -> dict[str, Any]:
    """Add the viewer's reaction of this kind (again is fine: still one). The post's summary."""
    kind_value = _check_kind(kind)
    post = await _reactable(viewer, post_id)
    async with db.transaction():
        added = await db.raw(
            'INSERT INTO "reaction" ("post", "user", "kind", "created_at") VALUES ({}, {}, {}, {}) '
            'ON CONFLICT ("post", "user", "kind") DO NOTHING RETURNING "id"',
            post["id"],
            viewer.id,
            kind_value,
            datetime.now(UTC),
        )
        if added and kind_value == "helpful":
            await trust.recompute(post["author"], posting.rules_for(settings.data_dir))
        if added:
            await notifications.notify_reaction(viewer, post["id"], kind_value)
    if added and kind_value == "helpful":
        await badges.check(post["author"])
    return {**await summary(viewer, post["id"]), "thread": post["thread"]}


async def unreact(settings: Settings, viewer: Viewer, post_id: Any, kind: Any) -> dict[str, Any]:
    """Take the viewer's reaction of this kind back. The post's summary."""
    ensure_signed_in(viewer)
    kind_value = _check_kind(kind)
    from forum import threads

    post = await threads.get_post(viewer, post_id)
    async with db.transaction():
        removed = await db.raw(
            'DELETE FROM "reaction" WHERE "post" = {} AND "user" = {} AND "kind" = {} '
            'RETURNING "id"',
            post["id"],
            viewer.id,
            kind_value,
        )
        if removed and kind_value == "helpful":
            await trust.recompute(post["author"], posting.rules_for(settings.data_dir))
    return {**await summary(viewer, post["id"]), "thread": post["thread"]}


async def for_posts(viewer: Viewer, post_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Counts, who reacted and the viewer's own reactions for these posts, in one query."""
    return summarize(viewer, post_ids, await rows_for_posts(post_ids))


async def rows_for_posts(post_ids: list[int]) -> list[dict[str, Any]]:
    """Every reaction to these posts with who gave it, the same for every reader: a thread
    page keeps them with its posts (forum.page_cache)."""
    if not post_ids:
        return []
    marks = ", ".join("{}" for _ in post_ids)
    return await db.read(
        # Someone with a name for this community is listed by it, unlinked (forum.aliases).
        'SELECT r."post", r."kind", r."user", '
        'CASE WHEN cn."display_name" IS NULL THEN u."username" END AS "username", '
        'COALESCE(cn."display_name", u."display_name") AS "display_name" '
        'FROM "reaction" r JOIN "kindred_user" u ON u."id" = r."user" '
        'JOIN "post" p ON p."id" = r."post" JOIN "thread" t ON t."id" = p."thread" '
        'LEFT JOIN "community_name" cn ON cn."user" = r."user" AND cn."community" = t."community" '
        f'WHERE r."post" IN ({marks}) ORDER BY r."id"',
        *post_ids,
    )


def summarize(
    viewer: Viewer, post_ids: list[int], rows: list[dict[str, Any]]
) -> dict[int, dict[str, Any]]:
    """rows_for_posts' rows as each post's counts, who reacted and the viewer's own."""
    result: dict[int, dict[str, Any]] = {post_id: _empty() for post_id in post_ids}
    for row in rows:
        entry = result.get(row["post"])
        if entry is None or row["kind"] not in entry["counts"]:
            continue
        entry["counts"][row["kind"]] += 1
        entry["who"][row["kind"]].append(
            {"username": row["username"], "display_name": row["display_name"]}
        )
        if row["user"] == viewer.id:
            entry["mine"].append(row["kind"])
    for entry in result.values():  # the same, in order, ready for a page to show
        entry["list"] = [
            {
                "kind": kind,
                "name": NAMES[kind],
                "button": BUTTONS[kind],
                "count": entry["counts"][kind],
                "who": entry["who"][kind],
                "mine": kind in entry["mine"],
            }
            for kind in KINDS
        ]
        entry["total"] = sum(entry["counts"].values())
    return result


async def summary(viewer: Viewer, post_id: int) -> dict[str, Any]:
    """One post's reactions: {"post", "counts", "who", "mine"}."""
    return {"post": post_id, **(await for_posts(viewer, [post_id]))[post_id]}
