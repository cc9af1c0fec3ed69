"""Telling members the outcome of moderation, and why.

A notice is a short message kept until read; the member's unread count lives on their user
row so every page can show "a message from the moderators" without another query.
Each notice is also a notification (forum.notifications), so the outcome reaches the bell and
e-mail; this page keeps the full message and the appeal.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from forum import notifications
from forum.permissions import Viewer, ensure_signed_in
from forum.tables import Notification, User
from moderation.tables import Notice


async def notify(
    user_id: int | None,
    kind: str,
    message: str,
    *,
    item_id: int | None = None,
    can_appeal: bool = False,
) -> None:
    """Leave a message for a member (call inside the transaction of the decision)."""
    if user_id is None:
        return
    rows = await Notice.insert(
        Notice(
            user=user_id,
            item_id=item_id,
            kind=kind,
            message=message,
            can_appeal=can_appeal,
            created_at=datetime.now(UTC),
        )
    ).returning(Notice.id)
    await User.update({User.unread_notices: User.unread_notices + 1}).where(User.id == user_id)
    # The outcome reaches the member's notifications (the bell, and e-mail if they chose it);
    # the message and its appeal stay here.
    await notifications.notify_moderation(
        user_id, message, notice_id=rows[0]["id"], item_id=item_id
    )


async def list_notices(viewer: Viewer, *, limit: int = 50) -> list[dict[str, Any]]:
    """The viewer's messages from moderators, newest first, with whether each can be appealed."""
    ensure_signed_in(viewer)
    return await (
        Notice.select()
        .where(Notice.user == viewer.id)
        .order_by(Notice.created_at, ascending=False)
        .order_by(Notice.id, ascending=False)
        .limit(limit)
    )


async def mark_all_read(viewer: Viewer) -> None:
    ensure_signed_in(viewer)
    await Notice.update({Notice.read_at: datetime.now(UTC)}).where(
        (Notice.user == viewer.id) & Notice.read_at.is_null()
    )
    await User.update({User.unread_notices: 0}).where(User.id == viewer.id)
    # Read here, so read in the notifications too.
    await Notification.update({Notification.read_at: datetime.now(UTC)}).where(
        (Notification.user == viewer.id)
        & (Notification.kind == "moderation")
        & Notification.read_at.is_null()
    )
