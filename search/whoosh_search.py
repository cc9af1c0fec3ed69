"""Answering a SearchRequest from a Whoosh index, quickly.

Whoosh's own query engine walks postings one document at a time through layers of Python
matchers (~5 µs a posting): 100 ms for two common words on the benchmark corpus. Here Whoosh
is the storage and the evaluation is done in bulk: each term's postings are read a block at a
time into lists (and kept in an LRU cache, segments being immutable), documents are scored with
BM25 in one comprehension, intersections and filters are set operations, and the top results
come from heapq. The same answers, several times faster (docs/search.md has the figures).

Positions are read only to confirm phrases whose words are not all common (few candidates);
phrases of common words are lookups of indexed word pairs (see whoosh_index).
"""

from __future__ import annotations

import heapq
import json
import math
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from itertools import accumulate, pairwise
from pickle import loads
from typing import Any

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import WrappingMatcher
from whoosh.reading import TermNotFound
from whoosh.searching import Searcher
from whoosh.system import _INT_SIZE

from search.index import Hit, Results, SearchRequest
from search.text import snippet, stems

META_KEY = "meta:0"
K1 = 1.2
B = 0.75
CACHE_POSTINGS = 4_000_000  # postings kept decoded across queries: 8 bytes each, 32 MB
STATE_CACHE = 1_000_000  # postings and filter-set members kept per index generation

Postings = tuple["array[int]", "array[float]"]


def positions(value: bytes) -> list[int]:
    """Decode a posting's positions (whoosh.formats.Positions.decode_positions, faster)."""
    if not value.endswith(b"."):
        value += b"."
    # Our own index's postings, written by Whoosh as pickled position deltas.
    return list(accumulate(loads(value[_INT_SIZE:])))  # noqa: S301


def _read_postings(leaf: Any, field: str, term: str) -> Postings:
    """All (docnum, weight) postings of a term in one segment, a block at a time."""
    ids: array[int] = array("i")
    weights: array[float] = array("f")
    try:
        matcher = leaf.postings(field, term)
    except TermNotFound:
        return ids, weights
    while isinstance(matcher, WrappingMatcher):  # deletions are applied by the caller
        matcher = matcher.child
    if isinstance(matcher, W3LeafMatcher):
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_weights()
            ids.extend(iter(matcher._ids))
            weights.extend(iter(matcher._weights))
            matcher._next_block()
    else:  # short posting lists are stored inline, behind a plain matcher
        while matcher.is_active():
            ids.append(matcher.id())
            weights.append(matcher.weight())
            matcher.next()
    return ids, weights


class _Bounded(OrderedDict[Any, Any]):
    """An LRU dict holding at most `budget` elements across its values."""

    def __init__(self, budget: int) -> None:
        super().__init__()
        self.budget = budget
        self.size = 0

    def put(self, key: Any, value: Any, size: int) -> None:
        self[key] = value
        self.size += size
        while self.size > self.budget and len(self) > 1:
            _, old = self.popitem(last=False)
            self.size -= len(old[0]) if isinstance(old, tuple) else len(old)


class PostingsCache:
    """Decoded postings per (segment, field, term): segments never change, only grow old."""

    def __init__(self, capacity: int = CACHE_POSTINGS) -> None:
        self._entries = _Bounded(capacity)

    def get(self, leaf: Any, field: str, term: str) -> Postings:
        segment = leaf.segment()
        if segment is None:
            return _read_postings(leaf, field, term)
        key = (segment.segment_id(), field, term)
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found
        found = _read_postings(leaf, field, term)
        self._entries.put(key, found, len(found[0]))
        return found


def _leaf_arrays(leaf: Any) -> tuple[list[int], list[int], set[int]]:
    """A segment's field lengths, activity times and deleted documents, kept on its reader
    (a reader is reused only while its segment's deletions are unchanged)."""
    arrays = getattr(leaf, "_kindred_arrays", None)
    if arrays is None:
        count = leaf.doc_count_all()
        lengths = [leaf.doc_field_length(d, "content", 0) or 0 for d in range(count)]
        if count and leaf.has_column("activity"):
            column = leaf.column_reader("activity")
            activity = [column[d] or 0 for d in range(count)]
        else:
            activity = [0] * count
        deleted = set(getattr(leaf, "deleted_docs_set", ())) if leaf.has_deletions() else set()
        arrays = (lengths, activity, deleted)
        leaf._kindred_arrays = arrays
    return arrays


class State:
    """One index generation, ready to answer: its searcher, the documents' lengths and
    activity, deleted documents, common stems, and cached filter sets."""

    def __init__(self, searcher: Searcher, generation: int, cache: PostingsCache) -> None:
        self.searcher = searcher
        self.generation = generation
        self.cache = cache
        reader = searcher.reader()
        self.leaves = list(reader.leaf_readers())
        self.lengths: list[int] = []
        self.activity: list[int] = []
        self.deleted: set[int] = set()
        for leaf, offset in self.leaves:
            lengths, activity, deleted = _leaf_arrays(leaf)
            self.lengths += lengths
            self.activity += activity
            self.deleted |= {offset + d for d in deleted}
        self.meta_docnum = searcher.document_number(key=META_KEY)
        meta = searcher.stored_fields(self.meta_docnum) if self.meta_docnum is not None else {}
        self.common = frozenset(json.loads(meta.get("meta") or "{}").get("common", ()))
        self.excluded = set(self.deleted)
        if self.meta_docnum is not None:
            self.excluded.add(self.meta_docnum)
        self.count = max(1, len(self.lengths) - len(self.excluded))
        self.average_length = max(
            1.0,
            (sum(self.lengths) - sum(self.lengths[d] for d in self.excluded)) / self.count,
        )
        self._postings = _Bounded(STATE_CACHE)
        self._sets = _Bounded(STATE_CACHE)

    # Reading ------------------------------------------------------------------------------

    def postings(self, field: str, term: str) -> Postings:
        key = (field, term)
        found = self._postings.get(key)
        if found is None:
            parts = [(self.cache.get(leaf, field, term), offset) for leaf, offset in self.leaves]
            if len(parts) == 1 and not parts[0][1]:
                found = parts[0][0]
            else:
                ids: array[int] = array("i")
                weights: array[float] = array("f")
                for (local_ids, local_weights), offset in parts:
                    ids.extend([offset + d for d in local_ids] if offset else local_ids)
                    weights.extend(local_weights)
                found = (ids, weights)
            self._postings.put(key, found, len(found[0]))
        return found

    def docs(self, field: str, value: str) -> set[int]:
        key = (field, value)
        found = self._sets.get(key)
        if found is None:
            found = set(self.postings(field, value)[0])
            self._sets.put(key, found, len(found))
        return found

    def hidden(self, visible: frozenset[int] | None) -> set[int]:
        """Deleted, meta, and private documents this searcher may not see."""
        if visible is None:
            return self.excluded
        private = self.docs("visibility", "private")
        if not private:
            return self.excluded
        allowed: set[int] = set()
        for community_id in visible:
            allowed |= self.docs("community", str(community_id))
        return self.excluded | (private - allowed)

    # Scoring -------------------------------------------------------------------------------

    def scored(self, terms: Sequence[str]) -> dict[int, float]:
        """BM25 over `content` for documents holding every term."""
        lists = sorted((self.postings("content", t) for t in terms), key=lambda p: len(p[0]))
        lengths = self.lengths
        k = K1 * (1 - B)
        kb = K1 * B / self.average_length
        scores: dict[int, float] | None = None
        for ids, weights in lists:
            frequency = len(ids)
            idf = math.log(1 + (self.count - frequency + 0.5) / (frequency + 0.5))
            c = idf * (K1 + 1)
            if scores is None:
                scores = {
                    d: c * tf / (tf + k + kb * lengths[d])
                    for d, tf in zip(ids, weights, strict=True)
                }
            else:
                by_doc = dict(zip(ids, weights, strict=True))
                scores = {
                    d: s + c * tf / (tf + k + kb * lengths[d])
                    for d, s in scores.items()
                    if (tf := by_doc.get(d)) is not None
                }
            if not scores:
                break
        return scores or {}

    def having_all(self, field: str, terms: Iterable[str]) -> set[int]:
        sets = sorted((self.docs(field, t) for t in terms), key=len)
        if not sets:
            return set()
        result = set(sets[0])
        for other in sets[1:]:
            result &= other
        return result

    def phrase_docs(self, tokens: Sequence[str]) -> set[int]:
        """Documents holding these stems one after another."""
        candidates = self.having_all("content", tokens)
        needs_check = len(tokens) > 2
        pair_terms = []
        for a, b in pairwise(tokens):
            if a in self.common and b in self.common:
                pair_terms.append(f"{a}_{b}")
            else:
                needs_check = True
        if pair_terms:
            candidates &= self.having_all("pairs", pair_terms)
        if needs_check and candidates and len(tokens) > 1:
            candidates = self._confirmed(tokens, candidates)
        return candidates

    def _confirmed(self, tokens: Sequence[str], candidates: set[int]) -> set[int]:
        reader = self.searcher.reader()
        matchers = [reader.postings("content", token) for token in tokens]
        found: set[int] = set()
        for docnum in sorted(candidates):
            starts: set[int] | None = None
            for offset, matcher in enumerate(matchers):
                if matcher.is_active() and matcher.id() < docnum:
                    matcher.skip_to(docnum)
                if not matcher.is_active() or matcher.id() != docnum:
                    starts = set()
                    break
                shifted = {p - offset for p in positions(matcher.value())}
                starts = shifted if starts is None else starts & shifted
                if not starts:
                    break
            if starts:
                found.add(docnum)
        return found


def answer(state: State, request: SearchRequest) -> Results:
    """The request's page of hits and the number of all hits."""
    hidden = state.hidden(request.visible_communities)
    allow: set[int] | None = None

    def restrict(docs: set[int]) -> None:
        nonlocal allow
        allow = set(docs) if allow is None else allow & docs

    terms = [s for word in request.terms for s in stems(word)]
    for phrase in request.phrases:
        tokens = stems(" ".join(phrase))
        terms += tokens
        if len(tokens) > 1:
            restrict(state.phrase_docs(tokens))
    terms = list(dict.fromkeys(terms))
    if request.has_text and not terms:
        return Results((), 0)  # only stop words: nothing to look for
    for word in request.excluded_terms:
        for s in stems(word):
            hidden = hidden | state.docs("content", s)
    for phrase in request.excluded_phrases:
        tokens = stems(" ".join(phrase))
        if tokens:
            hidden = hidden | state.phrase_docs(tokens)
    if request.community_id is not None:
        restrict(state.docs("community", str(request.community_id)))
    for field, value in (
        ("kind", request.kind),
        ("author", request.author.lower() if request.author else None),
        ("tags", request.tag.lower() if request.tag else None),
        ("expert", "yes" if request.expert_answered else None),
    ):
        if value:
            restrict(state.docs(field, value))

    if terms:
        scores = state.scored(terms)
        candidates: Iterable[int] = scores
    else:
        scores = {}
        candidates = allow if allow is not None else range(len(state.lengths))
    activity = state.activity
    low = int(request.after.timestamp()) if request.after else None
    high = int(request.before.timestamp()) if request.before else None
    kept = [
        d
        for d in candidates
        if d not in hidden
        and (allow is None or d in allow)
        and (low is None or activity[d] >= low)
        and (high is None or activity[d] < high)
    ]
    wanted = request.offset + request.limit
    if scores:
        top = heapq.nlargest(wanted, kept, key=lambda d: (scores[d], activity[d]))
    else:
        top = heapq.nlargest(wanted, kept, key=activity.__getitem__)
    highlight = set(terms)
    hits = []
    for docnum in top[request.offset :]:
        stored = state.searcher.stored_fields(docnum)
        kind, _, object_id = stored["key"].partition(":")
        text = zlib.decompress(stored["excerpt"]).decode("utf-8") if "excerpt" in stored else ""
        hits.append(
            Hit(
                kind=kind,
                id=int(object_id),
                score=round(scores.get(docnum, 0.0), 4),
                snippet_html=snippet(text, highlight),
            )
        )
    return Results(tuple(hits), len(kept))
