"""Moderators' decisions on review items, and authors' appeals against them.

A decision acts on the content (approve, hide, remove, restore, edit) and/or on its author
(warn, suspend for a period, ban), with a note. In one transaction it changes the content,
closes the flags (upheld or dismissed), resolves the item, writes the audit log with the state
before and after, tells the author the outcome and why, and recomputes their trust.

Moderators act only in communities they moderate (elsewhere the item is "not found"), never on
their own content, and never on an appeal against their own decision: a different moderator
decides appeals. Only admins suspend or ban moderators and admins.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from forum import db
from forum.errors import Conflict, Forbidden, NotFound
from forum.permissions import Viewer, ensure_active, ensure_signed_in, moderates
from forum.tables import (
    DELETED,
    DRAFT,
    HELD,
    HIDDEN,
    PUBLISHED,
    REMOVED,
    WITHDRAWN,
    Membership,
    User,
)
from forum.validation import Form
from moderation import audit, flags, items, notices, targets, trust
from moderation.rulebook import RuleSet, default_rules
from moderation.tables import OPEN, RESOLVED, Appeal, ModerationItem

CONTENT_ACTIONS = ("approve", "hide", "remove", "restore", "edit")
MEMBER_ACTIONS = ("warn", "suspend", "ban")
ACTIONS = CONTENT_ACTIONS + MEMBER_ACTIONS
APPEALABLE = ("hide", "remove", "edit", "warn", "suspend", "ban")
NOTE_MAX = 2000
BODY_MAX = 20_000
DEFAULT_SUSPENSION_DAYS = 7
MAX_SUSPENSION_DAYS = 365

_OUTCOME = {
    "approve": "A moderator reviewed your post and it is now visible to everyone.",
    "hide": "A moderator hid your post.",
    "remove": "A moderator removed your post.",
    "restore": "A moderator restored your post; it is visible again.",
    "edit": "A moderator edited your post.",
    "warn": "A moderator sent you a warning.",
    "suspend": "A moderator suspended your account until {until}: you can read but not post.",
    "ban": "A moderator banned your account.",
}


async def load_item(viewer: Viewer, item_id: Any) -> dict[str, Any]:
    """An item in a community the viewer moderates; "not found" for anyone else."""
    ensure_signed_in(viewer)
    if not isinstance(item_id, int) or isinstance(item_id, bool) or not 0 < item_id < 2**31:
        raise NotFound("We couldn't find that item.")
    item = await ModerationItem.select().where(ModerationItem.id == item_id).first()
    if item is None:
        raise NotFound("We couldn't find that item.")
    if item["community"] is None:  # site-wide (a clinician's application): any moderator
        if not (viewer.is_admin or viewer.moderates):
            raise NotFound("We couldn't find that item.")
    elif not moderates(viewer, item["community"]):
        raise NotFound("We couldn't find that item.")
    return item


async def open_appeal(item_id: int) -> dict[str, Any] | None:
    return await Appeal.select().where((Appeal.item == item_id) & (Appeal.state == OPEN)).first()


def _check(
    action: Any, note: Any, body: Any, days: Any, member_action: Any
) -> tuple[str, str, str | None, int, str | None]:
    form = Form()
    action_value = form.choice("action", action, ACTIONS, label="Action")
    note_value = form.text(
        "note",
        note,
        label="A note for the author",
        max_length=NOTE_MAX,
        required=action_value not in ("approve", "restore"),
        multiline=True,
    )
    body_value = None
    if action_value == "edit":
        body_value = form.text(
            "body", body, label="The edited text", max_length=BODY_MAX, multiline=True
        )
    member_value = None
    if member_action not in (None, "", "none"):
        member_value = form.choice(
            "member_action", member_action, MEMBER_ACTIONS, label="Member action"
        )
    if action_value in MEMBER_ACTIONS:
        member_value = action_value
    days_value = DEFAULT_SUSPENSION_DAYS
    if member_value == "suspend" and days not in (None, ""):
        try:
            days_value = int(days)
        except (TypeError, ValueError):
            form.fail("days", "Give the suspension in days, from 1 to 365.")
        else:
            if not 1 <= days_value <= MAX_SUSPENSION_DAYS:
                form.fail("days", "Give the suspension in days, from 1 to 365.")
    form.check()
    return action_value, note_value, body_value, days_value, member_value


def _new_status(action: str, current: str) -> str | None:
    """The content's status after a content action, or None if it stays."""
    if current == DELETED:
        raise Conflict(
            "The author deleted this post, so there's nothing to change on it; you can still "
            "warn or suspend them."
        )
    if current in (DRAFT, WITHDRAWN):
        raise Conflict(
            "The author withdrew this story, so nobody else can see it and there's nothing to "
            "change on it; you can still warn or suspend them."
        )
    if action == "approve":
        if current == REMOVED:
            raise Conflict("This post was removed; restore it instead if it should come back.")
        return PUBLISHED
    if action == "restore":
        if current not in (HIDDEN, REMOVED):
            raise Conflict("This post isn't hidden or removed, so there's nothing to restore.")
        return PUBLISHED
    if action == "hide":
        return HIDDEN
    if action == "remove":
        return REMOVED
    if action == "edit":
        return PUBLISHED if current in (HELD, HIDDEN) else None
    return None


async def _ensure_may_act_on_member(
    viewer: Viewer, author: dict[str, Any], community_id: int
) -> None:
    if author["id"] == viewer.id:
        raise Forbidden("You can't take action on your own account.")
    staff = author["role"] in ("moderator", "admin") or await Membership.exists().where(
        (Membership.user == author["id"]) & (Membership.role == "moderator")
    )
    if staff and not viewer.is_admin:
        raise Forbidden("Only administrators can warn, suspend or ban a moderator.")
    del community_id


async def decide(
    viewer: Viewer,
    item_id: Any,
    action: Any,
    note: Any = "",
    *,
    body: Any = None,
    days: Any = None,
    member_action: Any = None,
    rules: RuleSet | None = None,
) -> dict[str, Any]:
    """Decide a review item; see the module docstring. Returns what changed."""
    rules = rules or default_rules()
    ensure_active(viewer)
    item = await load_item(viewer, item_id)
    if item["kind"] not in targets.KINDS:
        # A clinician's application is decided by forum.clinicians (approve or reject).
        raise Conflict(
            "This item is a clinician's application: approve or reject it on its own page, "
            f"or with POST /api/v1/moderation/clinician-applications/{item['object_id']}/decision."
        )
    action_value, note_value, body_value, days_value, member_value = _check(
        action, note, body, days, member_action
    )
    target = await targets.load(item["kind"], item["object_id"])
    if item["kind"] == "message" and action_value == "edit":
        raise Conflict(
            "Private messages can't be edited by moderators: hide or remove it, and act on the "
            "member if needed."
        )
    if target.author_id == viewer.id:
        raise Forbidden("This is your own post: another moderator has to decide it.")
    appeal = await open_appeal(item["id"])
    if appeal is not None and appeal["original_decider"] == viewer.id:
        raise Forbidden(
            "You made the decision being appealed, so a different moderator has to decide "
            "the appeal."
        )
    content_action = action_value if action_value in CONTENT_ACTIONS else None
    new_status = _new_status(content_action, target.status) if content_action else None
    author = None
    if target.author_id is not None:
        author = (
            await User.select(User.id, User.username, User.role, User.status)
            .where(User.id == target.author_id)
            .first()
        )
    if member_value and author is None:
        raise Conflict("This post's author no longer has an account.")
    if member_value and author is not None:
        await _ensure_may_act_on_member(viewer, author, target.community_id)
    now = datetime.now(UTC)
    before = target.summary()
    after = dict(before)
    until = now + timedelta(days=days_value) if member_value == "suspend" else None
    # Held content with only a member action waits for a content decision.
    resolves = content_action is not None or target.status != HELD
    anonymous = bool(target.post.get("anonymous"))
    async with db.transaction():
        if body_value is not None:
            before["body"] = target.post["body"]
            await targets.replace_body(target, body_value, viewer.id)
            after["body"] = body_value
        if new_status is not None and new_status != target.status:
            await targets.set_status(
                target, new_status, clear_label=content_action in ("approve", "restore")
            )
            after["status"] = new_status
        elif content_action in ("approve", "restore") and target.post.get("label"):
            await targets.set_status(target, target.status, clear_label=True)
        if content_action in ("approve", "restore"):
            after["label"] = None
        if content_action is not None:
            upheld = content_action not in ("approve", "restore")
            await flags.resolve_flags(item["id"], upheld=upheld)
        elif member_value:
            await flags.resolve_flags(item["id"], upheld=True)
        resolution = content_action or member_value
        await ModerationItem.update(
            {
                ModerationItem.state: RESOLVED if resolves else OPEN,
                ModerationItem.resolution: resolution,
                ModerationItem.resolution_note: note_value,
                ModerationItem.resolved_by: viewer.id,
                ModerationItem.resolved_at: now,
                ModerationItem.updated_at: now,
                **({ModerationItem.label: None} if content_action == "approve" else {}),
            }
        ).where(ModerationItem.id == item["id"])
        if appeal is not None:
            granted = content_action in ("approve", "restore")
            await Appeal.update(
                {
                    Appeal.state: "granted" if granted else "denied",
                    Appeal.decided_by: viewer.id,
                    Appeal.decided_at: now,
                }
            ).where(Appeal.id == appeal["id"])
        await audit.record(
            viewer,
            action_value if content_action else member_value or action_value,
            kind=item["kind"],
            object_id=item["object_id"],
            item_id=item["id"],
            community_id=item["community"],
            target_user_id=target.author_id,
            # Anonymous content (forum.anonymity) is logged under its pseudonym.
            target_name=(target.post.get("pseudonym") or "")
            if anonymous
            else author["username"]
            if author
            else "",
            note=note_value,
            before=before,
            after=after,
            anonymous=anonymous,
        )
        if member_value and author is not None:
            await _act_on_member(
                viewer,
                item,
                author,
                member_value,
                note_value,
                until,
                content_action,
                shown_name=target.post.get("pseudonym") if anonymous else None,
            )
        await _tell_author(target, item, content_action, member_value, note_value, until, appeal)
        await trust.recompute(target.author_id, rules)
    return {
        "item_id": item["id"],
        "action": action_value,
        "member_action": member_value,
        "status": after.get("status", target.status),
        "state": RESOLVED if resolves else OPEN,
        "appeal": ("granted" if content_action in ("approve", "restore") else "denied")
        if appeal
        else None,
    }


async def _act_on_member(
    viewer: Viewer,
    item: dict[str, Any],
    author: dict[str, Any],
    action: str,
    note: str,
    until: datetime | None,
    content_action: str | None,
    shown_name: str | None = None,
) -> None:
    """`shown_name`: the pseudonym of anonymous content, which the log names instead."""
    before = {"status": author["status"]}
    if action == "suspend":
        await User.update({User.status: "suspended", User.suspended_until: until}).where(
            User.id == author["id"]
        )
        after: dict[str, Any] = {"status": "suspended", "suspended_until": until}
    elif action == "ban":
        # A ban also ends every session and token at once.
        await User.update(
            {User.status: "banned", User.session_epoch: User.session_epoch + 1}
        ).where(User.id == author["id"])
        after = {"status": "banned"}
    else:
        after = before
    if content_action is not None:  # the content action has its own entry; record this one too
        await audit.record(
            viewer,
            action,
            kind="user",
            object_id=author["id"],
            item_id=item["id"],
            community_id=item["community"],
            target_user_id=author["id"],
            target_name=shown_name or author["username"],
            note=note,
            before=before,
            after=after,
            anonymous=shown_name is not None,
        )


async def _tell_author(
    target: targets.Target,
    item: dict[str, Any],
    content_action: str | None,
    member_action: str | None,
    note: str,
    until: datetime | None,
    appeal: dict[str, Any] | None,
) -> None:
    parts = []
    if content_action:
        parts.append(_OUTCOME[content_action])
    if member_action:
        parts.append(
            _OUTCOME[member_action].format(
                until=until.strftime("%d %B %Y, %H:%M UTC") if until else ""
            )
        )
    if note:
        parts.append(f"Their note: “{note}”")
    decided = content_action or member_action
    can_appeal = appeal is None and decided in APPEALABLE and not await _was_appealed(item["id"])
    if can_appeal:
        parts.append(
            "If you think this is wrong, you can appeal once; another moderator will look."
        )
    if appeal is not None:
        parts.insert(0, "Your appeal was decided by a different moderator.")
    await notices.notify(
        target.author_id,
        member_action or content_action or "decision",
        " ".join(parts),
        item_id=item["id"],
        can_appeal=can_appeal,
    )


async def _was_appealed(item_id: int) -> bool:
    return await Appeal.exists().where(Appeal.item == item_id)


async def appeal(viewer: Viewer, item_id: Any, reason: Any) -> dict[str, Any]:
    """The author appeals a decision about their content, once; the item goes back to the
    queue for a moderator other than the one who decided."""
    ensure_signed_in(viewer)  # suspended members may appeal their suspension
    if not isinstance(item_id, int) or isinstance(item_id, bool) or not 0 < item_id < 2**31:
        raise NotFound("We couldn't find that decision.")
    item = await ModerationItem.select().where(ModerationItem.id == item_id).first()
    if item is None or item["author"] != viewer.id or item["resolved_by"] is None:
        raise NotFound("We couldn't find that decision.")
    if item["resolution"] not in APPEALABLE:
        raise Conflict("There's nothing to appeal: this decision was in your favour.")
    if await _was_appealed(item["id"]):
        raise Conflict("You've already appealed this decision; each decision can be appealed once.")
    form = Form()
    text = form.text(
        "reason", reason, label="Your reason", max_length=NOTE_MAX, min_length=10, multiline=True
    )
    form.check()
    reopened = await items.find_open(item["kind"], item["object_id"])
    if reopened is not None and reopened["id"] != item["id"]:
        # One open item per post: it is back in the queue for another reason already.
        raise Conflict(
            "Your post is already with the moderators again, so they will look at it afresh; "
            "please appeal once they have decided."
        )
    now = datetime.now(UTC)
    async with db.transaction():
        rows = await db.raw(
            'INSERT INTO "moderation_appeal" ("item", "appellant", "decision", "original_decider", '
            '"reason", "state", "created_at") VALUES ({}, {}, {}, {}, {}, {}, {}) '
            'ON CONFLICT ("item") DO NOTHING RETURNING "id"',
            item["id"],
            viewer.id,
            item["resolution"],
            item["resolved_by"],
            text,
            OPEN,
            now,
        )
        if not rows:
            raise Conflict(
                "You've already appealed this decision; each decision can be appealed once."
            )
        reasons = (
            item["reasons"]
            if ",appeal," in item["reasons"]
            else (item["reasons"] or ",") + "appeal,"
        )
        await ModerationItem.update(
            {
                ModerationItem.state: OPEN,
                ModerationItem.reasons: reasons,
                ModerationItem.updated_at: now,
            }
        ).where(ModerationItem.id == item["id"])
        # The author of anonymous content (forum.anonymity) appeals under its pseudonym.
        pseudonym = await _pseudonym_of(item)
        await audit.record(
            Viewer(id=viewer.id, username=pseudonym) if pseudonym else viewer,
            "appeal",
            kind=item["kind"],
            object_id=item["object_id"],
            item_id=item["id"],
            community_id=item["community"],
            target_user_id=viewer.id,
            target_name=pseudonym or viewer.username,
            note=text,
            before={"decision": item["resolution"], "state": item["state"]},
            after={"state": OPEN},
            anonymous=pseudonym is not None,
        )
    return {"id": rows[0]["id"], "item_id": item["id"], "state": OPEN}


async def _pseudonym_of(item: dict[str, Any]) -> str | None:
    """The pseudonym of the anonymous post an item is about, if it is one."""
    if item["kind"] not in ("thread", "post") or item.get("post_id") is None:
        return None
    rows = await db.raw(
        'SELECT "anonymous", "pseudonym" FROM "post" WHERE "id" = {}', item["post_id"]
    )
    return rows[0]["pseudonym"] if rows and rows[0]["anonymous"] else None


async def appealed_items(viewer: Viewer, item_ids: list[int | None]) -> dict[int, str]:
    """For the viewer's own items among these, the state of their appeal (if they appealed)."""
    ids = sorted({item_id for item_id in item_ids if item_id is not None})
    if not ids or viewer.id is None:
        return {}
    rows = await Appeal.select(Appeal.item, Appeal.state).where(
        Appeal.item.is_in(ids) & (Appeal.appellant == viewer.id)
    )
    return {row["item"]: row["state"] for row in rows}
