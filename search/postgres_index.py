"""PostgreSQL full text (KINDRED_SEARCH=postgres): the index is a table in the same database,
so any number of app instances share it and none keeps state of its own.

`search_document` (created by search/piccolo_migrations, on PostgreSQL only) holds one row per
document with a generated tsvector (the title at weight A, the body at weight B, English
stemming, GIN-indexed) and `pairs`, the document's adjacent stem pairs ("blood_pressur"), also
GIN-indexed. Queries use websearch_to_tsquery for words, phrases of three or more words and
exclusions; a two-word phrase is one pair lookup, so it never rechecks positions in every
document holding both words (measured: 25 ms of a 30 ms query on the benchmark corpus).

Ranking is ts_rank_cd over the RANK_WINDOW (300) most recently active matches; the older
matches follow, newest first, so every match can be paged to exactly once. Matching is
complete and exact and `total` counts every match; but ranking reads each document's whole
tsvector, so for a word found in thousands of conversations only the most recent are ranked
(docs/search.md has the figures). Snippets are made in Python from the stored text, as for
Whoosh: ts_headline cost 14 ms per page of ten on the benchmark corpus.

Writing happens inside one transaction that first takes a transaction-level advisory lock:
one writer at a time across instances, and the index rows and the outbox rows they came from
commit together.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from itertools import pairwise
from typing import Any

from forum.tables import Thread
from search.index import Changes, Document, Hit, IndexStats, Progress, Results, SearchRequest
from search.text import snippet, stems

TABLE = "search_document"
# pg_advisory_xact_lock key: "KINDRED_" in ASCII.
LOCK_KEY = 0x4B494E445245445F
INSERT_BATCH = 200
RANK_WINDOW = 300
SNIPPET_SOURCE = 6000
TSQUERY = "websearch_to_tsquery('english', {})"
COLUMNS = (
    "kind",
    "object_id",
    "community_id",
    "visibility",
    "author",
    "tags",
    "expert_answered",
    "status",
    "created_at",
    "activity_at",
    "title",
    "body",
    "pairs",
)


async def _raw(sql: str, *args: Any) -> list[dict[str, Any]]:
    return await Thread.raw(sql, *args)


def _marks(count: int) -> str:
    return ", ".join("{}" for _ in range(count))


def pairs_of(text: str) -> set[str]:
    """Adjacent stem pairs of a text, as stored in `pairs` and looked up for phrases."""
    return {f"{a}_{b}" for a, b in pairwise(stems(text))}


def websearch_text(
    terms: Sequence[str],
    phrases: Sequence[Sequence[str]],
    excluded_terms: Sequence[str],
    excluded_phrases: Sequence[Sequence[str]],
) -> str:
    """Words and phrases in websearch_to_tsquery's syntax. Words hold only letters, digits and
    inner apostrophes (search.query), so nothing here can be read as another operator."""
    parts = list(terms)
    parts += ['"' + " ".join(phrase) + '"' for phrase in phrases]
    parts += [f"-{word}" for word in excluded_terms]
    parts += ['-"' + " ".join(phrase) + '"' for phrase in excluded_phrases]
    return " ".join(parts)


def _row(document: Document) -> list[Any]:
    return [
        document.kind,
        document.id,
        document.community_id,
        document.visibility,
        (document.author or "").lower() or None,
        list(document.tags),
        document.expert_answered,
        document.status,
        document.created_at,
        document.activity_at,
        document.title,
        document.body,
        sorted(pairs_of(document.title) | pairs_of(document.body)),
    ]


class PostgresIndex:
    """SearchIndex over the search_document table."""

    name = "postgres"

    def __init__(self) -> None:
        self._local_writer = asyncio.Lock()

    async def open(self) -> bool:
        rows = await _raw(f'SELECT EXISTS (SELECT 1 FROM "{TABLE}") AS "any"')
        return not rows[0]["any"]

    async def close(self) -> None:
        return None

    @contextlib.asynccontextmanager
    async def exclusive(self, wait: bool = False) -> AsyncIterator[bool]:
        async with self._local_writer, Thread._meta.db.transaction():
            if wait:
                await _raw("SELECT pg_advisory_xact_lock({})", LOCK_KEY)
                held = True
            else:
                rows = await _raw('SELECT pg_try_advisory_xact_lock({}) AS "held"', LOCK_KEY)
                held = bool(rows[0]["held"])
            yield held

    async def apply(self, changes: Changes) -> None:
        if not changes:
            return
        async with Thread._meta.db.transaction():
            if changes.purge_communities:
                await _raw(
                    f'DELETE FROM "{TABLE}" WHERE "community_id" = ANY({{}})',
                    list(changes.purge_communities),
                )
            by_kind: dict[str, list[int]] = {}
            for kind, object_id in changes.deletes:
                by_kind.setdefault(kind, []).append(object_id)
            for kind, ids in by_kind.items():
                await _raw(
                    f'DELETE FROM "{TABLE}" WHERE "kind" = {{}} AND "object_id" = ANY({{}})',
                    kind,
                    ids,
                )
            await self._upsert(list({d.key: d for d in changes.upserts}.values()))

    async def _upsert(self, documents: Sequence[Document]) -> None:
        names = ", ".join(f'"{c}"' for c in COLUMNS)
        updates = ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in COLUMNS[2:])
        for start in range(0, len(documents), INSERT_BATCH):
            batch = documents[start : start + INSERT_BATCH]
            values = ", ".join(f"({_marks(len(COLUMNS))})" for _ in batch)
            args = [value for document in batch for value in _row(document)]
            await _raw(
                f'INSERT INTO "{TABLE}" ({names}) VALUES {values} '
                f'ON CONFLICT ("kind", "object_id") DO UPDATE SET {updates}',
                *args,
            )

    async def rebuild(
        self,
        batches: AsyncIterator[Sequence[Document]],
        total: int = 0,
        progress: Progress | None = None,
    ) -> int:
        """Replace every row in one transaction: searches see the old rows until it commits."""
        done = 0
        async with Thread._meta.db.transaction():
            await _raw(f'DELETE FROM "{TABLE}"')
            async for documents in batches:
                await self._upsert(list({d.key: d for d in documents}.values()))
                done += len(documents)
                if progress:
                    progress(done)
        await _raw(f'ANALYZE "{TABLE}"')
        return done

    async def search(self, request: SearchRequest) -> Results:
        where: list[str] = []
        args: list[Any] = []
        # A two-word phrase is matched by its pair alone (the words are implied), so the
        # planner never filters thousands of rows by reading their tsvectors; its words still
        # count in the ranking.
        rank_words = list(request.terms)
        long_phrases: list[Sequence[str]] = []
        for phrase in request.phrases:
            count = len(stems(" ".join(phrase)))
            if count == 2:
                where.append('d."pairs" @> {}')
                args.append(sorted(pairs_of(" ".join(phrase))))
                rank_words += phrase
            elif count > 2:
                where.append('d."pairs" @> {}')
                args.append(sorted(pairs_of(" ".join(phrase))))
                long_phrases.append(phrase)  # pairs narrow it down; positions confirm it
            else:
                rank_words += phrase
        excluded_terms = list(request.excluded_terms)
        excluded_long: list[Sequence[str]] = []
        for phrase in request.excluded_phrases:
            count = len(stems(" ".join(phrase)))
            if count <= 1:
                excluded_terms += phrase
            elif count == 2:
                where.append('NOT (d."pairs" @> {})')
                args.append(sorted(pairs_of(" ".join(phrase))))
            else:
                excluded_long.append(phrase)
        matched_words = [w for w in request.terms] + [
            w for p in request.phrases if len(stems(" ".join(p))) <= 1 for w in p
        ]
        text = websearch_text(matched_words, long_phrases, excluded_terms, excluded_long)
        if text:
            where.append(f'd."tsv" @@ {TSQUERY}')
            args.append(text)
        rank_text = websearch_text(rank_words, long_phrases, (), ())
        if request.visible_communities is not None:
            where.append('(d."visibility" = \'public\' OR d."community_id" = ANY({}))')
            args.append(sorted(request.visible_communities))
        for column, value in (
            ("community_id", request.community_id),
            ("kind", request.kind),
            ("author", request.author.lower() if request.author else None),
        ):
            if value is not None:
                where.append(f'd."{column}" = {{}}')
                args.append(value)
        if request.tag:
            where.append('{} = ANY(d."tags")')
            args.append(request.tag.lower())
        if request.expert_answered:
            where.append('d."expert_answered"')
        if request.after:
            where.append('d."activity_at" >= {}')
            args.append(request.after)
        if request.before:
            where.append('d."activity_at" < {}')
            args.append(request.before)
        condition = " AND ".join(where) or "TRUE"
        matched = (
            'MATERIALIZED (SELECT d."kind", d."object_id", d."activity_at" '
            f'FROM "{TABLE}" d WHERE {condition})'
        )
        if request.has_text and rank_text:
            window = (
                'SELECT r."kind", r."object_id", r."activity_at", '
                f'ts_rank_cd(d."tsv", {TSQUERY}) AS "score", 0 AS "part" FROM ('
                'SELECT * FROM matched m ORDER BY m."activity_at" DESC, m."object_id" DESC '
                f'LIMIT {RANK_WINDOW}) r JOIN "{TABLE}" d '
                'ON d."kind" = r."kind" AND d."object_id" = r."object_id"'
            )
            if request.offset + request.limit > RANK_WINDOW:
                # Past the ranked window, the older matches follow, newest first.
                window += (
                    ' UNION ALL SELECT m."kind", m."object_id", m."activity_at", 0.0, 1 '
                    'FROM (SELECT * FROM matched m ORDER BY m."activity_at" DESC, '
                    f'm."object_id" DESC OFFSET {RANK_WINDOW}) m'
                )
            page = (
                f"SELECT * FROM ({window}) w "
                'ORDER BY w."part", w."score" DESC, w."activity_at" DESC, w."object_id" DESC '
                "LIMIT {} OFFSET {}"
            )
            call = [*args, rank_text, request.limit, request.offset]
        else:
            page = (
                'SELECT m.*, 0.0 AS "score", 0 AS "part" FROM matched m '
                'ORDER BY m."activity_at" DESC, m."object_id" DESC LIMIT {} OFFSET {}'
            )
            call = [*args, request.limit, request.offset]
        sql = (
            f"WITH matched AS {matched}, page AS ({page}) "
            'SELECT page."kind", page."object_id", page."score", '
            '(SELECT COUNT(*) FROM matched) AS "total", '
            f'left(d."body", {SNIPPET_SOURCE}) AS "body", d."title" '
            f'FROM page JOIN "{TABLE}" d ON d."kind" = page."kind" '
            'AND d."object_id" = page."object_id" '
            'ORDER BY page."part", page."score" DESC, page."activity_at" DESC, page."object_id" DESC'
        )
        async with Thread._meta.db.transaction():
            # Matching through the GIN indexes reads no tsvector; the planner's estimates
            # don't know that and would pick a sequential scan that reads them all.
            await _raw("SET LOCAL enable_seqscan = off")
            rows = await _raw(sql, *call)
            if rows or not request.offset:
                total = int(rows[0]["total"]) if rows else 0
            else:
                count = await _raw(
                    f'SELECT COUNT(*) AS "n" FROM "{TABLE}" d WHERE {condition}', *args
                )
                total = int(count[0]["n"])
        highlight = {s for word in request.terms for s in stems(word)}
        highlight |= {s for phrase in request.phrases for s in stems(" ".join(phrase))}
        hits = tuple(
            Hit(
                kind=row["kind"],
                id=row["object_id"],
                score=round(float(row["score"] or 0.0), 4),
                snippet_html=snippet(row["body"] or row["title"], highlight),
            )
            for row in rows
        )
        return Results(hits, total)

    async def stats(self) -> IndexStats:
        rows = await _raw(
            f'SELECT (SELECT COUNT(*) FROM "{TABLE}") AS "n", '
            f"pg_total_relation_size('{TABLE}') AS \"size\""
        )
        return IndexStats(documents=int(rows[0]["n"]), size_bytes=int(rows[0]["size"]))
