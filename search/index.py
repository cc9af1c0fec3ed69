"""The SearchIndex protocol: documents in, hits out. Whoosh and PostgreSQL both implement it
and pass one contract test (tests/search/test_contract.py).

The index holds only what anyone may find: published content, with the community and its
visibility so a search can be limited to what the searcher may see. The database stays the
truth; hits are checked against it again before anyone sees them (search.service).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

DOCUMENT_KINDS = ("thread", "story")


@dataclass(frozen=True)
class Document:
    """One findable thing: a thread with its published posts, or (later) a story with its
    comments. `body` is plain text, opening post first; `title` weighs more than the body."""

    kind: str
    id: int
    title: str
    body: str
    community_id: int | None
    visibility: str
    author: str | None
    created_at: datetime
    activity_at: datetime
    tags: tuple[str, ...] = ()
    expert_answered: bool = False
    status: str = "published"

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class Changes:
    """What one drain of the outbox does to the index, applied and committed at once."""

    upserts: tuple[Document, ...] = ()
    deletes: tuple[tuple[str, int], ...] = ()
    # Communities whose every document goes first (deleted communities, or ones reindexed
    # in full after their visibility changed); upserts in the same Changes come back after.
    purge_communities: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.upserts or self.deletes or self.purge_communities)


@dataclass(frozen=True)
class SearchRequest:
    """A search as the index sees it: words (lowercased, not stemmed), filters resolved to ids,
    the communities the searcher may see and the slice of results wanted."""

    terms: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    excluded_terms: tuple[str, ...] = ()
    excluded_phrases: tuple[tuple[str, ...], ...] = ()
    community_id: int | None = None
    author: str | None = None
    kind: str | None = None
    tag: str | None = None
    expert_answered: bool = False
    after: datetime | None = None
    before: datetime | None = None
    # Private communities whose content the searcher may see; None means all (admins).
    visible_communities: frozenset[int] | None = field(default_factory=frozenset)
    offset: int = 0
    limit: int = 10

    @property
    def has_text(self) -> bool:
        return bool(self.terms or self.phrases)


@dataclass(frozen=True)
class Hit:
    """One result: what it is, how well it matched, and a snippet of safe HTML (<mark> only)."""

    kind: str
    id: int
    score: float
    snippet_html: str


@dataclass(frozen=True)
class Results:
    hits: tuple[Hit, ...]
    total: int


@dataclass(frozen=True)
class IndexStats:
    documents: int
    size_bytes: int


Progress = Callable[[int], None]


class SearchIndex(Protocol):
    """A full-text index of Documents, written by one writer at a time."""

    name: str

    async def open(self) -> bool:
        """Create or open the index; True when it was created empty (so it needs a rebuild)."""
        ...

    async def close(self) -> None: ...

    def exclusive(self, wait: bool = False) -> AbstractAsyncContextManager[bool]:
        """Hold the right to write (across processes). Yields False when another writer has it
        and `wait` is False; the caller then skips its turn."""
        ...

    async def apply(self, changes: Changes) -> None:
        """Apply upserts and deletes and commit them together. Idempotent."""
        ...

    async def rebuild(
        self,
        batches: AsyncIterator[Sequence[Document]],
        total: int = 0,
        progress: Progress | None = None,
    ) -> int:
        """Replace the whole index with these documents (about `total` of them, for
        `progress`); searches see the old index until the new one is complete. Returns the
        number of documents."""
        ...

    async def search(self, request: SearchRequest) -> Results:
        """Hits for the request, best first (recent activity breaks ties)."""
        ...

    async def stats(self) -> IndexStats: ...
