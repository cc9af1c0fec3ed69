"""Per-community moderators: admins appoint and dismiss them, and the log says so."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from forum import db
from forum.errors import Forbidden, NotFound
from forum.permissions import Viewer, ensure_active
from forum.tables import Community, Membership, User
from moderation import audit


async def _community_and_user(slug: Any, username: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    community = None
    if isinstance(slug, str) and len(slug) <= 48:
        community = await Community.select().where(Community.slug == slug.lower()).first()
    if community is None:
        raise NotFound("We couldn't find that community.")
    user = None
    if isinstance(username, str) and len(username) <= 64:
        user = (
            await User.select(User.id, User.username, User.role, User.status)
            .where(User.username == username.strip().lower())
            .first()
        )
    if user is None or user["status"] == "deleted":
        raise NotFound("We couldn't find that person.")
    return community, user


def _ensure_admin(viewer: Viewer) -> None:
    ensure_active(viewer)
    if not viewer.is_admin:
        raise Forbidden("Only administrators appoint and dismiss moderators.")


async def appoint_moderator(viewer: Viewer, slug: Any, username: Any) -> dict[str, Any]:
    """Make someone a moderator of one community (joining them to it if needed)."""
    _ensure_admin(viewer)
    community, user = await _community_and_user(slug, username)
    if user["status"] in ("banned", "suspended"):
        raise Forbidden("A suspended or banned member can't be appointed.")
    async with db.transaction():
        membership = (
            await Membership.select(Membership.id, Membership.role)
            .where((Membership.user == user["id"]) & (Membership.community == community["id"]))
            .first()
        )
        before = {"role": membership["role"] if membership else None}
        if membership is None:
            await Membership.insert(
                Membership(
                    user=user["id"],
                    community=community["id"],
                    role="moderator",
                    joined_at=datetime.now(UTC),
                )
            )
        else:
            await Membership.update({Membership.role: "moderator"}).where(
                Membership.id == membership["id"]
            )
        if user["role"] == "member":
            await User.update({User.role: "moderator"}).where(User.id == user["id"])
        await audit.record(
            viewer,
            "appoint",
            kind="user",
            object_id=user["id"],
            community_id=community["id"],
            target_user_id=user["id"],
            target_name=user["username"],
            before=before,
            after={"role": "moderator"},
        )
    return {"community": community["slug"], "username": user["username"], "role": "moderator"}


async def dismiss_moderator(viewer: Viewer, slug: Any, username: Any) -> dict[str, Any]:
    """Take someone's moderator role in one community away; they stay a member."""
    _ensure_admin(viewer)
    community, user = await _community_and_user(slug, username)
    async with db.transaction():
        await Membership.update({Membership.role: "member"}).where(
            (Membership.user == user["id"])
            & (Membership.community == community["id"])
            & (Membership.role == "moderator")
        )
        still = await Membership.exists().where(
            (Membership.user == user["id"]) & (Membership.role == "moderator")
        )
        if not still and user["role"] == "moderator":
            await User.update({User.role: "member"}).where(User.id == user["id"])
        await audit.record(
            viewer,
            "dismiss",
            kind="user",
            object_id=user["id"],
            community_id=community["id"],
            target_user_id=user["id"],
            target_name=user["username"],
            before={"role": "moderator"},
            after={"role": "member"},
        )
    return {"community": community["slug"], "username": user["username"], "role": "member"}


async def moderators_of(slug: str) -> list[dict[str, Any]]:
    return await db.raw(
        'SELECT u."username", u."display_name" FROM "membership" m '
        'JOIN "kindred_user" u ON u."id" = m."user" JOIN "community" c ON c."id" = m."community" '
        'WHERE c."slug" = {} AND m."role" = {} ORDER BY u."username"',
        slug,
        "moderator",
    )
