"""Experts by experience: what a member has lived through, declared per community.

A tag says how the member knows the condition ("Patient · since 2009 · pump user"). It shows
beside their name wherever they post in that community and on their profile, with how far it
is backed: self-declared, vouched for by other members of the community, or confirmed by one
of its moderators (audited). Its owner can hide it at any time: some conditions carry stigma.
Changing what a tag says clears the vouches and the confirmation, which were for the old text.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from forum import db
from forum.communities import find_community
from forum.errors import Conflict, Forbidden, NotFound
from forum.permissions import (
    Viewer,
    can_view_community,
    ensure_active,
    ensure_can_view_community,
    ensure_signed_in,
    is_member,
    moderates,
)
from forum.tables import Community, ExperienceTag, ExperienceVouch, User
from forum.validation import Form
from moderation import audit

RELATIONS = ("patient", "caregiver", "parent", "partner", "bereaved")
RELATION_NAMES = {
    "patient": "Patient",
    "caregiver": "Caregiver",
    "parent": "Parent",
    "partner": "Partner",
    "bereaved": "Bereaved",
}
RELATION_HINTS = {
    "patient": "I live with it",
    "caregiver": "I care for someone who lives with it",
    "parent": "My child lives with it",
    "partner": "My partner lives with it",
    "bereaved": "I lost someone to it",
}
SELF_DECLARED, VOUCHED, CONFIRMED = "self_declared", "vouched", "confirmed"
TREATMENTS_MAX = 8
TREATMENT_MAX = 40
NOTE_MAX = 280
EARLIEST_YEAR = 1900
KIND = "experience_tag"


def _now() -> datetime:
    return datetime.now(UTC)


def _treatments(raw: Any) -> list[str]:
    if not raw:
        return []
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return []
    return [str(item) for item in value] if isinstance(value, list) else []


def label(relation: str, since_year: int | None, treatments: list[str]) -> str:
    """The words shown beside a name: "Patient · since 2009 · pump user"."""
    parts = [RELATION_NAMES.get(relation, relation.capitalize())]
    if since_year:
        parts.append(f"since {since_year}")
    parts.extend(treatments)
    return " · ".join(parts)


def standing(vouch_count: int, confirmed_at: Any) -> tuple[str, str]:
    """How far a tag is backed, as a code and in words."""
    if confirmed_at is not None:
        return CONFIRMED, "confirmed by a moderator"
    if vouch_count:
        members = "member" if vouch_count == 1 else "members"
        return VOUCHED, f"vouched for by {vouch_count} {members}"
    return SELF_DECLARED, "self-declared"


def present(row: dict[str, Any]) -> dict[str, Any]:
    """A tag row with its label, treatments as a list and how it is backed."""
    treatments = _treatments(row.get("treatments"))
    code, words = standing(row.get("vouch_count") or 0, row.get("confirmed_at"))
    return {
        **row,
        "treatments": treatments,
        "label": label(row["relation"], row.get("since_year"), treatments),
        "standing": code,
        "standing_text": words,
    }


def from_post_row(row: dict[str, Any]) -> dict[str, Any] | None:
    """The tag joined into a thread page's post row (forum.threads), if the author has one."""
    if row.get("tag_id") is None:
        return None
    return present(
        {
            "id": row["tag_id"],
            "relation": row["tag_relation"],
            "since_year": row["tag_since"],
            "treatments": row["tag_treatments"],
            "vouch_count": row["tag_vouches"],
            "confirmed_at": row["tag_confirmed_at"],
        }
    )


def _check(relation: Any, since: Any, treatments: Any, note: Any) -> dict[str, Any]:
    form = Form()
    relation_value = form.choice("relation", relation, RELATIONS, label="Relation")
    since_year = None
    this_year = _now().year
    if since not in (None, ""):
        text = str(since).strip() if isinstance(since, str | int) else ""
        if isinstance(since, bool) or not text.isdigit() or len(text) != 4:
            form.fail("since", "Give the year it started, like 2009.")
        else:
            since_year = int(text)
            if not EARLIEST_YEAR <= since_year <= this_year:
                form.fail("since", f"Give a year from {EARLIEST_YEAR} to {this_year}.")
    if treatments in (None, ""):
        raw_items: list[Any] = []
    elif isinstance(treatments, str):
        raw_items = treatments.split(",")
    elif isinstance(treatments, list):
        raw_items = treatments
    else:
        raw_items = []
        form.fail("treatments", "Treatments must be a list of short words.")
    items: list[str] = []
    for raw in raw_items:
        if not isinstance(raw, str):
            form.fail("treatments", "Treatments must be a list of short words.")
            break
        cleaned = form.text(
            "treatments", raw, label="Each treatment", max_length=TREATMENT_MAX, required=False
        )
        if cleaned and cleaned.lower() not in (item.lower() for item in items):
            items.append(cleaned)
    if len(items) > TREATMENTS_MAX:
        form.fail("treatments", f"List at most {TREATMENTS_MAX} treatments or procedures.")
    note_value = form.text("note", note, label="Note", max_length=NOTE_MAX, required=False)
    form.check()
    return {
        "relation": relation_value,
        "since_year": since_year,
        "treatments": json.dumps(items),
        "note": note_value,
    }


async def declare(
    viewer: Viewer,
    community_slug: Any,
    relation: Any,
    *,
    since: Any = None,
    treatments: Any = None,
    note: Any = "",
) -> tuple[dict[str, Any], bool]:
    """Declare (or change) the viewer's lived experience in a community they belong to.

    Returns the tag and whether it is new."""
    ensure_active(viewer)
    community = ensure_can_view_community(viewer, await find_community(community_slug))
    if not (is_member(viewer, community["id"]) or moderates(viewer, community["id"])):
        raise Forbidden("Join this community first, then add your experience of it.")
    values = _check(relation, since, treatments, note)
    now = _now()
    existing = (
        await ExperienceTag.select()
        .where((ExperienceTag.user == viewer.id) & (ExperienceTag.community == community["id"]))
        .first()
    )
    async with db.transaction():
        if existing is None:
            try:
                rows = await ExperienceTag.insert(
                    ExperienceTag(
                        user=viewer.id,
                        community=community["id"],
                        created_at=now,
                        updated_at=now,
                        **values,
                    )
                ).returning(ExperienceTag.id)
            except Exception as error:  # the same declaration sent twice at once
                raise Conflict(
                    "You've just added your experience here; reload to see it."
                ) from error
            tag_id, created = rows[0]["id"], True
        else:
            tag_id, created = existing["id"], False
            substance = ("relation", "since_year", "treatments")
            changed = any(existing[key] != values[key] for key in substance)
            changes: dict[Any, Any] = {
                ExperienceTag.relation: values["relation"],
                ExperienceTag.since_year: values["since_year"],
                ExperienceTag.treatments: values["treatments"],
                ExperienceTag.note: values["note"],
                ExperienceTag.updated_at: now,
            }
            if changed:  # vouches and confirmation were for what it said before
                await ExperienceVouch.delete().where(ExperienceVouch.tag == tag_id)
                changes.update(
                    {
                        ExperienceTag.vouch_count: 0,
                        ExperienceTag.confirmed_by: None,
                        ExperienceTag.confirmed_at: None,
                    }
                )
            await ExperienceTag.update(changes).where(ExperienceTag.id == tag_id)
    return await _own_tag(viewer, tag_id), created


async def _load(tag_id: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(tag_id, int) or isinstance(tag_id, bool) or not 0 < tag_id < 2**31:
        raise NotFound("We couldn't find that experience.")
    tag = await ExperienceTag.select().where(ExperienceTag.id == tag_id).first()
    if tag is None:
        raise NotFound("We couldn't find that experience.")
    community = await Community.select().where(Community.id == tag["community"]).first()
    assert community is not None
    return tag, community


async def _own_tag(viewer: Viewer, tag_id: Any) -> dict[str, Any]:
    tag, community = await _load(tag_id)
    if tag["user"] != viewer.id:
        raise NotFound("We couldn't find that experience.")
    return {
        **present(tag),
        "community_slug": community["slug"],
        "community_name": community["name"],
    }


async def _visible_tag(viewer: Viewer, tag_id: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A tag someone else may see: not hidden, in a community they may see."""
    tag, community = await _load(tag_id)
    if tag["user"] != viewer.id and (tag["hidden"] or not can_view_community(viewer, community)):
        raise NotFound("We couldn't find that experience.")
    return tag, community


async def set_hidden(viewer: Viewer, tag_id: Any, hidden: bool) -> dict[str, Any]:
    """The owner hides a tag from everyone else, or shows it again (suspended owners too: it is
    their health information)."""
    ensure_signed_in(viewer)
    await _own_tag(viewer, tag_id)
    await ExperienceTag.update(
        {ExperienceTag.hidden: bool(hidden), ExperienceTag.updated_at: _now()}
    ).where(ExperienceTag.id == tag_id)
    return await _own_tag(viewer, tag_id)


async def remove(viewer: Viewer, tag_id: Any) -> None:
    """The owner deletes a tag (and with it the vouches), suspended or not."""
    ensure_signed_in(viewer)
    await _own_tag(viewer, tag_id)
    await ExperienceTag.delete().where(ExperienceTag.id == tag_id)


async def _count_vouches(tag_id: int) -> int:
    await db.raw(
        'UPDATE "experience_tag" SET "vouch_count" = (SELECT COUNT(*) FROM "experience_vouch" v '
        'WHERE v."tag" = {}) WHERE "id" = {}',
        tag_id,
        tag_id,
    )
    row = await ExperienceTag.select(ExperienceTag.vouch_count).where(ExperienceTag.id == tag_id)
    return row[0]["vouch_count"] if row else 0


async def vouch(viewer: Viewer, tag_id: Any) -> dict[str, Any]:
    """A member of the same community vouches for someone else's tag, once."""
    ensure_active(viewer)
    tag, community = await _visible_tag(viewer, tag_id)
    if tag["user"] == viewer.id:
        raise Forbidden("You can't vouch for your own experience; others in the community can.")
    if not (is_member(viewer, community["id"]) or moderates(viewer, community["id"])):
        raise Forbidden("Only members of this community can vouch for experience in it.")
    async with db.transaction():
        await db.raw(
            'INSERT INTO "experience_vouch" ("tag", "voucher", "created_at") VALUES ({}, {}, {}) '
            'ON CONFLICT ("tag", "voucher") DO NOTHING',
            tag["id"],
            viewer.id,
            _now(),
        )
        count = await _count_vouches(tag["id"])
    return {"id": tag["id"], "vouch_count": count, "vouched": True}


async def unvouch(viewer: Viewer, tag_id: Any) -> dict[str, Any]:
    """Take one's vouch back."""
    ensure_active(viewer)
    tag, _ = await _visible_tag(viewer, tag_id)
    async with db.transaction():
        await ExperienceVouch.delete().where(
            (ExperienceVouch.tag == tag["id"]) & (ExperienceVouch.voucher == viewer.id)
        )
        count = await _count_vouches(tag["id"])
    return {"id": tag["id"], "vouch_count": count, "vouched": False}


async def confirm(
    viewer: Viewer, tag_id: Any, confirmed: bool = True, note: Any = ""
) -> dict[str, Any]:
    """A moderator of the community confirms a tag (or withdraws the confirmation); audited."""
    ensure_active(viewer)
    tag, community = await _visible_tag(viewer, tag_id)
    if not moderates(viewer, community["id"]):
        raise Forbidden("Only this community's moderators can confirm experience.")
    if tag["user"] == viewer.id:
        raise Forbidden("Another moderator has to confirm your own experience.")
    form = Form()
    note_value = form.text("note", note, label="Note", max_length=NOTE_MAX, required=False)
    form.check()
    now = _now()
    owner = await User.select(User.username).where(User.id == tag["user"]).first()
    async with db.transaction():
        await ExperienceTag.update(
            {
                ExperienceTag.confirmed_by: viewer.id if confirmed else None,
                ExperienceTag.confirmed_at: now if confirmed else None,
            }
        ).where(ExperienceTag.id == tag["id"])
        await audit.record(
            viewer,
            "confirm_experience" if confirmed else "unconfirm_experience",
            kind=KIND,
            object_id=tag["id"],
            community_id=community["id"],
            target_user_id=tag["user"],
            target_name=owner["username"] if owner else "",
            note=note_value,
            before={"confirmed": tag["confirmed_at"] is not None},
            after={"confirmed": confirmed},
        )
    return {"id": tag["id"], "confirmed": confirmed}


async def my_tags(viewer: Viewer) -> list[dict[str, Any]]:
    """All of the viewer's tags, hidden ones included, with their communities."""
    ensure_signed_in(viewer)
    rows = await db.raw(
        'SELECT e.*, c."slug" AS "community_slug", c."name" AS "community_name" '
        'FROM "experience_tag" e JOIN "community" c ON c."id" = e."community" '
        'WHERE e."user" = {} ORDER BY c."name"',
        viewer.id,
    )
    return [present(row) for row in rows]


async def tags_of(viewer: Viewer, user_id: int) -> list[dict[str, Any]]:
    """A member's tags as this viewer may see them (their own include hidden ones), with
    whether the viewer vouched for each and may vouch or confirm."""
    own = viewer.id == user_id
    rows = await db.raw(
        'SELECT e.*, c."slug" AS "community_slug", c."name" AS "community_name", '
        'c."visibility" AS "community_visibility", '
        '(SELECT COUNT(*) FROM "experience_vouch" v WHERE v."tag" = e."id" AND v."voucher" = {}) '
        'AS "mine" FROM "experience_tag" e JOIN "community" c ON c."id" = e."community" '
        'WHERE e."user" = {} ORDER BY c."name"',
        viewer.id or 0,
        user_id,
    )
    result = []
    for row in rows:
        community = {"id": row["community"], "visibility": row["community_visibility"]}
        if not own and (row["hidden"] or not can_view_community(viewer, community)):
            continue
        tag = present(row)
        tag["vouched"] = bool(row["mine"])
        member_here = is_member(viewer, row["community"]) or moderates(viewer, row["community"])
        tag["can_vouch"] = viewer.signed_in and not own and member_here and not viewer.is_suspended
        tag["can_confirm"] = (
            viewer.signed_in
            and not own
            and moderates(viewer, row["community"])
            and not viewer.is_suspended
        )
        result.append(tag)
    return result
