"""What moderators see of private conversations: only a message a participant reported (with the
earlier messages the reporter chose to share) or one screening held, and every look is logged.

Moderators have no way to browse a conversation (forum.messages refuses anyone who isn't in
it, moderators and admins included). A reported or held message becomes a site-wide review
item of kind "message"; the queue lists it without its words, and opening the item is what
shows them, writing a "read_message" entry to the audit log each time.
"""

from __future__ import annotations

import json
from typing import Any

from forum import db
from forum.permissions import Viewer
from moderation import audit

ACTION = "read_message"


async def _messages(ids: list[int], conversation_id: int) -> list[dict[str, Any]]:
    if not ids:
        return []
    marks = ", ".join("{}" for _ in ids)
    return await db.raw(
        'SELECT m."id", m."body_html", m."status", m."created_at", '
        'u."username" AS "sender_username", u."display_name" AS "sender_display_name" '
        'FROM "private_message" m LEFT JOIN "kindred_user" u ON u."id" = m."sender" '
        f'WHERE m."id" IN ({marks}) AND m."conversation" = {{}} ORDER BY m."id"',
        *ids,
        conversation_id,
    )


def _shared_ids(raw: Any) -> list[int]:
    try:
        values = json.loads(raw or "[]")
    except ValueError:
        return []
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)][:20]


async def for_moderator(viewer: Viewer, item: dict[str, Any]) -> dict[str, Any] | None:
    """The reported (or held) message of a review item, each report with what its reporter
    shared, for a moderator who may decide the item. Logs the look."""
    rows = await db.raw(
        'SELECT m."id", m."conversation", m."sender", m."body", m."body_html", m."status", '
        'm."label", m."created_at", u."username" AS "sender_username", '
        'u."display_name" AS "sender_display_name" FROM "private_message" m '
        'LEFT JOIN "kindred_user" u ON u."id" = m."sender" WHERE m."id" = {}',
        item["object_id"],
    )
    if not rows:
        return None
    message = rows[0]
    reports = await db.raw(
        'SELECT r."id", r."reason", r."note", r."shared", r."created_at", '
        'u."username" AS "reporter_username", u."display_name" AS "reporter_display_name" '
        'FROM "message_report" r LEFT JOIN "kindred_user" u ON u."id" = r."reporter" '
        'WHERE r."message" = {} ORDER BY r."id"',
        message["id"],
    )
    shown = 0
    for report in reports:
        report["context"] = await _messages(_shared_ids(report["shared"]), message["conversation"])
        shown += len(report["context"])
    what = (
        f"the reported message and {shown} earlier message(s) its reporter(s) chose to share"
        if reports
        else "a message screening held"
    )
    await audit.record(
        viewer,
        ACTION,
        kind="message",
        object_id=message["id"],
        item_id=item["id"],
        community_id=None,
        target_user_id=message["sender"],
        target_name=message["sender_username"] or "",
        note=f"Read {what}.",
    )
    del message["conversation"]  # nothing here leads into the conversation
    return {**message, "reports": reports}
