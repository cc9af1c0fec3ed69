"""The embedded default: a Whoosh index in the data folder (var/index/).

Built to be quick in pure Python (shared/STACK.md):
- one text field, `content`, holding pre-stemmed tokens: the title three times (titles weigh
  more) then the body, so each query word is a single posting list (scored with BM25 by
  search.whoosh_search, which evaluates queries in bulk);
- stored fields are small: the key and a compressed excerpt for snippets;
- one long-lived reader per process, reopened (reusing unchanged segments) when another commit
  landed; decoded postings and filter sets are cached;
- phrases: adjacent pairs of common stems are indexed as terms of their own (`pairs`), so a
  phrase of common words is a lookup; any other phrase has a rarer word, few candidates, and
  is confirmed against stored positions;
- one writer across processes: an exclusive flock on kindred-writer.lock in the index folder;
  the bulk rebuild uses two processes (`procs=2, multisegment=True`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import math
import os
import threading
import time
import zlib
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

from whoosh import fields, index
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.reading import EmptyReader, MultiReader, SegmentReader
from whoosh.searching import Searcher
from whoosh.writing import CLEAR

from search.index import Changes, Document, IndexStats, Progress, Results, SearchRequest
from search.text import stems
from search.whoosh_search import META_KEY, PostingsCache, State, answer

SCHEMA_VERSION = 1
VERSION_FILE = "kindred-version"
WRITER_LOCK = "kindred-writer.lock"
OPEN_LOCK = "kindred-open.lock"
# Present from creating an index until its first full build commits; the builder holds the
# build lock meanwhile, so a build cut short by a crash is started again on the next open.
UNBUILT_FILE = "kindred-unbuilt"
BUILD_LOCK = "kindred-build.lock"
TITLE_WEIGHT = 3
EXCERPT_CHARS = 6000
# Stems found in more documents than this are "common": their adjacent pairs get indexed.
# Phrases with a rarer stem have at most this many candidates to check by position.
COMMON_DOCS = 1500
SAMPLE_DOCS = 3000
BULK_THRESHOLD = 2000
MERGE_FACTOR = 10


def schema() -> fields.Schema:
    return fields.Schema(
        key=fields.ID(unique=True, stored=True),
        kind=fields.ID,
        community=fields.ID,
        visibility=fields.ID,
        author=fields.ID,
        tags=fields.KEYWORD,
        expert=fields.ID,
        status=fields.ID,
        created=fields.NUMERIC(numtype=int, bits=64, sortable=True),
        activity=fields.NUMERIC(numtype=int, bits=64, sortable=True),
        content=fields.TEXT(analyzer=SpaceSeparatedTokenizer(), phrase=True),
        pairs=fields.KEYWORD,
        excerpt=fields.STORED,
        meta=fields.STORED,
    )


def merge_tiers(writer: Any, segments: list[Any]) -> list[Any]:
    """Log-structured merging: segments are grouped by the order of magnitude of their live
    documents, and a group is merged only once it holds MERGE_FACTOR segments.

    Whoosh's default policy sooner or later folds the big segment into a commit and holds the
    one writer for seconds while new posts wait; here a merge of N documents comes once per
    about N writes, so commits stay small and posts findable within a second."""
    from whoosh.reading import SegmentReader

    tiers: dict[int, list[Any]] = {}
    for segment in segments:
        tier = int(math.log10(max(1, segment.doc_count())))
        tiers.setdefault(tier, []).append(segment)
    for tier in sorted(tiers):
        group = tiers[tier]
        if len(group) >= MERGE_FACTOR:
            for segment in group:
                reader = SegmentReader(writer.storage, writer.schema, segment)
                writer.add_reader(reader)
                reader.close()
            return [segment for segment in segments if segment not in group]
    return segments


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def _pairs(tokens: Sequence[str], common: frozenset[str]) -> str:
    return " ".join(f"{a}_{b}" for a, b in pairwise(tokens) if a in common and b in common)


def _fields(document: Document, common: frozenset[str]) -> dict[str, Any]:
    """What Whoosh stores for a Document: stemmed tokens, filters, a compressed excerpt."""
    title = stems(document.title)
    body = stems(document.body)
    tokens = title * TITLE_WEIGHT + body
    excerpt_source = document.body[:EXCERPT_CHARS] or document.title
    return {
        "key": document.key,
        "kind": document.kind,
        "community": str(document.community_id or 0),
        "visibility": document.visibility,
        "author": (document.author or "").lower(),
        "tags": " ".join(tag.lower() for tag in document.tags),
        "expert": "yes" if document.expert_answered else "no",
        "status": document.status,
        "created": _seconds(document.created_at),
        "activity": _seconds(document.activity_at),
        "content": " ".join(tokens),
        "pairs": _pairs(title, common) + " " + _pairs(body, common),
        "excerpt": zlib.compress(excerpt_source.encode("utf-8"), 6),
    }


def _open_reader(ix: Any, previous: Any) -> tuple[Any, int]:
    """A reader for the index's latest generation, reusing unchanged segment readers."""
    for attempt in range(10):
        try:
            toc = ix._read_toc()
            reusable: dict[tuple[str, int], Any] = {}
            if previous is not None:
                for leaf, _ in previous.leaf_readers():
                    segment = leaf.segment()
                    if segment is not None:
                        reusable[(segment.segment_id(), segment.deleted_count())] = leaf
            readers = []
            for segment in toc.segments:
                reader = reusable.pop((segment.segment_id(), segment.deleted_count()), None)
                if reader is None:
                    reader = SegmentReader(
                        ix.storage, toc.schema, segment, generation=toc.generation
                    )
                readers.append(reader)
            for leftover in reusable.values():
                leftover.close()
            if not readers:
                return EmptyReader(toc.schema), toc.generation
            if len(readers) == 1:
                return readers[0], toc.generation
            return MultiReader(readers, generation=toc.generation), toc.generation
        except OSError:
            # A writer removed a file just as we opened it: read the new TOC.
            if attempt == 9:
                raise
            time.sleep(0.05)
    raise AssertionError("unreachable")


class WhooshIndex:
    """SearchIndex over a Whoosh index folder."""

    name = "whoosh"

    def __init__(self, directory: Path, build_procs: int = 1) -> None:
        self.directory = Path(directory)
        self.build_procs = build_procs
        self._ix: Any = None
        self._state: State | None = None
        self._cache = PostingsCache()
        self._search_lock = threading.Lock()
        self._local_writer = asyncio.Lock()
        self._build_fd: int | None = None

    # Opening, locking ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _file_lock(self, name: str, wait: bool) -> Any:
        fd = os.open(self.directory / name, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    async def open(self) -> bool:
        return await asyncio.to_thread(self._open)

    def _open(self) -> bool:
        self.directory.mkdir(parents=True, exist_ok=True)
        version_path = self.directory / VERSION_FILE
        with self._file_lock(OPEN_LOCK, wait=True):
            current = version_path.read_text().strip() if version_path.exists() else ""
            if current == str(SCHEMA_VERSION) and index.exists_in(self.directory):
                self._ix = index.open_dir(self.directory)
                # Never fully built (its builder was killed mid-way): build it, unless a live
                # process is building it now.
                return (self.directory / UNBUILT_FILE).exists() and self._claim_build()
            # New, or made by an older version of Kindred: start empty; the writer rebuilds.
            self._ix = index.create_in(self.directory, schema())
            (self.directory / UNBUILT_FILE).touch()
            version_path.write_text(str(SCHEMA_VERSION))
            self._claim_build()
            return True

    def _claim_build(self) -> bool:
        """Take the build lock, held until the rebuild commits or this process ends."""
        if self._build_fd is not None:
            return True
        fd = os.open(self.directory / BUILD_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._build_fd = fd
        return True

    def _release_build(self) -> None:
        if self._build_fd is not None:
            os.close(self._build_fd)  # closing the descriptor releases the flock
            self._build_fd = None

    async def close(self) -> None:
        self._release_build()
        with self._search_lock:
            if self._state is not None:
                self._state.searcher.close()
            self._state = None

    @contextlib.asynccontextmanager
    async def exclusive(self, wait: bool = False) -> AsyncIterator[bool]:
        async with self._local_writer:
            fd = os.open(self.directory / WRITER_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        held = True
                        break
                    except BlockingIOError:
                        if not wait:
                            held = False
                            break
                        await asyncio.sleep(0.1)
                try:
                    yield held
                finally:
                    if held:
                        fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                os.close(fd)

    # Writing -------------------------------------------------------------------------------

    def _common_for_writing(self) -> frozenset[str]:
        """The common stems of the latest index (a rebuild elsewhere may have changed them)."""
        with self._search_lock:
            return self._current().common

    async def apply(self, changes: Changes) -> None:
        if changes:
            await asyncio.to_thread(self._apply, changes)

    def _apply(self, changes: Changes) -> None:
        common = self._common_for_writing()
        writer = self._ix.writer(timeout=10.0)
        try:
            for community_id in changes.purge_communities:
                writer.delete_by_term("community", str(community_id))
            for kind, object_id in changes.deletes:
                writer.delete_by_term("key", f"{kind}:{object_id}")
            for document in {d.key: d for d in changes.upserts}.values():
                writer.update_document(**_fields(document, common))
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=merge_tiers)

    async def rebuild(
        self,
        batches: AsyncIterator[Sequence[Document]],
        total: int = 0,
        progress: Progress | None = None,
    ) -> int:
        # A sample of the first documents decides which stems are common (see COMMON_DOCS).
        sample: list[Document] = []
        iterator = batches.__aiter__()
        exhausted = False
        while len(sample) < SAMPLE_DOCS:
            try:
                sample.extend(await iterator.__anext__())
            except StopAsyncIteration:
                exhausted = True
                break
        common = _common_stems(sample, max(total, len(sample)))
        procs = self.build_procs if total > BULK_THRESHOLD else 1
        writer = await asyncio.to_thread(self._bulk_writer, procs)
        done = 0
        try:
            meta = json.dumps({"version": SCHEMA_VERSION, "common": sorted(common)})
            writer.add_document(key=META_KEY, kind="meta", meta=meta)
            pending: Iterable[Sequence[Document]] = [sample]
            while True:
                for documents in pending:
                    await asyncio.to_thread(self._add_all, writer, documents, common)
                    done += len(documents)
                    if progress:
                        progress(done)
                if exhausted:
                    break
                try:
                    pending = [await iterator.__anext__()]
                except StopAsyncIteration:
                    exhausted = True
                    pending = []
            await asyncio.to_thread(writer.commit, mergetype=CLEAR)
        except BaseException:
            await asyncio.to_thread(writer.cancel)
            raise
        (self.directory / UNBUILT_FILE).unlink(missing_ok=True)
        self._release_build()
        return done

    def _bulk_writer(self, procs: int) -> Any:
        if procs > 1:
            return self._ix.writer(procs=procs, multisegment=True, limitmb=512, timeout=10.0)
        return self._ix.writer(limitmb=128, timeout=10.0)

    @staticmethod
    def _add_all(writer: Any, documents: Sequence[Document], common: frozenset[str]) -> None:
        for document in documents:
            writer.add_document(**_fields(document, common))

    # Searching -----------------------------------------------------------------------------

    async def search(self, request: SearchRequest) -> Results:
        return await asyncio.to_thread(self._search, request)

    def _current(self) -> State:
        """The state for the latest commit (any process's), reopened when the index moved.

        Not Searcher.refresh(): whoosh-reloaded's reader reuse keeps segments that a merge
        removed and misses new deletions (it matches segments by id alone), and its refresh()
        fails on an empty index. Here a segment reader is reused only when its segment id and
        deletion count are unchanged."""
        state = self._state
        if state is not None and self._ix.latest_generation() == state.generation:
            return state
        previous = state.searcher.reader() if state is not None else None
        reader, generation = _open_reader(self._ix, previous)
        searcher = Searcher(reader, fromindex=self._ix)
        self._state = State(searcher, generation, self._cache)
        return self._state

    def _search(self, request: SearchRequest) -> Results:
        with self._search_lock:
            try:
                return answer(self._current(), request)
            except OSError:
                # A file went between listing and reading (another process committed): retry
                # on a reader opened from scratch.
                self._state = None
                return answer(self._current(), request)

    def forget_cached_postings(self) -> None:
        """Drop decoded postings and filter sets (the benchmark's cold-cache runs)."""
        with self._search_lock:
            self._cache = PostingsCache()
            if self._state is not None:
                self._state = State(self._state.searcher, self._state.generation, self._cache)

    # Figures -------------------------------------------------------------------------------

    async def stats(self) -> IndexStats:
        return await asyncio.to_thread(self._stats)

    def _stats(self) -> IndexStats:
        with self._ix.searcher() as searcher:
            count = searcher.doc_count()
            if searcher.document_number(key=META_KEY) is not None:
                count -= 1
        size = sum(
            path.stat().st_size
            for path in self.directory.iterdir()
            if path.is_file() and not path.name.startswith("kindred-")
        )
        return IndexStats(documents=count, size_bytes=size)


def _common_stems(sample: Sequence[Document], total: int) -> frozenset[str]:
    """Stems expected in more than COMMON_DOCS documents of `total`, judged from a sample."""
    if not sample or total <= COMMON_DOCS:
        return frozenset()
    frequency: Counter[str] = Counter()
    for document in sample:
        frequency.update(set(stems(document.title)) | set(stems(document.body)))
    least = max(2, int(COMMON_DOCS * len(sample) / total))
    return frozenset(s for s, count in frequency.items() if count >= least)
