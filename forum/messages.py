"""Private conversations between members: starting one, replying, leaving, muting, reading with
unread counts, who may write to whom, and reporting a message to the moderators.

Who may start a conversation with a member is theirs to choose (message_setting): anyone,
members of a community they share (the default), or nobody. Moderators may still write to
members of the communities they moderate, and admins to anyone, whatever the setting, so
that someone can always reach out. Blocks (forum.blocks) hold whatever the setting and role:
neither of two people who blocked each other can start a conversation with the other, and a
conversation of just the two takes no more messages. In a larger conversation the blocked
person's messages are collapsed for the blocker and don't notify them.

New members can't start conversations until they have a record in the communities
(forum.permissions.may_start_conversations); they can answer when someone writes to them.

Messages go through the content pipeline and screening as posts do, with what privacy
changes: crisis language shows the sender the crisis resources at once and is delivered, but
is not put in the queue, since moderators don't read conversations; personal details warn
first and, if the sender confirms, are delivered as written (they chose who reads them);
claims screening would hold, blocked words and domains, link shorteners, and any link from a
new account (trust level 0) hold the message: it is not delivered until a moderator approves
it, and that moderator's look at that one message is audited (moderation.private). A health
claim screening labels is delivered with the label.

A participant can report a message, choosing how many of the messages before it to share
(none by default). Moderators see the reported message and those, never the rest.
Moderators and admins can't open a conversation they are not in: it is "not found".
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from forum import blocks, content, db, notifications, ratelimit
from forum.errors import Conflict, Forbidden, Invalid, NotFound, RateLimited
from forum.pagination import Page
from forum.permissions import (
    Viewer,
    ensure_active,
    ensure_can_start_conversations,
    ensure_signed_in,
    may_start_conversations,
)
from forum.settings import RateLimit, Settings
from forum.tables import (
    DELETED,
    HELD,
    HIDDEN,
    MESSAGE_AUDIENCES,
    PUBLISHED,
    REMOVED,
    ConversationMember,
    PrivateMessage,
)
from forum.validation import Form
from moderation import items, trust
from moderation.matchers import count_links
from moderation.posting import ScreeningRejected, rules_for
from moderation.rulebook import RuleSet
from moderation.screening import Draft, Hit, Standing, Verdict, screen

BODY_MAX = 20_000
SUBJECT_MAX = 200
MAX_RECIPIENTS = 9
MAX_SHARED = 10  # earlier messages a reporter may share with a report
MESSAGES_PER_PAGE = 100  # of a conversation, the latest first; earlier ones a link away
REPORTS_PER_HOUR = 20
REPORTING_TOO_FAST = "You've reported a lot in the last hour. Please wait a while."
DEFAULT_AUDIENCE = "communities"
AUDIENCE_NAMES = {
    "anyone": "Any member",
    "communities": "Members of a community I'm in",
    "nobody": "Nobody",
}
REPORT_REASONS = ("harassment", "spam", "misinformation", "privacy", "crisis", "other")
# Taken back by its sender (unsend_message): its words are gone from the database too.
UNSENT = "unsent"
PLACEHOLDERS = {
    DELETED: "This message was deleted with its sender's account.",
    UNSENT: "This message was unsent by its sender.",
    HIDDEN: "This message is hidden while a moderator looks at it.",
    REMOVED: "This message was removed by a moderator.",
}
NOT_FOUND = "We couldn't find that conversation."
PHI_WARNING = (
    "Before you send: it looks like this includes personal details. Remove them, or send it "
    "as it is: only the people in this conversation will read it."
)
NEW_MEMBER_LINKS = (
    "Because your account is new, messages with links are checked by a moderator before "
    "they're delivered. A moderator will read this one message; nobody else sees it until then."
)


def _now() -> datetime:
    return datetime.now(UTC)


def _valid_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def _marks(values: list[Any]) -> str:
    return ", ".join("{}" for _ in values)


# Who may write to whom --------------------------------------------------------------------


async def audience_of(user_id: int) -> str:
    rows = await db.raw('SELECT "audience" FROM "message_setting" WHERE "user" = {}', user_id)
    return rows[0]["audience"] if rows else DEFAULT_AUDIENCE


async def set_audience(viewer: Viewer, audience: Any) -> str:
    """Choose who may start conversations with the viewer."""
    ensure_signed_in(viewer)
    form = Form()
    value = form.choice("audience", audience, MESSAGE_AUDIENCES, label="Who may message you")
    form.check()
    await db.raw(
        'INSERT INTO "message_setting" ("user", "audience", "updated_at") VALUES ({}, {}, {}) '
        'ON CONFLICT ("user") DO UPDATE SET "audience" = EXCLUDED."audience", '
        '"updated_at" = EXCLUDED."updated_at"',
        viewer.id,
        value,
        _now(),
    )
    return value


async def _recipients(viewer: Viewer, names: list[str]) -> list[dict[str, Any]]:
    """The people named, each checked against their setting and blocks; Invalid (on "to")
    naming whoever can't be written to, and why in words they can act on."""
    moderated = sorted(viewer.moderates)
    staff_clause = (
        f'EXISTS (SELECT 1 FROM "membership" m3 WHERE m3."user" = u."id" '
        f'AND m3."community" IN ({_marks(moderated)}))'
        if moderated
        else "1 = 0"
    )
    rows = await db.raw(
        'SELECT u."id", u."username", u."display_name", u."status", '
        'COALESCE(s."audience", {}) AS "audience", '
        'EXISTS (SELECT 1 FROM "member_block" b WHERE b."blocker" = {} AND b."blocked" = u."id") '
        'AS "i_blocked", '
        'EXISTS (SELECT 1 FROM "member_block" b WHERE b."blocker" = u."id" AND b."blocked" = {}) '
        'AS "blocked_me", '
        'EXISTS (SELECT 1 FROM "membership" m1 JOIN "membership" m2 ON m2."community" = '
        'm1."community" WHERE m1."user" = u."id" AND m2."user" = {}) AS "shared", '
        f'{staff_clause} AS "moderated" '
        'FROM "kindred_user" u LEFT JOIN "message_setting" s ON s."user" = u."id" '
        f'WHERE u."username" IN ({_marks(names)}) AND u."status" <> {{}}',
        DEFAULT_AUDIENCE,
        viewer.id,
        viewer.id,
        viewer.id,
        *moderated,
        *names,
        "deleted",
    )
    found = {row["username"]: row for row in rows}
    problems = []
    for name in names:
        row = found.get(name)
        if row is None:
            problems.append(f"We couldn't find @{name}.")
        elif row["id"] == viewer.id:
            problems.append("You can't send a message to yourself.")
        elif row["i_blocked"]:
            problems.append(f"You blocked @{name}. Unblock them first to write to them.")
        elif row["blocked_me"] or row["status"] == "banned":
            problems.append(f"@{name} isn't taking private messages from you.")
        elif viewer.is_admin or row["moderated"]:
            continue  # staff can always reach the people they look after
        elif row["audience"] == "nobody":
            problems.append(f"@{name} isn't taking private messages from you.")
        elif row["audience"] == "communities" and not row["shared"]:
            problems.append(
                f"@{name} only takes private messages from people in a community they're in."
            )
    if problems:
        raise Invalid({"to": " ".join(problems)}, problems[0])
    return [found[name] for name in names]


def _names(raw: Any) -> list[str]:
    """Usernames from a list, or from text separated by commas or spaces (with or without @)."""
    if isinstance(raw, str):
        raw = raw.replace(",", " ").split()
    if not isinstance(raw, list):
        raise Invalid({"to": "Say who the message is for, by username."})
    names: dict[str, None] = {}
    for value in raw:
        if not isinstance(value, str):
            raise Invalid({"to": "Usernames must be text."})
        name = value.strip().lstrip("@").lower()[:32]
        if name:
            names.setdefault(name, None)
    if not names:
        raise Invalid({"to": "Say who the message is for, by username."})
    if len(names) > MAX_RECIPIENTS:
        raise Invalid({"to": f"A conversation can have at most {MAX_RECIPIENTS + 1} people."})
    return list(names)


# Screening --------------------------------------------------------------------------------


async def _standing(viewer: Viewer) -> Standing:
    standing = await trust.standing_of(viewer, 0)
    if viewer.moderates and not standing.moderates_here:
        standing = dataclasses.replace(standing, moderates_here=True)
    return standing


def _hold_new_members_links(
    verdict: Verdict, standing: Standing, text: str, rules: RuleSet
) -> Verdict:
    """Any link from a new account holds a message (posts allow new members a couple)."""
    if (
        verdict.action == "reject"
        or standing.exempt_from_limits
        or standing.trust_level > 0
        or count_links(text, rules) == 0
    ):
        return verdict
    hit = Hit(
        family="link",
        rule="new-member-message-links",
        title="A link in a new member's private message",
        message=NEW_MEMBER_LINKS,
        action="hold",
    )
    return dataclasses.replace(
        verdict,
        action="hold",
        hits=(*verdict.hits, hit),
        review=True,
        severity=max(verdict.severity, 25),
        label=None,
    )


async def screen_message(
    viewer: Viewer, text: str, subject: str, confirm_phi: bool, rules: RuleSet
) -> Verdict:
    """Screen a message before anything is stored; raise when it can't be sent as it is."""
    standing = await _standing(viewer)
    verdict = screen(
        Draft(
            text=text,
            title=subject,
            kind="message",
            author=standing,
            confirm_phi=confirm_phi,
            private=True,
        ),
        rules,
    )
    if not verdict.stored:
        error = ScreeningRejected(verdict)
        if verdict.phi_warning:  # posts are held for a moderator; messages are not
            error.message = PHI_WARNING
            error.fields = {"body": PHI_WARNING}
        raise error
    return _hold_new_members_links(verdict, standing, text, rules)


async def _store(
    viewer: Viewer,
    conversation_id: int,
    text: str,
    verdict: Verdict,
    now: datetime,
) -> dict[str, Any]:
    """Insert a screened message (inside the caller's transaction): a held one opens a review
    item; a delivered one bumps the conversation and notifies the others."""
    rendered = content.render(text)
    status = HELD if verdict.held else PUBLISHED
    rows = await PrivateMessage.insert(
        PrivateMessage(
            conversation=conversation_id,
            sender=viewer.id,
            body=text,
            body_html=rendered.html,
            policy_version=rendered.policy_version,
            status=status,
            label=verdict.label,
            created_at=now,
        )
    ).returning(PrivateMessage.id, PrivateMessage.status, PrivateMessage.created_at)
    message = rows[0]
    if status == HELD:
        await items.open_item(
            kind="message",
            object_id=message["id"],
            post_id=None,
            thread_id=None,
            community_id=None,
            author_id=viewer.id,
            source="screening",
            reasons=[items.reason_of(hit.family) for hit in verdict.hits if hit.action == "hold"]
            or ["other"],
            severity=verdict.severity,
            hits=verdict.for_moderators(),
            label=verdict.label,
            screening_action=verdict.action,
        )
    else:
        await _deliver(viewer.id, conversation_id, message["id"], now)
    # The sender has read everything up to their own message.
    await db.raw(
        'UPDATE "conversation_member" SET "last_read_id" = {} WHERE "conversation" = {} '
        'AND "user" = {} AND "last_read_id" < {}',
        message["id"],
        conversation_id,
        viewer.id,
        message["id"],
    )
    return message


async def _deliver(
    sender_id: int | None, conversation_id: int, message_id: int, now: datetime
) -> None:
    await db.raw(
        'UPDATE "conversation" SET "last_message_at" = {} WHERE "id" = {}', now, conversation_id
    )
    await notifications.message_sent(sender_id, conversation_id, message_id)


async def delivered(message_id: int) -> int:
    """A held message a moderator approved: it reaches the conversation now (moderation's
    decisions call this, through notifications.content_published)."""
    rows = await db.raw(
        'SELECT "sender", "conversation", "status" FROM "private_message" WHERE "id" = {}',
        message_id,
    )
    if not rows or rows[0]["status"] != PUBLISHED:
        return 0
    await _deliver(rows[0]["sender"], rows[0]["conversation"], message_id, _now())
    return 1


def _result(message: dict[str, Any], conversation_id: int, verdict: Verdict) -> dict[str, Any]:
    return {
        "id": message["id"],
        "conversation": conversation_id,
        "status": message["status"],
        "moderation": verdict.as_json(),
    }


async def _rate_limit(settings: Settings, viewer: Viewer) -> None:
    rule = settings.rate_limits.get("message_user") or settings.rate_limits["post_user"]
    await ratelimit.hit(
        f"message:{viewer.id}",
        rule,
        message="You're sending messages very quickly. Please wait a few minutes and try "
        "again; your text is kept below.",
    )


def _check_body(form: Form, body: Any) -> str:
    return form.text("body", body, label="Your message", max_length=BODY_MAX, multiline=True)


# Starting and replying --------------------------------------------------------------------


async def start_conversation(
    settings: Settings,
    viewer: Viewer,
    to: Any,
    body: Any,
    subject: Any = "",
    *,
    confirm_phi: bool = False,
) -> dict[str, Any]:
    """Start a conversation with one or more members; returns its first message."""
    ensure_can_start_conversations(viewer)
    names = _names(to)
    form = Form()
    subject_value = form.text(
        "subject", subject, label="Subject", max_length=SUBJECT_MAX, required=False
    )
    text = _check_body(form, body)
    form.check()
    recipients = await _recipients(viewer, names)
    await _rate_limit(settings, viewer)
    rules = rules_for(settings.data_dir)
    verdict = await screen_message(viewer, text, subject_value, confirm_phi, rules)
    text = verdict.text or text
    subject_value = verdict.title or subject_value
    now = _now()
    async with db.transaction():
        rows = await db.raw(
            'INSERT INTO "conversation" ("subject", "created_by", "created_at", "last_message_at") '
            'VALUES ({}, {}, {}, {}) RETURNING "id"',
            subject_value,
            viewer.id,
            now,
            now,
        )
        conversation_id = rows[0]["id"]
        for user_id in [viewer.id, *(row["id"] for row in recipients)]:
            await ConversationMember.insert(
                ConversationMember(conversation=conversation_id, user=user_id, joined_at=now)
            )
        message = await _store(viewer, conversation_id, text, verdict, now)
    return _result(message, conversation_id, verdict)


async def _membership(viewer: Viewer, conversation_id: Any) -> dict[str, Any]:
    """The viewer's place in a conversation they are still in; NotFound for anyone else,
    moderators and admins included."""
    ensure_signed_in(viewer)
    if not _valid_id(conversation_id):
        raise NotFound(NOT_FOUND)
    rows = await db.raw(
        'SELECT cm."id", cm."conversation", cm."last_read_id", cm."muted", c."subject", '
        'c."created_at", c."last_message_at" FROM "conversation_member" cm '
        'JOIN "conversation" c ON c."id" = cm."conversation" '
        f'WHERE cm."conversation" = {{}} AND cm."user" = {{}} AND cm."left_at" IS NULL AND {_SEEN}',
        conversation_id,
        viewer.id,
    )
    if not rows:
        raise NotFound(NOT_FOUND)
    return rows[0]


async def _others(viewer: Viewer, conversation_id: int) -> list[dict[str, Any]]:
    return await db.raw(
        'SELECT u."id", u."username", u."display_name", u."status", cm."left_at" '
        'FROM "conversation_member" cm JOIN "kindred_user" u ON u."id" = cm."user" '
        'WHERE cm."conversation" = {} AND cm."user" <> {} ORDER BY cm."id"',
        conversation_id,
        viewer.id,
    )


async def _reply_problem(viewer: Viewer, others: list[dict[str, Any]]) -> str | None:
    """Why the viewer can't write here now, or None."""
    present = [row for row in others if row["left_at"] is None and row["status"] != "deleted"]
    if not present:
        return "Everyone else has left this conversation, so nobody would read a reply."
    if len(present) == 1:
        blocked = await blocks.blocked_either_way(viewer.id, [present[0]["id"]])  # type: ignore[arg-type]
        if blocked:
            return "You can't send messages in this conversation any more."
    return None


async def send_message(
    settings: Settings,
    viewer: Viewer,
    conversation_id: Any,
    body: Any,
    *,
    confirm_phi: bool = False,
) -> dict[str, Any]:
    """Reply in a conversation the viewer is in."""
    ensure_active(viewer)
    membership = await _membership(viewer, conversation_id)
    form = Form()
    text = _check_body(form, body)
    form.check()
    problem = await _reply_problem(viewer, await _others(viewer, membership["conversation"]))
    if problem:
        raise Forbidden(problem)
    await _rate_limit(settings, viewer)
    rules = rules_for(settings.data_dir)
    verdict = await screen_message(viewer, text, "", confirm_phi, rules)
    text = verdict.text or text
    async with db.transaction():
        message = await _store(viewer, membership["conversation"], text, verdict, _now())
    return _result(message, membership["conversation"], verdict)


# Reading ----------------------------------------------------------------------------------

# A conversation exists for a participant once it has a message they can see: one that was
# delivered, or their own. Until a held first message is approved, nobody else knows of it.
_SEEN = (
    'EXISTS (SELECT 1 FROM "private_message" sm WHERE sm."conversation" = cm."conversation" '
    'AND (sm."status" <> \'held\' OR sm."sender" = cm."user"))'
)

_UNREAD = (
    '(SELECT COUNT(*) FROM "private_message" pm WHERE pm."conversation" = c."id" '
    'AND pm."id" > cm."last_read_id" AND pm."status" = \'published\' '
    'AND COALESCE(pm."sender", 0) <> cm."user" AND NOT EXISTS (SELECT 1 FROM "member_block" b '
    'WHERE b."blocker" = cm."user" AND b."blocked" = pm."sender"))'
)


async def list_conversations(
    viewer: Viewer, *, page: int = 1, per_page: int = 20
) -> Page[dict[str, Any]]:
    """The viewer's inbox: conversations they are in, most recent first, with unread counts,
    who else is in them, and a preview of the last message they can see."""
    ensure_signed_in(viewer)
    total = await db.raw(
        'SELECT COUNT(*) AS "n" FROM "conversation_member" cm WHERE cm."user" = {} '
        f'AND cm."left_at" IS NULL AND {_SEEN}',
        viewer.id,
    )
    rows = await db.raw(
        'SELECT c."id", c."subject", c."created_at", c."last_message_at", cm."muted", '
        f'{_UNREAD} AS "unread", '
        '(SELECT pm."id" FROM "private_message" pm WHERE pm."conversation" = c."id" AND '
        '(pm."status" = \'published\' OR pm."sender" = cm."user") ORDER BY pm."id" DESC LIMIT 1) '
        'AS "last_id" '
        'FROM "conversation_member" cm JOIN "conversation" c ON c."id" = cm."conversation" '
        f'WHERE cm."user" = {{}} AND cm."left_at" IS NULL AND {_SEEN} '
        'ORDER BY c."last_message_at" DESC, c."id" DESC LIMIT {} OFFSET {}',
        viewer.id,
        per_page,
        (page - 1) * per_page,
    )
    ids = [row["id"] for row in rows]
    people: dict[int, list[dict[str, Any]]] = {}
    last: dict[int, dict[str, Any]] = {}
    if ids:
        for person in await db.raw(
            'SELECT cm."conversation", u."username", u."display_name", cm."left_at" '
            'FROM "conversation_member" cm JOIN "kindred_user" u ON u."id" = cm."user" '
            f'WHERE cm."conversation" IN ({_marks(ids)}) AND cm."user" <> {{}} ORDER BY cm."id"',
            *ids,
            viewer.id,
        ):
            people.setdefault(person["conversation"], []).append(person)
        last_ids = [row["last_id"] for row in rows if row["last_id"]]
        if last_ids:
            for message in await db.raw(
                'SELECT "id", "sender", "body", "status", "created_at" FROM "private_message" '
                f'WHERE "id" IN ({_marks(last_ids)})',
                *last_ids,
            ):
                last[message["id"]] = message
    items_: list[dict[str, Any]] = []
    for row in rows:
        message = last.get(row["last_id"])
        preview = ""
        if message is not None:
            if message["sender"] in viewer.blocked:
                preview = "A message from someone you blocked"
            elif message["status"] in PLACEHOLDERS:
                preview = PLACEHOLDERS[message["status"]]
            else:
                preview = content.excerpt(message["body"], 140)
        items_.append(
            {
                **row,
                "muted": bool(row["muted"]),
                "people": people.get(row["id"], []),
                "preview": preview,
                "last_from_me": message is not None and message["sender"] == viewer.id,
            }
        )
    return Page(items_, page, per_page, total[0]["n"])


def _present(viewer: Viewer, message: dict[str, Any]) -> dict[str, Any]:
    shown = dict(message)
    placeholder = PLACEHOLDERS.get(message["status"])
    mine = message["sender"] == viewer.id
    if placeholder:
        shown.update(body="", body_html="", label=None)
    shown["placeholder"] = placeholder
    shown["mine"] = mine
    shown["collapsed"] = not placeholder and message["sender"] in viewer.blocked
    shown["can_report"] = (
        not mine and message["sender"] is not None and message["status"] == PUBLISHED
    )
    shown["can_unsend"] = mine and message["status"] == PUBLISHED
    return shown


async def get_conversation(
    viewer: Viewer, conversation_id: Any, *, mark_read: bool = True, before: int | None = None
) -> dict[str, Any]:
    """A conversation the viewer is in: who is in it, its latest MESSAGES_PER_PAGE messages
    (their own held ones too), or those before the message `before`, and whether they can
    reply. Reading the latest marks it read, with its notifications. `earlier_before` is where
    the page of earlier messages starts, None when there are none."""
    membership = await _membership(viewer, conversation_id)
    conversation_id = membership["conversation"]
    others = await _others(viewer, conversation_id)
    older = [before] if before else []
    rows = await db.raw(
        'SELECT m."id", m."sender", m."body", m."body_html", m."status", m."label", '
        'm."created_at", u."username" AS "sender_username", '
        'u."display_name" AS "sender_display_name" FROM "private_message" m '
        'LEFT JOIN "kindred_user" u ON u."id" = m."sender" '
        'WHERE m."conversation" = {} AND (m."status" <> {} OR m."sender" = {}) '
        + ('AND m."id" < {} ' if older else "")
        + 'ORDER BY m."id" DESC LIMIT {}',
        conversation_id,
        HELD,
        viewer.id,
        *older,
        MESSAGES_PER_PAGE + 1,
    )
    has_earlier = len(rows) > MESSAGES_PER_PAGE
    rows = rows[:MESSAGES_PER_PAGE]
    rows.reverse()
    messages = [_present(viewer, row) for row in rows]
    problem = await _reply_problem(viewer, others)
    if mark_read and not older:
        await mark_read_up_to(viewer, conversation_id, rows)
    return {
        "earlier_before": rows[0]["id"] if has_earlier else None,
        "before": before,
        "conversation": {
            "id": conversation_id,
            "subject": membership["subject"],
            "created_at": membership["created_at"],
            "last_message_at": membership["last_message_at"],
            "muted": bool(membership["muted"]),
        },
        "people": others,
        "messages": messages,
        "unread_from": membership["last_read_id"],
        "can_reply": problem is None and not viewer.is_suspended,
        "reply_problem": problem,
    }


async def mark_read_up_to(viewer: Viewer, conversation_id: int, rows: list[dict[str, Any]]) -> None:
    newest = max((row["id"] for row in rows if row["status"] != HELD), default=0)
    await db.raw(
        'UPDATE "conversation_member" SET "last_read_id" = {} WHERE "conversation" = {} '
        'AND "user" = {} AND "last_read_id" < {}',
        newest,
        conversation_id,
        viewer.id,
        newest,
    )
    await db.raw(
        'UPDATE "notification" SET "read_at" = {} WHERE "user" = {} AND "conversation_id" = {} '
        'AND "read_at" IS NULL',
        _now(),
        viewer.id,
        conversation_id,
    )


async def leave(viewer: Viewer, conversation_id: Any) -> dict[str, Any]:
    """Leave a conversation: it goes from the inbox and the viewer reads nothing more of it."""
    membership = await _membership(viewer, conversation_id)
    await ConversationMember.update({ConversationMember.left_at: _now()}).where(
        ConversationMember.id == membership["id"]
    )
    return {"id": membership["conversation"], "left": True}


async def set_muted(viewer: Viewer, conversation_id: Any, muted: Any) -> dict[str, Any]:
    """Mute (no notifications, not in the unread count) or unmute a conversation."""
    membership = await _membership(viewer, conversation_id)
    value = muted is True or str(muted).lower() in ("1", "true", "on", "yes")
    await ConversationMember.update({ConversationMember.muted: value}).where(
        ConversationMember.id == membership["id"]
    )
    return {"id": membership["conversation"], "muted": value}


async def message_settings(viewer: Viewer) -> dict[str, Any]:
    ensure_signed_in(viewer)
    assert viewer.id is not None
    return {
        "audience": await audience_of(viewer.id),
        "blocked": await blocks.list_blocks(viewer),
        "may_start": may_start_conversations(viewer),
    }


# Reporting --------------------------------------------------------------------------------


async def report_message(
    settings: Settings,
    viewer: Viewer,
    message_id: Any,
    reason: Any,
    note: Any = "",
    *,
    include_previous: Any = 0,
    block_sender: bool = False,
) -> dict[str, Any]:
    """Report a message to the moderators, sharing the `include_previous` messages before it
    (0 to 10) if the reporter chooses; nothing else of the conversation reaches them. Suspended
    members may report too: being suspended is no reason to put up with harassment."""
    ensure_signed_in(viewer)
    if not _valid_id(message_id):
        raise NotFound("We couldn't find that message.")
    rows = await db.raw(
        'SELECT m."id", m."conversation", m."sender", m."status", u."username" AS "sender_username" '
        'FROM "private_message" m LEFT JOIN "kindred_user" u ON u."id" = m."sender" '
        'WHERE m."id" = {}',
        message_id,
    )
    if not rows:
        raise NotFound("We couldn't find that message.")
    message = rows[0]
    await _membership(viewer, message["conversation"])  # only someone in the conversation
    if message["status"] != PUBLISHED or message["sender"] is None:
        raise NotFound("We couldn't find that message.")
    if message["sender"] == viewer.id:
        raise Forbidden("You can't report your own message.")
    form = Form()
    reason_value = form.choice("reason", reason, REPORT_REASONS, label="Reason")
    note_value = form.text(
        "note", note, label="Note", max_length=1000, required=False, multiline=True
    )
    try:
        previous = int(include_previous or 0)
    except (TypeError, ValueError):
        previous = -1
    if not 0 <= previous <= MAX_SHARED:
        form.fail("include_previous", f"Share from 0 to {MAX_SHARED} earlier messages.")
    form.check()
    since = _now() - timedelta(hours=1)
    recent = await db.raw(
        'SELECT COUNT(*) AS "n" FROM "message_report" WHERE "reporter" = {} AND "created_at" >= {}',
        viewer.id,
        since,
    )
    if recent[0]["n"] >= REPORTS_PER_HOUR:
        raise RateLimited(3600, REPORTING_TOO_FAST)
    # The stored count alone lets a burst sent at once through; one atomic counter holds.
    await ratelimit.hit(
        f"message-report:{viewer.id}", RateLimit(REPORTS_PER_HOUR, 3600), message=REPORTING_TOO_FAST
    )
    shared: list[int] = []
    if previous:
        earlier = await db.raw(
            'SELECT "id" FROM "private_message" WHERE "conversation" = {} AND "id" < {} '
            'AND "status" = {} ORDER BY "id" DESC LIMIT {}',
            message["conversation"],
            message["id"],
            PUBLISHED,
            previous,
        )
        shared = sorted(row["id"] for row in earlier)
    rules = rules_for(settings.data_dir)
    weight = trust.flag_weight(
        viewer.trust_level,
        **await trust.flag_record(viewer.id),
        rules=rules.trust,  # type: ignore[arg-type]
    )
    now = _now()
    async with db.transaction():
        item_id = await items.open_item(
            kind="message",
            object_id=message["id"],
            post_id=None,
            thread_id=None,
            community_id=None,
            author_id=message["sender"],
            source="flag",
            reasons=[reason_value],
            severity=items.REASON_SEVERITY.get(reason_value, 10),
        )
        flag = await db.raw(
            'INSERT INTO "moderation_flag" ("item", "kind", "object_id", "flagger", "reason", '
            '"note", "weight", "state", "created_at") VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}) '
            'ON CONFLICT ("flagger", "kind", "object_id") WHERE "state" = \'open\' DO NOTHING '
            'RETURNING "id"',
            item_id,
            "message",
            message["id"],
            viewer.id,
            reason_value,
            note_value,
            weight,
            "open",
            now,
        )
        if not flag:
            raise Conflict("You've already reported this message. A moderator will look at it.")
        report = await db.raw(
            'INSERT INTO "message_report" ("message", "reporter", "item_id", "reason", "note", '
            '"shared", "created_at") VALUES ({}, {}, {}, {}, {}, {}, {}) '
            'ON CONFLICT ("reporter", "message") DO UPDATE SET "item_id" = EXCLUDED."item_id", '
            '"reason" = EXCLUDED."reason", "note" = EXCLUDED."note", '
            '"shared" = EXCLUDED."shared", "created_at" = EXCLUDED."created_at" RETURNING "id"',
            message["id"],
            viewer.id,
            item_id,
            reason_value,
            note_value,
            json.dumps(shared),
            now,
        )
        await db.raw(
            'UPDATE "moderation_item" SET "flag_count" = (SELECT COUNT(*) FROM "moderation_flag" '
            'WHERE "item" = {} AND "state" = {}), "updated_at" = {} WHERE "id" = {}',
            item_id,
            "open",
            now,
            item_id,
        )
    if block_sender and message["sender_username"]:
        await blocks.block(viewer, message["sender_username"])
    return {
        "id": report[0]["id"],
        "item_id": item_id,
        "message": message["id"],
        "shared": len(shared),
        "blocked": bool(block_sender and message["sender_username"]),
    }


async def get_message(viewer: Viewer, message_id: Any) -> dict[str, Any]:
    """One message of a conversation the viewer is in (for the report form)."""
    if not _valid_id(message_id):
        raise NotFound("We couldn't find that message.")
    rows = await db.raw(
        'SELECT m."id", m."conversation", m."sender", m."body", m."body_html", m."status", '
        'm."label", m."created_at", u."username" AS "sender_username", '
        'u."display_name" AS "sender_display_name" FROM "private_message" m '
        'LEFT JOIN "kindred_user" u ON u."id" = m."sender" WHERE m."id" = {}',
        message_id,
    )
    if not rows:
        raise NotFound("We couldn't find that message.")
    await _membership(viewer, rows[0]["conversation"])
    if rows[0]["status"] == HELD and rows[0]["sender"] != viewer.id:
        raise NotFound("We couldn't find that message.")
    return _present(viewer, rows[0])


async def message_link(viewer: Viewer, message: dict[str, Any]) -> str:
    """The address of the conversation page that shows `message` (one from get_message), at
    its anchor: the latest page when it is among the latest MESSAGES_PER_PAGE, else a page
    ending with it, so a person who came from an earlier page goes back to that message."""
    newer = await db.raw(
        'SELECT COUNT(*) AS "n" FROM (SELECT 1 FROM "private_message" m '
        'WHERE m."conversation" = {} AND m."id" > {} AND (m."status" <> {} OR m."sender" = {}) '
        "LIMIT {}) t",
        message["conversation"],
        message["id"],
        HELD,
        viewer.id,
        MESSAGES_PER_PAGE,
    )
    page = "" if newer[0]["n"] < MESSAGES_PER_PAGE else f"?before={message['id'] + 1}"
    return f"/messages/{message['conversation']}{page}#message-{message['id']}"


WITH_MODERATORS = (
    "This message is with the moderators (it was reported or is being reviewed), so it stays "
    "as it is until they have looked at it."
)


async def unsend_message(viewer: Viewer, message_id: Any) -> dict[str, Any]:
    """The sender takes a message back: everyone in the conversation sees a placeholder in its
    place, its words are erased from the database, and an unread notification of it goes.

    A message sent with a private detail by mistake should not stay in someone else's inbox.
    Not once it is with the moderators (reported, or in their queue): what they are looking at
    stays as it was. Unsending twice is no error."""
    ensure_signed_in(viewer)
    message = await get_message(viewer, message_id)
    if message["sender"] != viewer.id:
        raise NotFound("We couldn't find that message.")
    if message["status"] == UNSENT:
        return message
    if message["status"] != PUBLISHED:
        raise Conflict("Only a delivered message can be unsent.")
    async with db.transaction():
        rows = await db.raw(
            'UPDATE "private_message" SET "status" = {}, "body" = {}, "body_html" = {}, '
            '"label" = NULL WHERE "id" = {} AND "status" = {} AND NOT EXISTS (SELECT 1 FROM '
            '"moderation_item" i WHERE i."kind" = {} AND i."object_id" = {}) RETURNING "id"',
            UNSENT,
            "",
            "",
            message["id"],
            PUBLISHED,
            "message",
            message["id"],
        )
        if not rows:
            raise Conflict(WITH_MODERATORS)
        # A conversation's unread notification is its first unread message's, and stands for
        # the ones after it too: it goes only when no later message is left for it to announce.
        later = await db.raw(
            'SELECT 1 FROM "private_message" WHERE "conversation" = {} AND "id" > {} '
            'AND "status" = {} LIMIT 1',
            message["conversation"],
            message["id"],
            PUBLISHED,
        )
        if not later:
            await notifications.forget("message", message["id"])
    return await get_message(viewer, message["id"])
