"""Anonymous posting, where a community allows it, and how every author is shown.

A member posts a thread or a reply as "Anonymous member N": N numbers the anonymous authors
of a thread in the order they first wrote there, so a conversation stays readable and the
same person keeps the same name within it, while nothing connects it to their profile, their
other posts, search's `author:`, feeds or notifications. Post.author keeps the real account,
because rate limits, trust, moderation and the author's own right to edit and delete need it;
it is never shown. Moderators act on anonymous posts through the queue without seeing who
wrote them unless they record a reason (moderation.reveal), which is audited.

Once someone has written anonymously in a thread, their later replies there are anonymous
too; and a member who already wrote there under their name can't switch to anonymous, where
the timing would give them away.

Every query that names an author uses `author_columns` with `name_join`, so anonymous posts
and names used in one community (forum.aliases) are masked in SQL: the real name never
reaches a template, an API answer or a feed.
"""

from __future__ import annotations

from typing import Any

from piccolo.engine.postgres import PostgresEngine

from forum import db
from forum.communities import find_community
from forum.errors import Conflict, Forbidden
from forum.permissions import Viewer, ensure_active, ensure_can_view_community, moderates
from forum.tables import Community, Post

ANONYMOUS = "anonymous"  # author_alias of an anonymous post
COMMUNITY_NAME = "community"  # author_alias of a post under a name for one community
PSEUDONYM = "Anonymous member {number}"
# What lists say of a thread whose opening post is anonymous.
ANONYMOUS_STARTER = "An anonymous member"


def name_join(author: str, community: str, alias: str = "cn") -> str:
    """LEFT JOIN the name the author uses in that community, if any (SQL expressions)."""
    return (
        f'LEFT JOIN "community_name" {alias} ON {alias}."user" = {author} '
        f'AND {alias}."community" = {community}'
    )


def author_columns(
    anonymous: str, pseudonym: str, *, user: str = "u", alias: str = "cn", role: bool = False
) -> str:
    """SQL columns author_username, author_display_name and author_alias as readers see them.

    `anonymous` and `pseudonym` are SQL expressions (a post's columns, or a thread's flag and
    a constant). An anonymous author has no username and their pseudonym for a name; a member
    with a name for this community has no username (nothing links to their profile) and that
    name. With `role`, author_role too: none for anonymous posts, and for a community name
    only whether they moderate here."""
    named = f'{alias}."display_name" IS NOT NULL'
    columns = (
        f'CASE WHEN {anonymous} OR {named} THEN NULL ELSE {user}."username" END '
        'AS "author_username", '
        f'CASE WHEN {anonymous} THEN {pseudonym} WHEN {named} THEN {alias}."display_name" '
        f'ELSE {user}."display_name" END AS "author_display_name", '
        f"CASE WHEN {anonymous} THEN '{ANONYMOUS}' WHEN {named} THEN '{COMMUNITY_NAME}' "
        'ELSE NULL END AS "author_alias"'
    )
    if role:
        columns += (
            f', CASE WHEN {anonymous} OR {named} THEN NULL ELSE {user}."role" END AS "author_role"'
        )
    return columns


def masked(row: dict[str, Any]) -> bool:
    """Whether a row's author is shown under another name (anonymous or for one community)."""
    return row.get("author_alias") in (ANONYMOUS, COMMUNITY_NAME)


def quoted(text: str) -> str:
    """A constant for author_columns' `pseudonym`."""
    return "'" + text.replace("'", "''") + "'"


# Posting ------------------------------------------------------------------------------------


async def posted_as(thread_id: int, author_id: int | None) -> tuple[bool, bool, str | None]:
    """How this author already wrote in this thread: (named, anonymous, their pseudonym)."""
    if author_id is None:
        return False, False, None
    rows = await db.raw(
        'SELECT "anonymous", MAX("pseudonym") AS "pseudonym" FROM "post" '
        'WHERE "thread" = {} AND "author" = {} GROUP BY "anonymous"',
        thread_id,
        author_id,
    )
    named = any(not row["anonymous"] for row in rows)
    anonymous = [row["pseudonym"] for row in rows if row["anonymous"]]
    return named, bool(anonymous), anonymous[0] if anonymous else None


def ensure_allowed(community: dict[str, Any]) -> None:
    """Anonymous posting only where the community allows it."""
    if not community.get("allow_anonymous"):
        raise Forbidden(
            "This community doesn't allow posting anonymously. Its moderators can turn it on."
        )


async def reply_anonymously(thread_id: int, viewer: Viewer, wanted: bool) -> bool:
    """Whether a reply by the viewer is anonymous: as they ask, except that once anonymous in
    a thread they stay so, and once named they can't hide (it would be easy to connect)."""
    named, anonymous, _ = await posted_as(thread_id, viewer.id)
    if anonymous:
        return True
    if wanted and named:
        raise Conflict(
            "You've already written in this conversation under your name, so a reply without "
            "it would be easy to connect to you. Reply under your name, or start a new "
            "conversation anonymously."
        )
    return wanted


async def assign_pseudonym(thread_id: int, author_id: int) -> str:
    """The author's pseudonym in this thread: the one they have, or the next number. Call
    inside the post's transaction (on PostgreSQL the thread row is locked, so two new
    anonymous authors never get the same number; SQLite's write transactions are serial)."""
    if isinstance(Post._meta.db, PostgresEngine):
        await db.raw('SELECT "id" FROM "thread" WHERE "id" = {} FOR UPDATE', thread_id)
    _, _, pseudonym = await posted_as(thread_id, author_id)
    if pseudonym:
        return pseudonym
    rows = await db.raw(
        'SELECT COUNT(DISTINCT "pseudonym") AS "n" FROM "post" WHERE "thread" = {} '
        'AND "anonymous" = {}',
        thread_id,
        True,
    )
    return PSEUDONYM.format(number=int(rows[0]["n"]) + 1)


# The community's setting --------------------------------------------------------------------


async def set_allow_anonymous(viewer: Viewer, slug: Any, allowed: Any) -> dict[str, Any]:
    """A community's moderators (and admins) turn anonymous posting on or off. Turning it off
    keeps what was already posted anonymously anonymous."""
    ensure_active(viewer)
    community = ensure_can_view_community(viewer, await find_community(slug))
    if not moderates(viewer, community["id"]):
        raise Forbidden("Only this community's moderators can change whether it allows this.")
    value = allowed is True or str(allowed).lower() in ("1", "true", "on", "yes")
    await Community.update({Community.allow_anonymous: value}).where(
        Community.id == community["id"]
    )
    return {**community, "allow_anonymous": value}
