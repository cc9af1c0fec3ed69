"""The durable queue of index changes. Content services call `enqueue` inside their write
transaction, so an index change is recorded exactly when the content change commits."""

from __future__ import annotations

from datetime import UTC, datetime

from search.tables import SearchOutbox

KINDS = ("thread", "post", "story", "comment", "community")
OPS = ("upsert", "delete")


async def enqueue(kind: str, object_id: int, op: str = "upsert") -> None:
    """Record that `kind` #`object_id` changed; call within the content's transaction."""
    if kind not in KINDS or op not in OPS:
        raise ValueError(f"unknown outbox entry {kind}/{op}")
    await SearchOutbox.insert(
        SearchOutbox(kind=kind, object_id=object_id, op=op, created_at=datetime.now(UTC))
    )


async def pending_count() -> int:
    return await SearchOutbox.count()
