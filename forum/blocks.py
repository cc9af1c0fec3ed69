"""Blocking: a member shuts another out of their Kindred.

When A blocks B: neither can message the other (a conversation of just the two takes no more
messages; a new one can't be started either way), B's @mentions of A and A's of B notify
nobody, neither follows the other any more nor can again, B's reactions and replies no longer
notify A, and B's posts are collapsed for A behind a "show anyway".

Blocking never reveals who wrote anonymous posts or posts under a name for one community
(forum.anonymity, forum.aliases): those are neither collapsed nor filtered, or blocking
someone would tell the blocker which of those posts were theirs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from forum import db
from forum.errors import Invalid, NotFound
from forum.permissions import Viewer, ensure_signed_in
from forum.tables import Block, Follow

# SQL over a kindred_user `u`: true when `u` and the person given by the placeholder blocked
# each other in either direction.
EITHER_WAY = (
    'EXISTS (SELECT 1 FROM "member_block" bw WHERE (bw."blocker" = u."id" AND bw."blocked" = {}) '
    'OR (bw."blocked" = u."id" AND bw."blocker" = {}))'
)


async def _person(username: Any) -> dict[str, Any]:
    rows = await db.raw(
        'SELECT "id", "username", "display_name" FROM "kindred_user" '
        'WHERE "username" = {} AND "status" <> {}',
        str(username).lower()[:64],
        "deleted",
    )
    if not rows:
        raise NotFound("We couldn't find that person.")
    return rows[0]


async def block(viewer: Viewer, username: Any) -> dict[str, Any]:
    """Block a member; follows between the two end. Blocking twice changes nothing. Suspended
    members may block too: it only ever protects them."""
    ensure_signed_in(viewer)
    person = await _person(username)
    if person["id"] == viewer.id:
        raise Invalid({"username": "You can't block yourself."})
    async with db.transaction():
        await db.raw(
            'INSERT INTO "member_block" ("blocker", "blocked", "created_at") VALUES ({}, {}, {}) '
            'ON CONFLICT ("blocker", "blocked") DO NOTHING',
            viewer.id,
            person["id"],
            datetime.now(UTC),
        )
        # Following someone is a way to hear from them: it ends both ways.
        await Follow.delete().where(
            (
                (Follow.user == viewer.id)
                & (Follow.target_id == person["id"])
                & Follow.target_kind.is_in(["member", "blog"])
            )
            | (
                (Follow.user == person["id"])
                & (Follow.target_id == viewer.id)
                & Follow.target_kind.is_in(["member", "blog"])
            )
        )
    return {**person, "blocked": True}


async def unblock(viewer: Viewer, username: Any) -> dict[str, Any]:
    ensure_signed_in(viewer)
    person = await _person(username)
    await Block.delete().where((Block.blocker == viewer.id) & (Block.blocked == person["id"]))
    return {**person, "blocked": False}


async def list_blocks(viewer: Viewer) -> list[dict[str, Any]]:
    """The members the viewer blocked, newest first."""
    ensure_signed_in(viewer)
    return await db.raw(
        'SELECT u."id", u."username", u."display_name", b."created_at" FROM "member_block" b '
        'JOIN "kindred_user" u ON u."id" = b."blocked" WHERE b."blocker" = {} '
        'ORDER BY b."created_at" DESC, b."id" DESC',
        viewer.id,
    )


async def between(first: int, second: int) -> bool:
    """Whether either of the two blocked the other."""
    rows = await db.raw(
        'SELECT 1 AS "x" FROM "member_block" WHERE ("blocker" = {} AND "blocked" = {}) '
        'OR ("blocker" = {} AND "blocked" = {})',
        first,
        second,
        second,
        first,
    )
    return bool(rows)


async def blocked_either_way(viewer_id: int, others: list[int]) -> set[int]:
    """Which of `others` the viewer blocked or was blocked by."""
    if not others:
        return set()
    marks = ", ".join("{}" for _ in others)
    rows = await db.raw(
        'SELECT "blocker", "blocked" FROM "member_block" WHERE '
        f'("blocker" = {{}} AND "blocked" IN ({marks})) OR ("blocked" = {{}} AND "blocker" IN ({marks}))',
        viewer_id,
        *others,
        viewer_id,
        *others,
    )
    return {row["blocked"] if row["blocker"] == viewer_id else row["blocker"] for row in rows}


def is_blocked_by_viewer(viewer: Viewer, user_id: int | None) -> bool:
    return user_id is not None and user_id in viewer.blocked
