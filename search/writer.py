"""The one writer: drains the outbox into the index, and rebuilds the index from the database.

A drain reads up to N outbox rows in id order, loads the current state of the objects they
name from the database, applies upserts and deletes to the index, commits the index, and only
then deletes exactly those rows. A crash (or kill) anywhere re-applies the same rows on the
next start: each change means "make the index match the database for this object", so doing
it twice changes nothing.

Every app process runs a Writer; they take turns through the index's exclusive lock (a flock
for Whoosh, an advisory lock for PostgreSQL), so there is one writer at a time however many
uvicorn workers run.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence

from search import outbox, suggest
from search.documents import (
    BATCH,
    SOURCES,
    community_ids,
    stories_of_comments,
    threads_of_posts,
)
from search.index import Changes, Document, Progress, SearchIndex

log = logging.getLogger("kindred.search")

DRAIN_BATCH = 200
POLL_SECONDS = 0.2


async def changes_for(entries: Sequence[outbox.Entry]) -> Changes:
    """What the index must do so these objects match the database again."""
    wanted: dict[str, set[int]] = {kind: set() for kind in SOURCES}
    for entry in entries:
        if entry.kind in wanted:
            wanted[entry.kind].add(entry.object_id)
    # Posts are indexed with their thread, comments with their story.
    wanted["thread"] |= set(
        await threads_of_posts([e.object_id for e in entries if e.kind == "post"])
    )
    if "story" in wanted:
        wanted["story"] |= set(
            await stories_of_comments([e.object_id for e in entries if e.kind == "comment"])
        )
    communities = sorted({e.object_id for e in entries if e.kind == "community"})
    if communities:
        # Visibility changed, or the community went: its documents go, then come back from
        # the database as they are now.
        existing = sorted(await community_ids(communities))
        if existing:
            for kind, source in SOURCES.items():
                wanted[kind] |= set(await source.in_communities(existing))
    for kind in {e.kind for e in entries} - {*SOURCES, "post", "comment", "community"}:
        log.warning("search outbox: no index source for %r rows yet; skipped", kind)
    upserts: list[Document] = []
    deletes: list[tuple[str, int]] = []
    for kind, ids in wanted.items():
        documents = await SOURCES[kind].load(sorted(ids))
        upserts += [documents[i] for i in sorted(documents)]
        deletes += [(kind, i) for i in sorted(ids) if i not in documents]
    return Changes(
        upserts=tuple(upserts),
        deletes=tuple(deletes),
        purge_communities=tuple(communities),
    )


async def drain_once(index: SearchIndex, limit: int = DRAIN_BATCH) -> int:
    """Apply up to `limit` outbox rows; call while holding index.exclusive()."""
    entries = await outbox.read(limit)
    if not entries:
        return 0
    changes = await changes_for(entries)
    await index.apply(changes)
    await suggest.learn(changes.upserts)
    await outbox.remove([entry.id for entry in entries])
    return len(entries)


async def _all_documents() -> AsyncIterator[Sequence[Document]]:
    for source in SOURCES.values():
        after = 0
        while True:
            ids = await source.ids_after(after, BATCH)
            if not ids:
                break
            after = ids[-1]
            documents = await source.load(ids)
            await suggest.learn(documents.values())
            yield [documents[i] for i in ids if i in documents]


async def count_documents() -> int:
    return sum([await source.count() for source in SOURCES.values()])


async def rebuild(index: SearchIndex, progress: Progress | None = None) -> int:
    """Rebuild the whole index from the database, waiting for the writer's lock.

    Outbox rows pending when it starts are covered by the rebuild (it reads the database after
    them) and are removed at the end; rows written meanwhile stay for the next drain."""
    async with index.exclusive(wait=True):
        covered = await outbox.pending_ids()
        total = await count_documents()
        count = await index.rebuild(_all_documents(), total, progress)
        await outbox.remove(covered)
    return count


class Writer:
    """The background task of one app process: polls the outbox, and wakes at once when this
    process enqueued a change, so posts are findable well within a second."""

    def __init__(
        self,
        index: SearchIndex,
        *,
        rebuild_first: bool = False,
        poll_seconds: float = POLL_SECONDS,
        batch: int = DRAIN_BATCH,
    ) -> None:
        self.index = index
        self.rebuild_first = rebuild_first
        self.poll_seconds = poll_seconds
        self.batch = batch
        self._event = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._unlisten = outbox.listen(self._event.set)
        self._drain_lock = asyncio.Lock()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="kindred-search-writer")

    async def drain(self) -> int:
        """One turn: apply a batch if no other process is writing. Returns rows applied."""
        async with self._drain_lock, self.index.exclusive() as held:
            if not held:
                return 0
            return await drain_once(self.index, self.batch)

    async def drain_all(self) -> int:
        """Drain until the outbox is empty (tests and the CLI); waits out other writers."""
        applied = 0
        while await outbox.pending_count():
            count = await self.drain()
            applied += count
            if not count:
                await asyncio.sleep(0.05)
        return applied

    async def _run(self) -> None:
        if self.rebuild_first:
            try:
                count = await rebuild(self.index)
                log.info("search index built from the database: %d documents", count)
            except Exception:
                log.exception("search: building the index failed; `kindred reindex` retries")
        woken = False
        while not self._stopping:
            try:
                count = await self.drain()
                if not count and woken:
                    # Woken by our own enqueue, which may not have committed yet: look again
                    # shortly rather than at the next poll.
                    await asyncio.sleep(0.03)
                    count = await self.drain()
            except Exception:
                log.exception("search writer: drain failed; will retry")
                count = 0
                await asyncio.sleep(1.0)
            if count >= self.batch or self._stopping:
                continue
            try:
                await asyncio.wait_for(self._event.wait(), timeout=self.poll_seconds)
                woken = True
            except TimeoutError:
                woken = False
            self._event.clear()

    async def stop(self) -> None:
        """Finish the current drain (never abandon a commit halfway), then stop."""
        self._stopping = True
        self._unlisten()
        self._event.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=15.0)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
