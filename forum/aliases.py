"""Names for one community: a member may go by another name in a community (for a condition
that carries stigma), so what they write there can't be joined by other members to the rest of
what they do on Kindred.

Where a member has such a name, every page, list, API answer, feed, search document and
notification about what they wrote in that community shows that name, with no link to their
profile (forum.anonymity.author_columns); their profile and story blog, as others see them,
leave that community and what they wrote there out; search's `author:` doesn't find it; and
their followers aren't told of it. Moderators still see the account, as for any post.

The name is kept apart from the membership, so leaving the community never puts their own
name back on what they wrote there. Taking the name away does, and the page says so first.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from forum import db
from forum.communities import find_community
from forum.errors import Conflict, Forbidden
from forum.permissions import Viewer, ensure_active, ensure_can_view_community, is_member
from forum.permissions import moderates as moderates_community
from forum.tables import CommunityName
from forum.validation import Form
from search import outbox

NAME_MIN = 2
NAME_MAX = 64


async def name_in(user_id: int | None, community_id: int) -> str | None:
    """The name this member uses in this community, if any."""
    if user_id is None:
        return None
    rows = await db.raw(
        'SELECT "display_name" FROM "community_name" WHERE "user" = {} AND "community" = {}',
        user_id,
        community_id,
    )
    return rows[0]["display_name"] if rows else None


async def communities_with_names(user_id: int) -> set[int]:
    """The communities where this member goes by another name."""
    rows = await db.raw('SELECT "community" FROM "community_name" WHERE "user" = {}', user_id)
    return {row["community"] for row in rows}


async def _reindex(user_id: int, community_id: int) -> None:
    """Search documents name who started a thread or wrote a story: they follow the change."""
    for table in ("thread", "story"):
        rows = await db.raw(
            f'SELECT "id" FROM "{table}" WHERE "author" = {{}} AND "community" = {{}}',
            user_id,
            community_id,
        )
        for row in rows:
            await outbox.enqueue(table, row["id"])


async def set_name(viewer: Viewer, slug: Any, name: Any) -> dict[str, Any]:
    """Use `name` in this community from now on (an empty name goes back to the member's own
    display name). Members of the community only; unique within it."""
    ensure_active(viewer)
    assert viewer.id is not None
    community = ensure_can_view_community(viewer, await find_community(slug))
    if not (is_member(viewer, community["id"]) or moderates_community(viewer, community["id"])):
        raise Forbidden("Join this community first.")
    form = Form()
    value = form.text(
        "display_name",
        name if name is not None else "",
        label="Your name in this community",
        max_length=NAME_MAX,
        required=False,
    )
    if value and len(value) < NAME_MIN:
        form.fail("display_name", f"Use at least {NAME_MIN} characters.")
    elif value.lower().startswith("anonymous") or value.lower() in ("a former member",):
        form.fail("display_name", "That name is how Kindred shows others. Please choose another.")
    form.check()
    now = datetime.now(UTC)
    async with db.transaction():
        if not value:
            await CommunityName.delete().where(
                (CommunityName.user == viewer.id) & (CommunityName.community == community["id"])
            )
        else:
            taken = await db.raw(
                'SELECT "user" FROM "community_name" WHERE "community" = {} '
                'AND LOWER("display_name") = {} AND "user" <> {}',
                community["id"],
                value.lower(),
                viewer.id,
            )
            if taken:
                raise Conflict(
                    "Someone here already uses that name.",
                    {"display_name": "Someone here already uses that name. Please choose another."},
                )
            await db.raw(
                'INSERT INTO "community_name" ("user", "community", "display_name", "created_at", '
                '"updated_at") VALUES ({}, {}, {}, {}, {}) ON CONFLICT ("user", "community") '
                'DO UPDATE SET "display_name" = EXCLUDED."display_name", '
                '"updated_at" = EXCLUDED."updated_at"',
                viewer.id,
                community["id"],
                value,
                now,
                now,
            )
        await _reindex(viewer.id, community["id"])
    return {"community": community["slug"], "display_name": value or None}
