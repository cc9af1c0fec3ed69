"""The audit log: every moderation action, who did it, when, why, and the state before and after.

Append-only by construction: this module can add an entry and read entries, and nothing else;
database triggers refuse updates and deletes too. Callers record inside the transaction that
makes the change, so the log and the change land together.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from forum import db
from forum.errors import Forbidden
from forum.pagination import Page
from forum.permissions import Viewer, ensure_signed_in
from moderation.tables import AuditEntry

# In an entry's `after`: the entry is about anonymous content (forum.anonymity).
ANONYMOUS_MARK = "anonymous"


def _json(value: dict[str, Any] | None) -> str:
    return json.dumps(value or {}, sort_keys=True, default=str)


async def record(
    actor: Viewer | None,
    action: str,
    *,
    kind: str = "",
    object_id: int | None = None,
    item_id: int | None = None,
    community_id: int | None = None,
    target_user_id: int | None = None,
    target_name: str = "",
    note: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    anonymous: bool = False,
) -> None:
    """Append one entry. `actor` None means the system acted (screening, flags' auto-hide).

    `anonymous`: about content posted anonymously (forum.anonymity). The entry keeps who wrote
    it, for the record and their own export, but listings never show it (see `_row`), and
    `target_name` should be the pseudonym."""
    if anonymous:
        after = {**(after or {}), ANONYMOUS_MARK: True}
    await AuditEntry.insert(
        AuditEntry(
            actor_id=actor.id if actor else None,
            actor_name=actor.username if actor else "",
            action=action,
            kind=kind,
            object_id=object_id,
            item_id=item_id,
            community_id=community_id,
            target_user_id=target_user_id,
            target_name=target_name or "",
            note=note,
            before=_json(before),
            after=_json(after),
            created_at=datetime.now(UTC),
        )
    )


def ensure_can_read(viewer: Viewer) -> None:
    """Moderators read the log of the communities they moderate; admins all of it."""
    ensure_signed_in(viewer)
    if not (viewer.is_admin or viewer.moderates):
        raise Forbidden("Only moderators can read the moderation log.")


def _scope(viewer: Viewer) -> tuple[str, list[Any]]:
    if viewer.is_admin:
        return "1 = 1", []
    ids = sorted(viewer.moderates)
    # Site-wide entries (clinicians' verifications) are every moderator's to read.
    marks = ", ".join("{}" for _ in ids)
    return f'(a."community_id" IN ({marks}) OR a."community_id" IS NULL)', list(ids)


def _row(row: dict[str, Any]) -> dict[str, Any]:
    after = json.loads(row["after"] or "{}")
    shown = {**row, "before": json.loads(row["before"] or "{}"), "after": after}
    if after.get(ANONYMOUS_MARK):
        # About anonymous content: who wrote it is left out (moderation.reveal is the one way).
        shown["target_user_id"] = None
        if row["kind"] == "user":
            shown["object_id"] = None
    return shown


async def list_entries(
    viewer: Viewer,
    *,
    page: int = 1,
    per_page: int = 50,
    community_id: int | None = None,
    target_user_id: int | None = None,
    item_id: int | None = None,
) -> Page[dict[str, Any]]:
    """Entries the viewer may read, newest first, optionally for one community, person or item."""
    ensure_can_read(viewer)
    where, args = _scope(viewer)
    for column, value in (
        ("community_id", community_id),
        ("target_user_id", target_user_id),
        ("item_id", item_id),
    ):
        if value is not None:
            where += f' AND a."{column}" = {{}}'
            args.append(value)
    if target_user_id is not None:
        # A person's record never includes what they posted anonymously.
        where += ' AND a."after" NOT LIKE {}'
        args.append(f'%"{ANONYMOUS_MARK}": true%')
    total = await db.raw(f'SELECT COUNT(*) AS n FROM "moderation_audit" a WHERE {where}', *args)
    rows = await db.raw(
        'SELECT a.*, c."slug" AS "community_slug" FROM "moderation_audit" a '
        'LEFT JOIN "community" c ON c."id" = a."community_id" '
        f'WHERE {where} ORDER BY a."created_at" DESC, a."id" DESC LIMIT {{}} OFFSET {{}}',
        *args,
        per_page,
        (page - 1) * per_page,
    )
    return Page([_row(row) for row in rows], page, per_page, total[0]["n"])
