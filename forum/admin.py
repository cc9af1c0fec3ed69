"""What administrators do on /admin: create, edit and archive communities, look people up and
change their site role. Moderators are appointed and dismissed through
moderation.appointments; site settings and invite codes live in forum.site_settings.

Every change is written to the moderation log (moderation.audit) in the transaction that makes
it. For anyone but an administrator these services answer "not found", as the pages do.
"""

from __future__ import annotations

from typing import Any

from forum import communities, content, db
from forum.errors import Forbidden, NotFound
from forum.pagination import Page
from forum.permissions import Viewer
from forum.site_settings import ensure_admin
from forum.tables import ROLES, VISIBILITIES, Community, User
from forum.validation import Form
from moderation import appointments, audit
from search import outbox

ROLE_NAMES = {
    "member": "Member",
    "clinician": "Clinician (the badge needs a verification too)",
    "moderator": "Moderator (appoint them per community as well)",
    "admin": "Administrator",
}


async def _community(slug: Any) -> dict[str, Any]:
    community = await communities.find_community(slug)
    if community is None:
        raise NotFound("We couldn't find that community.")
    return community


# Communities ---------------------------------------------------------------------------------


async def list_communities(
    viewer: Viewer, *, page: int = 1, per_page: int = 50
) -> Page[dict[str, Any]]:
    """Every community, archived and private ones too, with members, moderators and threads."""
    ensure_admin(viewer)
    total = await Community.count()
    rows = await db.raw(
        'SELECT c."id", c."slug", c."name", c."visibility", c."archived", c."created_at", '
        '(SELECT COUNT(*) FROM "membership" m WHERE m."community" = c."id") AS "member_count", '
        '(SELECT COUNT(*) FROM "membership" m WHERE m."community" = c."id" '
        'AND m."role" = {}) AS "moderator_count", '
        '(SELECT COUNT(*) FROM "thread" t WHERE t."community" = c."id") AS "thread_count" '
        'FROM "community" c ORDER BY c."archived", c."name" LIMIT {} OFFSET {}',
        "moderator",
        per_page,
        (page - 1) * per_page,
    )
    return Page(rows, page, per_page, total)


async def get_community(viewer: Viewer, slug: Any) -> dict[str, Any]:
    """A community with its moderators, for its admin page."""
    ensure_admin(viewer)
    community = await _community(slug)
    return {**community, "moderators": await appointments.moderators_of(community["slug"])}


async def create_community(
    viewer: Viewer, *, slug: Any, name: Any, description: Any = "", visibility: Any = "public"
) -> dict[str, Any]:
    """Create a community and log it. forum.communities checks who may (administrators: 403
    for anyone else, as /communities/new and the API have always said) and the fields."""
    async with db.transaction():
        row = await communities.create_community(
            viewer, slug=slug, name=name, description=description, visibility=visibility
        )
        await audit.record(
            viewer,
            "create_community",
            kind="community",
            object_id=row["id"],
            community_id=row["id"],
            after={"slug": row["slug"], "name": row["name"], "visibility": row["visibility"]},
        )
    return row


async def edit_community(
    viewer: Viewer, slug: Any, *, name: Any, description: Any, visibility: Any
) -> dict[str, Any]:
    """Change a community's name, description or visibility, and log it. A change of
    visibility reaches search through its outbox, in the same transaction."""
    ensure_admin(viewer)
    community = await _community(slug)
    form = Form()
    name_value = form.text("name", name, label="Name", max_length=80, min_length=2)
    description_value = form.text(
        "description",
        description,
        label="Description",
        max_length=communities.DESCRIPTION_MAX,
        required=False,
        multiline=True,
    )
    visibility_value = form.choice("visibility", visibility, VISIBILITIES, label="Visibility")
    form.check()
    before = {key: community[key] for key in ("name", "description", "visibility")}
    after = {"name": name_value, "description": description_value, "visibility": visibility_value}
    if before == after:
        return community
    async with db.transaction():
        await Community.update(
            {
                Community.name: name_value,
                Community.description: description_value,
                Community.description_html: content.render(description_value).html
                if description_value
                else "",
                Community.visibility: visibility_value,
            }
        ).where(Community.id == community["id"])
        if visibility_value != community["visibility"]:
            await outbox.enqueue("community", community["id"])
        await audit.record(
            viewer,
            "edit_community",
            kind="community",
            object_id=community["id"],
            community_id=community["id"],
            before={k: v for k, v in before.items() if after[k] != v},
            after={k: v for k, v in after.items() if before[k] != v},
        )
    return {**community, **after}


async def set_archived(viewer: Viewer, slug: Any, archived: bool, note: Any = "") -> dict[str, Any]:
    """Archive a community (it stays readable but takes no new members or posts) or bring it
    back. Logged with the administrator's note."""
    ensure_admin(viewer)
    community = await _community(slug)
    form = Form()
    note_value = form.text("note", note, label="Why", max_length=500, required=False)
    form.check()
    if bool(community["archived"]) == archived:
        return community
    async with db.transaction():
        await Community.update({Community.archived: archived}).where(
            Community.id == community["id"]
        )
        await audit.record(
            viewer,
            "archive_community" if archived else "unarchive_community",
            kind="community",
            object_id=community["id"],
            community_id=community["id"],
            note=note_value,
            before={"archived": bool(community["archived"])},
            after={"archived": archived},
        )
    return {**community, "archived": archived}


async def moderators(viewer: Viewer) -> list[dict[str, Any]]:
    """Each community with its moderators, for the moderators page."""
    ensure_admin(viewer)
    rows = await db.raw(
        'SELECT c."slug", c."name", c."archived", u."username", u."display_name" '
        'FROM "community" c LEFT JOIN "membership" m ON m."community" = c."id" AND m."role" = {} '
        'LEFT JOIN "kindred_user" u ON u."id" = m."user" ORDER BY c."name", u."username"',
        "moderator",
    )
    grouped: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = grouped.setdefault(
            row["slug"],
            {"slug": row["slug"], "name": row["name"], "archived": row["archived"], "people": []},
        )
        if row["username"]:
            entry["people"].append(
                {"username": row["username"], "display_name": row["display_name"]}
            )
    return list(grouped.values())


async def appoint(viewer: Viewer, slug: Any, username: Any) -> dict[str, Any]:
    """Appoint a community's moderator (moderation.appointments logs it)."""
    ensure_admin(viewer)
    return await appointments.appoint_moderator(viewer, slug, username)


async def dismiss(viewer: Viewer, slug: Any, username: Any) -> dict[str, Any]:
    """Dismiss a community's moderator (moderation.appointments logs it)."""
    ensure_admin(viewer)
    return await appointments.dismiss_moderator(viewer, slug, username)


# People --------------------------------------------------------------------------------------


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_users(
    viewer: Viewer, *, query: Any = "", role: Any = "", page: int = 1, per_page: int = 50
) -> Page[dict[str, Any]]:
    """People, newest first, found by username, display name or e-mail, and by role."""
    ensure_admin(viewer)
    where, args = ['u."status" <> {}'], ["deleted"]
    text = query.strip()[:100] if isinstance(query, str) else ""
    if text:
        where.append(
            '(LOWER(u."username") LIKE {} ESCAPE \'\\\' OR LOWER(u."display_name") LIKE {} '
            "ESCAPE '\\' OR LOWER(COALESCE(u.\"email\", '')) LIKE {} ESCAPE '\\')"
        )
        args += [_like(text)] * 3
    if role in ROLES:
        where.append('u."role" = {}')
        args.append(role)
    clause = " AND ".join(where)
    total = await db.raw(f'SELECT COUNT(*) AS n FROM "kindred_user" u WHERE {clause}', *args)
    rows = await db.raw(
        'SELECT u."id", u."username", u."display_name", u."email", u."role", u."status", '
        'u."trust_level", u."created_at" FROM "kindred_user" u '
        f'WHERE {clause} ORDER BY u."created_at" DESC, u."id" DESC LIMIT {{}} OFFSET {{}}',
        *args,
        per_page,
        (page - 1) * per_page,
    )
    return Page(rows, page, per_page, total[0]["n"])


async def change_role(viewer: Viewer, username: Any, role: Any, note: Any = "") -> dict[str, Any]:
    """Change a person's site role, and log it. Administrators can't change their own role,
    so a site never loses its last administrator by accident."""
    ensure_admin(viewer)
    form = Form()
    role_value = form.choice("role", role, ROLES, label="Role")
    note_value = form.text("note", note, label="Why", max_length=500, required=False)
    form.check()
    user = None
    if isinstance(username, str) and len(username) <= 64:
        user = (
            await User.select(User.id, User.username, User.role, User.status)
            .where(User.username == username.strip().lower())
            .first()
        )
    if user is None or user["status"] == "deleted":
        raise NotFound("We couldn't find that person.")
    if user["id"] == viewer.id:
        raise Forbidden("You can't change your own role; ask another administrator.")
    if user["role"] == role_value:
        return user
    async with db.transaction():
        await User.update({User.role: role_value}).where(User.id == user["id"])
        await audit.record(
            viewer,
            "change_role",
            kind="user",
            object_id=user["id"],
            target_user_id=user["id"],
            target_name=user["username"],
            note=note_value,
            before={"role": user["role"]},
            after={"role": role_value},
        )
    return {**user, "role": role_value}
