"""Moderation's tables: review items, flags, appeals, notices to members and the audit log.

Changed only through migrations in moderation/piccolo_migrations. Times are UTC. Content is
referred to by kind ("post", "thread"; "story" and "comment" when those exist) and id, so new
kinds of content need no new columns here.
"""

from __future__ import annotations

from piccolo.columns import (
    Boolean,
    DoublePrecision,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from forum.tables import Community, User

OPEN = "open"
RESOLVED = "resolved"


class ModerationItem(Table, tablename="moderation_item"):
    """Something a moderator should look at: held or labelled by screening, escalated as a
    crisis, or flagged by members. One open item per piece of content (unique index).

    Items without a community (a clinician's application) are site-wide: every moderator's
    queue shows them."""

    kind = Varchar(length=24)
    object_id = Integer()
    post_id = Integer(null=True, default=None)
    thread_id = Integer(null=True, default=None)
    community = ForeignKey(Community, null=True, on_delete=OnDelete.cascade, index=True)
    author = ForeignKey(User, null=True, on_delete=OnDelete.set_null, index=True)
    state = Varchar(length=16, default=OPEN)
    source = Varchar(length=16, default="screening")
    reason = Varchar(length=24, default="other")
    # Every reason that applies, comma-wrapped (",crisis,privacy,") so one LIKE finds any.
    reasons = Varchar(length=255, default="")
    severity = Integer(default=0)
    screening_action = Varchar(length=16, null=True, default=None)
    hits = Text(default="[]")
    label = Varchar(length=300, null=True, default=None)
    flag_count = Integer(default=0)
    resolution = Varchar(length=16, null=True, default=None)
    resolution_note = Text(default="")
    resolved_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    resolved_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class Flag(Table, tablename="moderation_flag"):
    """A member's report of content, with a reason and an optional note. One open flag per
    person per piece of content (unique index). `weight` is the flagger's weight when flagging."""

    item = ForeignKey(ModerationItem, null=False, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=16)
    object_id = Integer()
    flagger = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    reason = Varchar(length=16)
    note = Text(default="")
    weight = DoublePrecision(default=1.0)
    state = Varchar(length=16, default=OPEN)  # open, upheld, dismissed
    created_at = Timestamptz()
    resolved_at = Timestamptz(null=True, default=None)


class Appeal(Table, tablename="moderation_appeal"):
    """An author's one appeal against a decision; a different moderator decides it."""

    item = ForeignKey(ModerationItem, null=False, on_delete=OnDelete.cascade, index=True)
    appellant = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    decision = Varchar(length=16)
    original_decider = Integer(null=True, default=None)
    reason = Text()
    state = Varchar(length=16, default=OPEN)  # open, granted, denied
    decided_by = Integer(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class Notice(Table, tablename="moderation_notice"):
    """A message to a member about a moderation outcome, shown until they read it. Small on
    purpose: notifications proper will replace it."""

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    item_id = Integer(null=True, default=None)
    kind = Varchar(length=16)
    message = Text()
    can_appeal = Boolean(default=False)
    created_at = Timestamptz()
    read_at = Timestamptz(null=True, default=None)


class AuditEntry(Table, tablename="moderation_audit"):
    """One moderation action: who, what, when, why, and the state before and after.

    Append-only: no code updates or deletes it, and database triggers refuse to. People are
    stored by id and name, not by foreign key, so the log outlives accounts unchanged."""

    actor_id = Integer(null=True, default=None)  # None: done automatically (screening, flags)
    actor_name = Varchar(length=32, default="")
    action = Varchar(length=24)
    kind = Varchar(length=24, default="")
    object_id = Integer(null=True, default=None)
    item_id = Integer(null=True, default=None)
    community_id = Integer(null=True, default=None)
    target_user_id = Integer(null=True, default=None)
    target_name = Varchar(length=32, default="")
    note = Text(default="")
    before = Text(default="{}")
    after = Text(default="{}")
    created_at = Timestamptz()
