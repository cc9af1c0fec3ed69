"""Searching for a person: what the search page and /api/v1/search call.

Visibility holds twice. The index request carries the communities the searcher may see, so
private content never ranks for others; and each page of hits is checked against the database
(one query per kind) so nothing that was hidden, removed, deleted or made private since it was
indexed is shown, even before the writer catches up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from forum.permissions import Viewer, can_view_community
from search import suggest
from search.documents import SOURCES, community_by_slug
from search.index import Results, SearchIndex, SearchRequest
from search.query import KIND_ALIASES, ParsedQuery, is_slug, parse
from search.tables import SearchMiss

log = logging.getLogger("kindred.search")

PER_PAGE = 10
MAX_PER_PAGE = 50
MAX_PAGE = 100


@dataclass(frozen=True)
class Item:
    """One result as pages and the API show it."""

    kind: str
    id: int
    title: str
    url: str
    community: str | None
    community_name: str | None
    snippet_html: str
    score: float


@dataclass(frozen=True)
class SearchPage:
    """A page of results with what the person asked, a correction and notes about the query."""

    query: str
    parsed: ParsedQuery
    items: list[Item]
    page: int
    per_page: int
    total: int
    community: dict[str, Any] | None = None
    suggestion: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def pages(self) -> int:
        return max(1, min(MAX_PAGE, -(-self.total // self.per_page)))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def searched(self) -> bool:
        return not self.parsed.is_empty


def visible_communities(viewer: Viewer) -> frozenset[int] | None:
    """Private communities whose content this viewer may find; None for admins (all)."""
    if viewer.is_admin:
        return None
    return frozenset(viewer.member_of | viewer.moderates)


def normalize(text: str) -> str:
    return " ".join(text.lower().split())[:200]


def _request(parsed: ParsedQuery, viewer: Viewer, community_id: int | None) -> SearchRequest:
    return SearchRequest(
        terms=parsed.terms,
        phrases=parsed.phrases,
        excluded_terms=parsed.excluded_terms,
        excluded_phrases=parsed.excluded_phrases,
        community_id=community_id,
        author=parsed.author,
        kind=parsed.kind,
        tag=parsed.tag,
        expert_answered=parsed.expert_answered,
        after=parsed.after,
        before=parsed.before,
        visible_communities=visible_communities(viewer),
    )


async def search(
    index: SearchIndex,
    viewer: Viewer,
    text: object,
    *,
    community: object = None,
    kind: object = None,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> SearchPage:
    """One page of what `viewer` may find for `text`, optionally within a community (slug)."""
    raw = text if isinstance(text, str) else ""
    parsed = parse(raw)
    notes = list(parsed.notes)
    if isinstance(community, str) and community.strip():
        parsed = replace(parsed, community=community.strip().lower()[:48])
    if isinstance(kind, str) and kind.strip():
        chosen = KIND_ALIASES.get(kind.strip().lower())
        if chosen:
            parsed = replace(parsed, kind=chosen)
        else:
            notes.append("kind can be thread or story.")
    page = max(1, min(page, MAX_PAGE))
    per_page = max(1, min(per_page, MAX_PER_PAGE))

    where = None
    if parsed.community:
        # Only a well-formed slug reaches the database (PostgreSQL refuses text with NUL in it).
        where = await community_by_slug(parsed.community) if is_slug(parsed.community) else None
        if where is None or not can_view_community(viewer, where):
            # Unknown and private-to-others look the same: no results, no hint it exists.
            notes.append(f"There is no community called “{parsed.community}”.")
            return SearchPage(raw, parsed, [], page, per_page, 0, None, None, tuple(notes))
    if parsed.is_empty:
        return SearchPage(raw, parsed, [], page, per_page, 0, where, None, tuple(notes))

    request = replace(
        _request(parsed, viewer, where["id"] if where else None),
        offset=(page - 1) * per_page,
        limit=per_page,
    )
    results = await index.search(request)
    items = await _checked(viewer, results)
    total = max(0, results.total - (len(results.hits) - len(items)))
    suggestion = None
    if results.total == 0 and page == 1:
        suggestion = await _suggestion(index, parsed, viewer, where)
        await record_miss(raw, where["id"] if where else None)
    return SearchPage(raw, parsed, items, page, per_page, total, where, suggestion, tuple(notes))


async def _checked(viewer: Viewer, results: Results) -> list[Item]:
    """The hits the database still lets this viewer see, in the index's order."""
    by_kind: dict[str, list[int]] = {}
    for hit in results.hits:
        by_kind.setdefault(hit.kind, []).append(hit.id)
    shown = {
        kind: await SOURCES[kind].check(viewer, ids)
        for kind, ids in by_kind.items()
        if kind in SOURCES
    }
    items = []
    for hit in results.hits:
        info = shown.get(hit.kind, {}).get(hit.id)
        if info is None:
            continue
        items.append(
            Item(
                kind=hit.kind,
                id=hit.id,
                title=info.title,
                url=info.url,
                community=info.community_slug,
                community_name=info.community_name,
                snippet_html=hit.snippet_html,
                score=hit.score,
            )
        )
    return items


async def _suggestion(
    index: SearchIndex, parsed: ParsedQuery, viewer: Viewer, where: dict[str, Any] | None
) -> str | None:
    """A corrected query that finds something for this viewer, or None."""
    if not parsed.has_text:
        return None
    phrase_words = [w for phrase in parsed.phrases for w in phrase]
    fixes = await suggest.corrections([*parsed.terms, *phrase_words])
    if not fixes:
        return None
    for attempt in range(suggest.MAX_CANDIDATES):

        def fix(word: str, attempt: int = attempt) -> str:
            options = fixes.get(word)
            return options[min(attempt, len(options) - 1)] if options else word

        corrected = replace(
            parsed,
            terms=tuple(fix(w) for w in parsed.terms),
            phrases=tuple(tuple(fix(w) for w in phrase) for phrase in parsed.phrases),
        )
        if corrected == parsed:
            continue
        request = replace(_request(corrected, viewer, where["id"] if where else None), limit=1)
        found = await index.search(request)
        if found.total and await _checked(viewer, found):
            return corrected.text()
    return None


async def record_miss(text: str, community_id: int | None) -> None:
    """Remember a search that found nothing (the query's text only, no one's identity)."""
    query = normalize(text)
    if not query:
        return
    try:
        await SearchMiss.insert(
            SearchMiss(query=query, community=community_id, created_at=datetime.now(UTC))
        )
    except Exception:  # a busy database must not turn "no results" into an error page
        log.warning("search: could not record a missed search", exc_info=True)
