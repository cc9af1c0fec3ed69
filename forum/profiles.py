"""Profiles: what a viewer may see of a member, the member's own data as JSON, and deleting an
account.

Each part of a profile (bio, communities, experience tags, badges, recent activity) has its own
audience: everyone, members (signed in) or only the member. Communities and posts the viewer
may not see are never shown, whatever the setting. A verified clinician's credential is always
public: it is what the badge on their answers stands for.

The export holds every row of every table that belongs to the member (found through the
foreign keys to their account, so features added later are included), minus secrets. Deleting
an account removes the personal data, keeps the account row as "Former member" so moderation
records stay whole, signs out everywhere, and keeps the member's posts without their name or,
if they choose, deletes them too (a thread someone else replied to keeps its place).
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from piccolo.columns import ForeignKey
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from forum import accounts, aliases, badges, clinicians, db, experience
from forum.auth import verify_password
from forum.communities import _visible_clause
from forum.errors import Invalid, NotFound
from forum.permissions import Viewer, ensure_signed_in
from forum.tables import (
    DELETED,
    HELD,
    HIDDEN,
    PUBLISHED,
    REMOVED,
    BadgeAward,
    ClinicianApplication,
    ExperienceTag,
    ExperienceVouch,
    Membership,
    Notification,
    Post,
    PostRevision,
    ProfilePrivacy,
    Reaction,
    Thread,
    User,
)
from forum.validation import Form
from moderation import items
from moderation.tables import RESOLVED, AuditEntry, ModerationItem, Notice
from search import outbox

PRIVACY_FIELDS = ("bio", "communities", "experience", "badges", "activity")
PRIVACY_NAMES = {
    "bio": "Your bio",
    "communities": "The communities you belong to",
    "experience": "Your experience tags",
    "badges": "Your badges",
    "activity": "Your recent posts",
}
AUDIENCES = ("everyone", "members", "only_me")
AUDIENCE_NAMES = {
    "everyone": "Everyone",
    "members": "Signed-in members",
    "only_me": "Only me",
}
DEFAULT_PRIVACY = dict.fromkeys(PRIVACY_FIELDS, "everyone")
RECENT_ACTIVITY = 10
FORMER_MEMBER = "Former member"
EXPORT_FORMAT = "kindred-export-1"
# Account columns never exported; columns marked secret in any table are left out too.
SECRET_USER_COLUMNS = ("password_hash", "session_epoch")
# Foreign keys naming who acted on someone else's things (a moderator confirming a tag): those
# rows belong to the other person, so they are neither exported nor deleted with this account.
ACTOR_COLUMNS = (
    "actor",
    "confirmed_by",
    "decided_by",
    "revoked_by",
    "resolved_by",
    "created_by",
    "edited_by",
    # Someone who blocked this member (forum.blocks): the block is theirs, not this member's.
    "blocked",
)


# Privacy ----------------------------------------------------------------------------------


async def privacy_of(user_id: int) -> dict[str, str]:
    """Who sees each part of this member's profile."""
    row = (
        await ProfilePrivacy.select(*(getattr(ProfilePrivacy, name) for name in PRIVACY_FIELDS))
        .where(ProfilePrivacy.user == user_id)
        .first()
    )
    return {**DEFAULT_PRIVACY, **(row or {})}


def may_see(audience: str, viewer: Viewer, owner_id: int) -> bool:
    if viewer.id == owner_id or audience == "everyone":
        return True
    return audience == "members" and viewer.signed_in


async def set_privacy(viewer: Viewer, changes: dict[str, Any]) -> dict[str, str]:
    """Change the audience of some parts of the viewer's profile (suspended people too)."""
    ensure_signed_in(viewer)
    form = Form()
    values: dict[str, str] = {}
    for name, audience in changes.items():
        if name not in PRIVACY_FIELDS:
            form.fail(name, f"Privacy can be set for: {', '.join(PRIVACY_FIELDS)}.")
            continue
        values[name] = form.choice(name, audience, AUDIENCES, label=PRIVACY_NAMES[name])
    form.check()
    merged = {**await privacy_of(viewer.id), **values}  # type: ignore[arg-type]
    async with db.transaction():
        await ProfilePrivacy.delete().where(ProfilePrivacy.user == viewer.id)
        await ProfilePrivacy.insert(ProfilePrivacy(user=viewer.id, **merged))
    return merged


# The profile page -------------------------------------------------------------------------


async def _communities(viewer: Viewer, user_id: int) -> list[dict[str, Any]]:
    where, args = _visible_clause(viewer)
    return await db.raw(
        'SELECT c."id", c."slug", c."name", c."visibility", m."role", m."joined_at" '
        'FROM "membership" m JOIN "community" c ON c."id" = m."community" '
        f'WHERE m."user" = {{}} AND c."archived" = {{}} AND {where} ORDER BY c."name"',
        user_id,
        False,
        *args,
    )


async def recent_activity(
    viewer: Viewer, user_id: int, limit: int = RECENT_ACTIVITY
) -> list[dict[str, Any]]:
    """The member's latest published posts in threads and communities the viewer may see.
    Others never see what they posted anonymously (forum.anonymity) or in a community where
    they go by another name (forum.aliases); the member sees it all."""
    where, args = _visible_clause(viewer)
    if viewer.id != user_id:
        where += (
            ' AND p."anonymous" = {} AND NOT EXISTS (SELECT 1 FROM "community_name" cn '
            'WHERE cn."user" = p."author" AND cn."community" = c."id")'
        )
        args = [*args, False]
    return await db.raw(
        'SELECT p."id", p."thread", p."is_opening", p."body", p."created_at", '
        't."title", c."slug" AS "community_slug", c."name" AS "community_name" '
        'FROM "post" p JOIN "thread" t ON t."id" = p."thread" '
        'JOIN "community" c ON c."id" = t."community" '
        f'WHERE p."author" = {{}} AND p."status" = {{}} AND t."status" = {{}} AND {where} '
        'ORDER BY p."created_at" DESC, p."id" DESC LIMIT {}',
        user_id,
        PUBLISHED,
        PUBLISHED,
        *args,
        limit,
    )


async def profile(viewer: Viewer, username: Any) -> dict[str, Any]:
    """A member's profile as this viewer may see it. Parts the viewer may not see are None
    (and `hidden` lists them for the owner's own view)."""
    row = await accounts.get_profile(username)
    owner_id = row["id"]
    privacy = await privacy_of(owner_id)
    # Time alone earns some badges (the anniversary): look when someone looks.
    await badges.check(owner_id)

    def allowed(part: str) -> bool:
        return may_see(privacy[part], viewer, owner_id)

    verification = await clinicians.current_verification(owner_id)
    # Communities where the member goes by another name are left out for everyone else, with
    # their experience tags there, so nothing joins that name to this profile (forum.aliases).
    elsewhere = set() if viewer.id == owner_id else await aliases.communities_with_names(owner_id)

    async def communities() -> list[dict[str, Any]]:
        rows = await _communities(viewer, owner_id)
        return [row for row in rows if row["id"] not in elsewhere]

    async def tags() -> list[dict[str, Any]]:
        rows = await experience.tags_of(viewer, owner_id)
        return [row for row in rows if row["community"] not in elsewhere]

    return {
        **row,
        "bio": row["bio"] if allowed("bio") else None,
        "bio_html": row["bio_html"] if allowed("bio") else None,
        "communities": await communities() if allowed("communities") else None,
        "experience": await tags() if allowed("experience") else None,
        "badges": await badges.badges_of(owner_id) if allowed("badges") else None,
        "activity": await recent_activity(viewer, owner_id) if allowed("activity") else None,
        "clinician": {
            "credential": clinicians.credential_label(verification),
            "profession": verification["profession"],
            "specialties": [
                clinicians.SPECIALTY_NAMES.get(key, key)
                for key in clinicians.specialties_of(verification)
            ],
            "expires_at": verification["expires_at"],
        }
        if verification
        else None,
        "privacy": privacy,
        "is_self": viewer.id == owner_id,
        "can_revoke": bool(verification)
        and viewer.signed_in
        and viewer.id != owner_id
        and (viewer.is_admin or bool(viewer.moderates)),
    }


# Export -----------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def _clean(table: type[Table], row: dict[str, Any]) -> dict[str, Any]:
    secret = {column._meta.db_column_name for column in table._meta.columns if column._meta.secret}
    return {key: _jsonable(value) for key, value in row.items() if key not in secret}


def _owner_keys(table: type[Table]) -> list[ForeignKey]:
    """The foreign keys of a table that say a row belongs to a member."""
    return [
        column
        for column in table._meta.foreign_key_columns
        if column._foreign_key_meta.resolved_references is User
        and column._meta.name not in ACTOR_COLUMNS
    ]


def _member_tables() -> list[type[Table]]:
    return [table for table in db.all_tables() if table is not User and _owner_keys(table) != []]


async def export_data(viewer: Viewer) -> dict[str, Any]:
    """Everything the viewer wrote and every row about them, as JSON-ready data."""
    ensure_signed_in(viewer)
    user = await User.select().where(User.id == viewer.id).first()
    if user is None:
        raise NotFound("We couldn't find your account.")
    account = {k: _jsonable(v) for k, v in user.items() if k not in SECRET_USER_COLUMNS}
    tables: dict[str, list[dict[str, Any]]] = {}
    for table in _member_tables():
        found: dict[Any, dict[str, Any]] = {}
        for column in _owner_keys(table):
            for row in await table.select().where(column == viewer.id):
                found[row.get("id")] = _clean(table, row)
        if table is Notification:
            # Who acted is someone else's account: its id would join what they wrote under a
            # name for one community to the rest of what they do (forum.aliases).
            for row in found.values():
                row.pop("actor", None)
        if found:
            tables[table._meta.tablename] = list(found.values())
    # Earlier versions of their own posts, which point at the post rather than the person.
    own_posts = [row["id"] for row in tables.get(Post._meta.tablename, [])]
    if own_posts:
        revisions = await PostRevision.select().where(PostRevision.post.is_in(own_posts))
        tables[PostRevision._meta.tablename] = [_clean(PostRevision, r) for r in revisions]
    # Moderation actions about them: what was done and why, without who did it.
    entries = await AuditEntry.select(
        AuditEntry.action,
        AuditEntry.kind,
        AuditEntry.object_id,
        AuditEntry.note,
        AuditEntry.created_at,
    ).where(AuditEntry.target_user_id == viewer.id)
    tables["moderation_audit"] = [{k: _jsonable(v) for k, v in e.items()} for e in entries]
    return {
        "format": EXPORT_FORMAT,
        "exported_at": _jsonable(datetime.now(UTC)),
        "account": account,
        "privacy": await privacy_of(viewer.id),  # type: ignore[arg-type]
        "tables": tables,
    }


def export_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True, default=str)


# Deleting an account -----------------------------------------------------------------------

# Handled one by one below, or kept (moderation's records of what happened stay whole; the
# account row they point to no longer says who it was).
_HANDLED = (
    Post,
    Thread,
    PostRevision,
    Membership,
    ExperienceTag,
    ExperienceVouch,
    ClinicianApplication,
    Reaction,
    BadgeAward,
    ProfilePrivacy,
    Notice,
)
_KEPT_TABLENAMES = ("moderation_item", "moderation_flag", "moderation_appeal", "moderation_audit")


async def _remove_posts(user_id: int, remove: bool, now: datetime) -> set[int]:
    """Anonymize (or delete, then anonymize) the member's posts; the threads touched."""
    posts = await Post.select(Post.id, Post.thread, Post.status).where(Post.author == user_id)
    started = await Thread.select(Thread.id).where(Thread.author == user_id)
    touched = {row["thread"] for row in posts} | {row["id"] for row in started}
    if remove:
        # Published and held posts go; hidden and removed ones stay as moderators left them.
        await Post.update({Post.status: DELETED, Post.edited_at: now}).where(
            (Post.author == user_id) & Post.status.is_in([PUBLISHED, HELD])
        )
        for row in started:
            others = await Post.exists().where(
                (Post.thread == row["id"])
                & (Post.is_opening == False)  # noqa: E712
                & (Post.author.is_null() | (Post.author != user_id))
                & (Post.status != DELETED)
            )
            if not others:  # nobody else's words depend on it: the whole thread goes
                await Thread.update({Thread.status: DELETED}).where(Thread.id == row["id"])
    await Post.update({Post.author: None}).where(Post.author == user_id)
    await Thread.update({Thread.author: None}).where(Thread.author == user_id)
    await PostRevision.update({PostRevision.edited_by: None}).where(
        PostRevision.edited_by == user_id
    )
    return touched


async def _remove_people_rows(user_id: int, now: datetime) -> None:
    vouched = await ExperienceVouch.select(ExperienceVouch.tag).where(
        ExperienceVouch.voucher == user_id
    )
    await ExperienceVouch.delete().where(ExperienceVouch.voucher == user_id)
    for row in vouched:
        await db.raw(
            'UPDATE "experience_tag" SET "vouch_count" = (SELECT COUNT(*) FROM '
            '"experience_vouch" v WHERE v."tag" = {}) WHERE "id" = {}',
            row["tag"],
            row["tag"],
        )
    await ExperienceTag.delete().where(ExperienceTag.user == user_id)
    pending = await ClinicianApplication.select(ClinicianApplication.id).where(
        (ClinicianApplication.user == user_id) & (ClinicianApplication.status == "pending")
    )
    for row in pending:  # nothing left to decide
        item = await items.find_open(clinicians.KIND, row["id"])
        if item is not None:
            await ModerationItem.update(
                {
                    ModerationItem.state: RESOLVED,
                    ModerationItem.resolution: "withdrawn",
                    ModerationItem.resolution_note: "The applicant deleted their account.",
                    ModerationItem.updated_at: now,
                    ModerationItem.label: None,
                }
            ).where(ModerationItem.id == item["id"])
    await ClinicianApplication.delete().where(ClinicianApplication.user == user_id)
    await Reaction.delete().where(Reaction.user == user_id)
    await BadgeAward.delete().where(BadgeAward.user == user_id)
    await ProfilePrivacy.delete().where(ProfilePrivacy.user == user_id)
    await Membership.delete().where(Membership.user == user_id)
    await Notice.delete().where(Notice.user == user_id)


def _reindex_targets(table: type[Table], row: dict[str, Any]) -> list[tuple[str, int]]:
    """The search documents a changed row belongs to: itself if its table is a kind the index
    knows, and any parent it points to that is (a comment's story)."""
    targets = []
    if table._meta.tablename in outbox.KINDS:
        targets.append((table._meta.tablename, row["id"]))
    for column in table._meta.foreign_key_columns:
        parent = column._foreign_key_meta.resolved_references._meta.tablename
        if parent in outbox.KINDS and parent != "community" and row.get(column._meta.name):
            targets.append((parent, row[column._meta.name]))
    return targets


async def _remove_other_rows(user_id: int, remove: bool) -> None:
    """Tables of other features (stories, follows, notifications…): what their foreign keys
    say should happen when a person goes. Content only its author could see (a draft) is
    deleted; published content too if they ask; the rest loses their name. Search follows."""
    shared = (PUBLISHED, HELD, HIDDEN, REMOVED, DELETED)
    for table in _member_tables():
        if table in _HANDLED or table._meta.tablename in _KEPT_TABLENAMES:
            continue
        status = next((c for c in table._meta.columns if c._meta.name == "status"), None)
        for column in _owner_keys(table):
            if column._foreign_key_meta.on_delete == OnDelete.cascade:
                await table.delete().where(column == user_id)
                continue
            rows = await table.select().where(column == user_id)
            if not rows:
                continue
            if status is not None:
                await table.update({status: DELETED}).where(
                    (column == user_id) & status.not_in(list(shared))
                )
                if remove:
                    await table.update({status: DELETED}).where(
                        (column == user_id) & status.is_in([PUBLISHED, HELD])
                    )
            if column._meta.null:
                await table.update({column: None}).where(column == user_id)
            for row in rows:
                for kind, object_id in _reindex_targets(table, row):
                    await outbox.enqueue(kind, object_id)


async def delete_account(
    settings: Any, viewer: Viewer, password: Any, *, remove_posts: bool = False
) -> dict[str, Any]:
    """Delete the viewer's account (their password confirms it); see the module docstring."""
    ensure_signed_in(viewer)
    user = await User.select(User.password_hash).where(User.id == viewer.id).first()
    if (
        user is None
        or not isinstance(password, str)
        or not await verify_password(password[: accounts.PASSWORD_MAX], user["password_hash"])
    ):
        raise Invalid(
            {"password": "That isn't your password. Type it to confirm, or keep your account."}
        )
    user_id: int = viewer.id  # type: ignore[assignment]
    now = datetime.now(UTC)
    async with db.transaction():
        touched = await _remove_posts(user_id, remove_posts, now)
        await _remove_people_rows(user_id, now)
        await _remove_other_rows(user_id, remove_posts)
        for thread_id in sorted(touched):
            await db.refresh_reply_count(thread_id)
            await outbox.enqueue("thread", thread_id)
        await User.update(
            {
                User.username: f"deleted.{user_id}",
                User.display_name: FORMER_MEMBER,
                User.email: None,
                User.bio: "",
                User.bio_html: "",
                User.password_hash: "!deleted:" + secrets.token_hex(16),
                User.role: "member",
                User.status: "deleted",
                User.trust_level: 0,
                User.unread_notices: 0,
                User.suspended_until: None,
                User.session_epoch: User.session_epoch + 1,
            }
        ).where(User.id == user_id)
    return {"deleted": True, "posts": "removed" if remove_posts else "kept anonymously"}
