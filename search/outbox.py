"""The durable queue of index changes. Content services call `enqueue` inside their write
transaction, so an index change is recorded exactly when the content change commits.

The writer (search.writer) reads rows in id order, applies them, commits the index and only
then deletes exactly the rows it read: a crash anywhere in between re-applies them, which is
harmless because every change is "make the index match the database for this object".
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from search.tables import SearchOutbox

KINDS = ("thread", "post", "story", "comment", "community")
OPS = ("upsert", "delete")

# In-process wake-ups: the writer of this process registers a callback, so what this process
# writes is indexed at once instead of at the next poll.
_listeners: list[Callable[[], None]] = []


@dataclass(frozen=True)
class Entry:
    id: int
    kind: str
    object_id: int
    op: str


async def enqueue(kind: str, object_id: int, op: str = "upsert") -> None:
    """Record that `kind` #`object_id` changed; call within the content's transaction."""
    if kind not in KINDS or op not in OPS:
        raise ValueError(f"unknown outbox entry {kind}/{op}")
    await SearchOutbox.insert(
        SearchOutbox(kind=kind, object_id=object_id, op=op, created_at=datetime.now(UTC))
    )
    for listener in tuple(_listeners):
        # Only a wake-up: a writer whose loop has gone must not fail the content's write.
        with contextlib.suppress(RuntimeError):
            listener()


def listen(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` whenever this process enqueues a change; returns the way to stop."""
    _listeners.append(callback)

    def stop() -> None:
        if callback in _listeners:
            _listeners.remove(callback)

    return stop


async def pending_count() -> int:
    return await SearchOutbox.count()


async def oldest_pending() -> datetime | None:
    """When the oldest change still waiting for the index was made."""
    row = await (
        SearchOutbox.select(SearchOutbox.created_at).order_by(SearchOutbox.id).limit(1).first()
    )
    if row is None:
        return None
    moment = row["created_at"]
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def read(limit: int) -> list[Entry]:
    """The oldest `limit` rows, in the order they were written."""
    rows = await (
        SearchOutbox.select(
            SearchOutbox.id, SearchOutbox.kind, SearchOutbox.object_id, SearchOutbox.op
        )
        .order_by(SearchOutbox.id)
        .limit(limit)
    )
    return [Entry(row["id"], row["kind"], row["object_id"], row["op"]) for row in rows]


async def pending_ids() -> list[int]:
    rows = await SearchOutbox.select(SearchOutbox.id)
    return [row["id"] for row in rows]


async def remove(ids: Sequence[int]) -> None:
    """Delete exactly these rows (never "everything up to"): rows committed later by slower
    transactions may carry smaller ids, and must still be read."""
    for start in range(0, len(ids), 500):
        batch = list(ids[start : start + 500])
        await SearchOutbox.delete().where(SearchOutbox.id.is_in(batch))
