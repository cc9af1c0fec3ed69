"""Review items: one open item per piece of content, whatever brought it to the queue.

Screening (holds, labels, crisis) and members' flags both open an item or add to the open one,
so a moderator sees everything about a post in one place. Severity orders the queue, crisis
first.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from forum import db
from moderation.tables import OPEN, ModerationItem

# Reasons a queue can be filtered by: members' flag reasons, screening's families, and
# "clinician" for clinicians' applications to be verified (forum.clinicians).
REASONS = (
    "crisis",
    "misinformation",
    "privacy",
    "harassment",
    "spam",
    "watched_word",
    "link",
    "trust",
    "appeal",
    "clinician",
    "other",
)
FAMILY_REASON = {"phi": "privacy"}
REASON_SEVERITY = {
    "crisis": 100,
    "misinformation": 50,
    "privacy": 60,
    "harassment": 45,
    "spam": 20,
    "watched_word": 30,
    "link": 25,
    "trust": 10,
    "appeal": 35,
    "clinician": 15,
    "other": 10,
}


def reason_of(family: str) -> str:
    return FAMILY_REASON.get(family, family)


def _wrap(reasons: list[str]) -> str:
    return "," + ",".join(dict.fromkeys(r for r in reasons if r)) + "," if reasons else ""


def _primary(reasons: list[str]) -> str:
    return max(reasons, key=lambda reason: REASON_SEVERITY.get(reason, 0)) if reasons else "other"


async def find_open(kind: str, object_id: int) -> dict[str, Any] | None:
    return (
        await ModerationItem.select()
        .where(
            (ModerationItem.kind == kind)
            & (ModerationItem.object_id == object_id)
            & (ModerationItem.state == OPEN)
        )
        .first()
    )


async def open_item(
    *,
    kind: str,
    object_id: int,
    post_id: int | None,
    thread_id: int | None,
    community_id: int | None,
    author_id: int | None,
    source: str,
    reasons: list[str],
    severity: int,
    hits: list[dict[str, Any]] | None = None,
    label: str | None = None,
    screening_action: str | None = None,
) -> int:
    """Open a review item for this content, or add these reasons to its open one; its id.

    Call inside the transaction of the change that brought it here."""
    now = datetime.now(UTC)
    existing = await find_open(kind, object_id)
    if existing is None:
        rows = await db.raw(
            'INSERT INTO "moderation_item" ("kind", "object_id", "post_id", "thread_id", '
            '"community", "author", "state", "source", "reason", "reasons", "severity", '
            '"screening_action", "hits", "label", "flag_count", "resolution_note", '
            '"created_at", "updated_at") VALUES '
            "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) "
            'ON CONFLICT ("kind", "object_id") WHERE "state" = \'open\' DO NOTHING '
            'RETURNING "id"',
            kind,
            object_id,
            post_id,
            thread_id,
            community_id,
            author_id,
            OPEN,
            source,
            _primary(reasons),
            _wrap(reasons),
            severity,
            screening_action,
            json.dumps(hits or []),
            label,
            0,
            "",
            now,
            now,
        )
        if rows:
            return rows[0]["id"]
        existing = await find_open(kind, object_id)
        assert existing is not None
    known = [r for r in existing["reasons"].strip(",").split(",") if r]
    merged = [*known, *reasons]
    old_hits = json.loads(existing["hits"] or "[]")
    new_hits = [hit for hit in hits or [] if hit not in old_hits]
    changes: dict[Any, Any] = {
        ModerationItem.reasons: _wrap(merged),
        ModerationItem.reason: _primary(merged),
        ModerationItem.severity: max(existing["severity"], severity),
        ModerationItem.hits: json.dumps([*old_hits, *new_hits]),
        ModerationItem.updated_at: now,
    }
    if label is not None:
        changes[ModerationItem.label] = label
    if screening_action is not None:
        changes[ModerationItem.screening_action] = screening_action
    await ModerationItem.update(changes).where(ModerationItem.id == existing["id"])
    return existing["id"]
