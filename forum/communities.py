"""Communities: listing what a person may see, creating them, joining and leaving."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from forum import content, db, guidelines
from forum.errors import Conflict, Forbidden, NotFound
from forum.pagination import Page
from forum.permissions import (
    Viewer,
    ensure_active,
    ensure_can_create_community,
    ensure_can_view_community,
    ensure_signed_in,
    moderates,
)
from forum.tables import VISIBILITIES, Community, Membership, User
from forum.validation import Form
from search import outbox

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$")
DESCRIPTION_MAX = 4000


def _visible_clause(viewer: Viewer, alias: str = "c") -> tuple[str, list[Any]]:
    """SQL that keeps the communities a viewer may see: public, or theirs."""
    if viewer.is_admin:
        return "1 = 1", []
    ids = sorted(viewer.member_of | viewer.moderates)
    if not ids:
        return f"{alias}.\"visibility\" = 'public'", []
    marks = ", ".join("{}" for _ in ids)
    return f'({alias}."visibility" = \'public\' OR {alias}."id" IN ({marks}))', ids


async def list_communities(
    viewer: Viewer, page: int = 1, per_page: int = 50
) -> Page[dict[str, Any]]:
    """Communities the viewer may see, with member and thread counts, by name."""
    where, args = _visible_clause(viewer)
    where += ' AND c."archived" = {}'
    args.append(False)
    total_rows = await db.read(f'SELECT COUNT(*) AS n FROM "community" c WHERE {where}', *args)
    rows = await db.read(
        'SELECT c."id", c."slug", c."name", c."description", c."description_html", c."visibility", '
        '(SELECT COUNT(*) FROM "membership" m WHERE m."community" = c."id") AS "member_count", '
        '(SELECT COUNT(*) FROM "thread" t WHERE t."community" = c."id" AND t."status" = \'published\') '
        'AS "thread_count" '
        f'FROM "community" c WHERE {where} ORDER BY c."name" LIMIT {{}} OFFSET {{}}',
        *args,
        per_page,
        (page - 1) * per_page,
    )
    for row in rows:
        row["excerpt"] = content.excerpt(row["description"], 160)
        row["is_member"] = row["id"] in viewer.member_of
    return Page(rows, page, per_page, total_rows[0]["n"])


# A community's row, as Community.select() gives it, on db.read's fast path (every page of a
# community starts with it); the page itself also shows the member count.
_COMMUNITY = 'SELECT c.* FROM "community" c WHERE c."slug" = {}'
_COMMUNITY_WITH_COUNT = (
    'SELECT c.*, (SELECT COUNT(*) FROM "membership" m WHERE m."community" = c."id") '
    'AS "member_count" FROM "community" c WHERE c."slug" = {}'
)


async def _community_row(sql: str, slug: Any) -> dict[str, Any] | None:
    if not isinstance(slug, str) or len(slug) > 48:
        return None
    rows = await db.read(sql, slug.lower())
    return rows[0] if rows else None


async def find_community(slug: Any) -> dict[str, Any] | None:
    return await _community_row(_COMMUNITY, slug)


async def get_community(viewer: Viewer, slug: Any) -> dict[str, Any]:
    """A community the viewer may see, with its member count (one query); NotFound otherwise."""
    community = ensure_can_view_community(viewer, await _community_row(_COMMUNITY_WITH_COUNT, slug))
    return {
        **community,
        "is_member": community["id"] in viewer.member_of,
        "is_moderator": moderates(viewer, community["id"]),
    }


async def create_community(
    viewer: Viewer, *, slug: Any, name: Any, description: Any = "", visibility: Any = "public"
) -> dict[str, Any]:
    """Admins create communities; the slug becomes the address /c/<slug>."""
    ensure_can_create_community(viewer)
    form = Form()
    slug_value = form.text("slug", slug, label="Address", max_length=48, min_length=2).lower()
    if "slug" not in form.errors and not SLUG_RE.match(slug_value):
        form.fail("slug", "Use lowercase letters, numbers and hyphens, like heart-failure.")
    name_value = form.text("name", name, label="Name", max_length=80, min_length=2)
    description_value = form.text(
        "description",
        description,
        label="Description",
        max_length=DESCRIPTION_MAX,
        required=False,
        multiline=True,
    )
    visibility_value = form.choice("visibility", visibility, VISIBILITIES, label="Visibility")
    form.check()
    if await Community.exists().where(Community.slug == slug_value):
        raise Conflict(
            "That address is taken.", {"slug": "Another community already uses that address."}
        )
    rows = await Community.insert(
        Community(
            slug=slug_value,
            name=name_value,
            description=description_value,
            description_html=content.render(description_value).html if description_value else "",
            visibility=visibility_value,
            created_by=viewer.id,
            created_at=datetime.now(UTC),
        )
    ).returning(*Community.all_columns())
    return rows[0]


async def join(viewer: Viewer, slug: Any, accepted_version: Any = None) -> dict[str, Any]:
    """Join a public community. Private ones are joined by invitation (add_member).

    A community with guidelines asks the joiner to accept their current version
    (`accepted_version`); forum.guidelines says why not, with the version to accept."""
    ensure_active(viewer)
    community = ensure_can_view_community(viewer, await find_community(slug))
    if community["archived"]:
        raise Forbidden("This community is archived and no longer takes new members.")
    if community["visibility"] != "public" and community["id"] not in viewer.member_of:
        raise Forbidden("This community is private: a moderator has to add you.")
    if community["id"] in viewer.member_of:
        return community
    version = await guidelines.check_join(community, accepted_version)
    if version:
        await guidelines.record_acceptance(viewer.id, community["id"], version)  # type: ignore[arg-type]
    await _add(viewer.id, community["id"])  # type: ignore[arg-type]
    return community


async def _add(user_id: int, community_id: int, role: str = "member") -> None:
    exists = await Membership.exists().where(
        (Membership.user == user_id) & (Membership.community == community_id)
    )
    if exists:
        return
    try:
        await Membership.insert(
            Membership(user=user_id, community=community_id, role=role, joined_at=datetime.now(UTC))
        )
    except Exception:  # the same person joining twice at once: the unique index kept one
        if not await Membership.exists().where(
            (Membership.user == user_id) & (Membership.community == community_id)
        ):
            raise


async def set_visibility(viewer: Viewer, slug: Any, visibility: Any) -> dict[str, Any]:
    """Admins make a community public or private. Search follows: its outbox row commits with
    the change, and the writer reindexes the community's content with the new visibility."""
    ensure_can_create_community(viewer)
    community = ensure_can_view_community(viewer, await find_community(slug))
    form = Form()
    value = form.choice("visibility", visibility, VISIBILITIES, label="Visibility")
    form.check()
    async with db.transaction():
        await Community.update({Community.visibility: value}).where(Community.id == community["id"])
        await outbox.enqueue("community", community["id"])
    return {**community, "visibility": value}


async def leave(viewer: Viewer, slug: Any) -> dict[str, Any]:
    """Leave a community (suspended members too). Moderators step down by leaving."""
    ensure_signed_in(viewer)
    community = ensure_can_view_community(viewer, await find_community(slug))
    await Membership.delete().where(
        (Membership.user == viewer.id) & (Membership.community == community["id"])
    )
    return community


async def add_member(viewer: Viewer, slug: Any, username: Any, role: str = "member") -> None:
    """Moderators add people to their (private) communities; admins appoint moderators."""
    ensure_active(viewer)
    community = ensure_can_view_community(viewer, await find_community(slug))
    if not moderates(viewer, community["id"]):
        raise Forbidden("Only this community's moderators can add members.")
    if role == "moderator" and not viewer.is_admin:
        raise Forbidden("Only administrators can appoint moderators.")
    user = await User.select(User.id).where(User.username == str(username).lower()).first()
    if user is None:
        raise NotFound("We couldn't find that person.")
    await _add(user["id"], community["id"], role)
    if role == "moderator":
        await Membership.update({Membership.role: "moderator"}).where(
            (Membership.user == user["id"]) & (Membership.community == community["id"])
        )
