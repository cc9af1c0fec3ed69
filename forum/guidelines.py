"""Community guidelines and onboarding: what each community asks of its members, and how a new
member is welcomed.

Each community's moderators write its guidelines in markdown; every save is a new version and
the highest is current. Joining a community that has guidelines means accepting the current
version. When a new version is published, members are asked again: the community page shows a
banner, and posting there waits until they accept (their text is kept; the error links to the
guidelines). Moderators and administrators write the guidelines and are not asked.

A member's first visit to a community after joining shows an orientation (experience tags,
asking a clinician, flagging, privacy, crisis help), until they dismiss it; it stays at
/c/{slug}/welcome.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from forum import content, db
from forum.errors import Forbidden, KindredError, NotFound
from forum.permissions import (
    Viewer,
    ensure_active,
    ensure_can_view_community,
    is_member,
    moderates,
)
from forum.tables import CommunityGuidelines
from forum.validation import Form
from moderation import audit

BODY_MAX = 20_000
NOTE_MAX = 300


class GuidelinesNotAccepted(KindredError):
    """The community's current guidelines must be accepted first (joining, or posting after
    a new version). API clients get the version to accept; pages get a link to them."""

    status = 409
    code = "guidelines_not_accepted"

    def __init__(
        self, community: dict[str, Any], version: int, message: str, *, status: int = 409
    ) -> None:
        super().__init__(message, {"accept_guidelines_version": message})
        self.status = status
        url = f"/c/{community['slug']}/guidelines"
        self.extra = {
            "guidelines": {"community": community["slug"], "version": version, "url": url}
        }
        # For pages (forum.web.render.form_failed): base.html shows the way to accept.
        self.context = {
            "guidelines_required": {
                "slug": community["slug"],
                "name": community["name"],
                "version": version,
                "url": url,
            }
        }


def _now() -> datetime:
    return datetime.now(UTC)


async def _find(slug: Any) -> dict[str, Any] | None:
    from forum.communities import find_community

    return await find_community(slug)


async def current(community_id: int) -> dict[str, Any] | None:
    """The current version of a community's guidelines, or None if it has none."""
    rows = await db.raw(
        'SELECT g."id", g."community", g."version", g."body", g."body_html", g."note", '
        'g."created_at", u."username" AS "author_username", '
        'u."display_name" AS "author_display_name" FROM "community_guidelines" g '
        'LEFT JOIN "kindred_user" u ON u."id" = g."created_by" '
        'WHERE g."community" = {} ORDER BY g."version" DESC LIMIT 1',
        community_id,
    )
    return rows[0] if rows else None


async def current_version(community_id: int) -> int:
    rows = await db.raw(
        'SELECT MAX("version") AS v FROM "community_guidelines" WHERE "community" = {}',
        community_id,
    )
    return (rows[0]["v"] or 0) if rows else 0


async def versions(viewer: Viewer, slug: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A community and every version of its guidelines, newest first."""
    community = ensure_can_view_community(viewer, await _find(slug))
    rows = await db.raw(
        'SELECT g."version", g."note", g."created_at", u."display_name" AS "author_display_name" '
        'FROM "community_guidelines" g LEFT JOIN "kindred_user" u ON u."id" = g."created_by" '
        'WHERE g."community" = {} ORDER BY g."version" DESC',
        community["id"],
    )
    return community, rows


async def get_version(viewer: Viewer, slug: Any, version: Any) -> dict[str, Any]:
    """One version of a community's guidelines (anyone who may see the community)."""
    community = ensure_can_view_community(viewer, await _find(slug))
    if not isinstance(version, int) or not 0 < version < 2**31:
        raise NotFound("We couldn't find that version of the guidelines.")
    row = (
        await CommunityGuidelines.select()
        .where(
            (CommunityGuidelines.community == community["id"])
            & (CommunityGuidelines.version == version)
        )
        .first()
    )
    if row is None:
        raise NotFound("We couldn't find that version of the guidelines.")
    return row


async def state(viewer: Viewer, community: dict[str, Any]) -> dict[str, Any]:
    """What the community page needs about guidelines and onboarding, in one query: the
    current guidelines, whether this member must accept them, whether to show the orientation."""
    rows = await db.read(
        'SELECT g."version", g."body_html", g."note", g."created_at", '
        'o."accepted_version", o."oriented_at" FROM "community" c '
        'LEFT JOIN "community_guidelines" g ON g."community" = c."id" AND g."version" = '
        '(SELECT MAX(x."version") FROM "community_guidelines" x WHERE x."community" = c."id") '
        'LEFT JOIN "member_onboarding" o ON o."community" = c."id" AND o."user" = {} '
        'WHERE c."id" = {}',
        viewer.id or 0,
        community["id"],
    )
    row = rows[0] if rows else {}
    version = row.get("version") or 0
    accepted = row.get("accepted_version") or 0
    member = viewer.signed_in and is_member(viewer, community["id"])
    staff = moderates(viewer, community["id"])
    return {
        "guidelines": (
            {
                "version": version,
                "body_html": row["body_html"],
                "note": row["note"],
                "created_at": row["created_at"],
            }
            if version
            else None
        ),
        "accepted_version": accepted,
        "needs_acceptance": bool(member and not staff and version > accepted),
        "show_orientation": bool(member and row.get("oriented_at") is None),
    }


async def publish(viewer: Viewer, slug: Any, body: Any, note: Any = "") -> dict[str, Any]:
    """A new version of a community's guidelines (its moderators, admins). Members will be
    asked to accept it. Audited."""
    ensure_active(viewer)
    community = ensure_can_view_community(viewer, await _find(slug))
    if not moderates(viewer, community["id"]):
        raise Forbidden("Only this community's moderators can change its guidelines.")
    form = Form()
    text = form.text("body", body, label="Guidelines", max_length=BODY_MAX, multiline=True)
    note_value = form.text("note", note, label="What changed", max_length=NOTE_MAX, required=False)
    form.check()
    rendered = content.render(text)
    async with db.transaction():
        previous = await current_version(community["id"])
        rows = await CommunityGuidelines.insert(
            CommunityGuidelines(
                community=community["id"],
                version=previous + 1,
                body=text,
                body_html=rendered.html,
                policy_version=rendered.policy_version,
                note=note_value,
                created_by=viewer.id,
                created_at=_now(),
            )
        ).returning(*CommunityGuidelines.all_columns())
        await audit.record(
            viewer,
            "edit_guidelines",
            kind="community",
            object_id=community["id"],
            community_id=community["id"],
            note=note_value,
            before={"version": previous},
            after={"version": previous + 1},
        )
    return {**rows[0], "community": community["slug"]}


async def record_acceptance(user_id: int, community_id: int, version: int) -> None:
    """Remember that this person accepted this version of the community's guidelines."""
    now = _now()
    await db.raw(
        'INSERT INTO "member_onboarding" ("user", "community", "accepted_version", '
        '"accepted_at") VALUES ({}, {}, {}, {}) ON CONFLICT ("user", "community") DO UPDATE '
        'SET "accepted_version" = excluded."accepted_version", '
        '"accepted_at" = excluded."accepted_at"',
        user_id,
        community_id,
        version,
        now,
    )


def _version_value(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    return None


async def check_join(community: dict[str, Any], accepted: Any) -> int:
    """The guidelines version a person joining accepts (0 if the community has none), or
    raise: 422 when they didn't accept, 409 when they accepted an older version."""
    version = await current_version(community["id"])
    if not version:
        return 0
    value = _version_value(accepted)
    if value is None:
        raise GuidelinesNotAccepted(
            community,
            version,
            f"Please read {community['name']}'s guidelines and tick “I accept” to join.",
            status=422,
        )
    if value != version:
        raise GuidelinesNotAccepted(
            community,
            version,
            "The guidelines changed while you were reading them. Please read the current "
            "version and accept it to join.",
        )
    return version


async def accept(viewer: Viewer, slug: Any, version: Any) -> dict[str, Any]:
    """A member accepts the current version of a community's guidelines."""
    ensure_active(viewer)
    community = ensure_can_view_community(viewer, await _find(slug))
    if not (is_member(viewer, community["id"]) or moderates(viewer, community["id"])):
        raise Forbidden("Join this community first; joining asks you to accept its guidelines.")
    current_value = await current_version(community["id"])
    if not current_value:
        raise NotFound("This community has no guidelines to accept.")
    value = _version_value(version)
    if value is None:
        raise GuidelinesNotAccepted(
            community,
            current_value,
            "Tick “I accept” to accept the guidelines.",
            status=422,
        )
    if value != current_value:
        raise GuidelinesNotAccepted(
            community,
            current_value,
            "The guidelines changed while you were reading them. Please read the current "
            "version and accept it.",
        )
    await record_acceptance(viewer.id, community["id"], current_value)  # type: ignore[arg-type]
    return {"community": community["slug"], "accepted_version": current_value}


async def ensure_accepted(viewer: Viewer, community: dict[str, Any]) -> None:
    """Before posting: a member must have accepted the community's current guidelines.
    Moderators and administrators write them and are not asked."""
    if moderates(viewer, community["id"]):
        return
    rows = await db.raw(
        'SELECT (SELECT MAX("version") FROM "community_guidelines" WHERE "community" = {}) '
        'AS "current", (SELECT "accepted_version" FROM "member_onboarding" '
        'WHERE "user" = {} AND "community" = {}) AS "accepted"',
        community["id"],
        viewer.id or 0,
        community["id"],
    )
    version = rows[0]["current"] or 0
    if version and (rows[0]["accepted"] or 0) < version:
        raise GuidelinesNotAccepted(
            community,
            version,
            f"{community['name']} has updated its guidelines. Please read and accept them "
            "before you post; what you wrote is kept.",
        )


async def mark_oriented(viewer: Viewer, slug: Any) -> dict[str, Any]:
    """The member dismissed the orientation: don't show it on the community page again."""
    ensure_active(viewer)
    community = ensure_can_view_community(viewer, await _find(slug))
    if not is_member(viewer, community["id"]):
        return community
    await db.raw(
        'INSERT INTO "member_onboarding" ("user", "community", "accepted_version", '
        '"oriented_at") VALUES ({}, {}, {}, {}) ON CONFLICT ("user", "community") DO UPDATE '
        'SET "oriented_at" = excluded."oriented_at"',
        viewer.id,
        community["id"],
        0,
        _now(),
    )
    return community
