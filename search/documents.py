"""Documents made from the database, in batches: what the index holds for each kind of content.

Each kind of findable content is a Source: how to load Documents for some ids (only what may be
indexed: published content in a community, with its published parts), how to list every id for
a rebuild, and how to check a page of hits against the database at query time. Threads are the
first source; stories plug in by adding theirs to SOURCES (their outbox kinds, "story" and
"comment", are already reserved).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from forum.permissions import Viewer, can_view_community
from forum.tables import PUBLISHED, Thread
from search.index import Document
from search.text import clean_text, html_to_text

BATCH = 500
# A document's body is capped: PostgreSQL's tsvector holds at most 1 MB, and a thread this long
# is found by its first 200,000 characters anyway.
MAX_BODY = 200_000


@dataclass(frozen=True)
class Shown:
    """What a search result shows of a hit that passed the database check."""

    title: str
    url: str
    community_slug: str | None
    community_name: str | None


@dataclass(frozen=True)
class Source:
    kind: str
    load: Callable[[Sequence[int]], Awaitable[dict[int, Document]]]
    ids_after: Callable[[int, int], Awaitable[list[int]]]
    check: Callable[[Viewer, Sequence[int]], Awaitable[dict[int, Shown]]]
    in_communities: Callable[[Sequence[int]], Awaitable[list[int]]]
    count: Callable[[], Awaitable[int]]


async def _raw(sql: str, *args: Any) -> list[dict[str, Any]]:
    return await Thread.raw(sql, *args)


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("{}" for _ in values)


def as_datetime(value: Any) -> datetime:
    """SQLite hands back text, PostgreSQL datetimes: always an aware UTC datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is None:
        return datetime.fromtimestamp(0, UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def chunks(ids: Iterable[int], size: int = BATCH) -> Iterable[list[int]]:
    batch: list[int] = []
    for item in ids:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# Threads --------------------------------------------------------------------------------------


async def load_threads(ids: Sequence[int]) -> dict[int, Document]:
    """Documents for the published threads among `ids`, each with its published posts' text.

    Two queries per batch of 500, whatever the threads' length."""
    documents: dict[int, Document] = {}
    for batch in chunks(sorted(set(ids))):
        rows = await _raw(
            'SELECT t."id", t."title", t."kind", t."status", t."expert_answered", '
            't."created_at", t."last_activity_at", c."id" AS "community_id", '
            # `author:` never finds a thread started anonymously or under a name used only in
            # its community (forum.anonymity, forum.aliases).
            'c."visibility", CASE WHEN t."anonymous" OR EXISTS (SELECT 1 FROM "community_name" cn '
            'WHERE cn."user" = t."author" AND cn."community" = t."community") THEN NULL '
            'ELSE u."username" END AS "username" '
            'FROM "thread" t JOIN "community" c ON c."id" = t."community" '
            'LEFT JOIN "kindred_user" u ON u."id" = t."author" '
            f'WHERE t."id" IN ({_marks(batch)}) AND t."status" = {{}}',
            *batch,
            PUBLISHED,
        )
        if not rows:
            continue
        found = [row["id"] for row in rows]
        posts = await _raw(
            'SELECT p."thread", p."body_html" FROM "post" p '
            f'WHERE p."thread" IN ({_marks(found)}) AND p."status" = {{}} '
            'ORDER BY p."thread", p."is_opening" DESC, p."created_at", p."id"',
            *found,
            PUBLISHED,
        )
        texts: dict[int, list[str]] = {}
        for post in posts:
            texts.setdefault(post["thread"], []).append(html_to_text(post["body_html"]))
        for row in rows:
            documents[row["id"]] = Document(
                kind="thread",
                id=row["id"],
                title=clean_text(row["title"]),
                body="\n".join(texts.get(row["id"], []))[:MAX_BODY],
                community_id=row["community_id"],
                visibility=row["visibility"],
                author=row["username"],
                created_at=as_datetime(row["created_at"]),
                activity_at=as_datetime(row["last_activity_at"]),
                tags=(row["kind"],),
                expert_answered=bool(row["expert_answered"]),
                status=row["status"],
            )
    return documents


async def thread_ids_after(after: int, limit: int) -> list[int]:
    """Published thread ids above `after`, in order: the rebuild's cursor."""
    rows = await _raw(
        'SELECT "id" FROM "thread" WHERE "id" > {} AND "status" = {} ORDER BY "id" LIMIT {}',
        after,
        PUBLISHED,
        limit,
    )
    return [row["id"] for row in rows]


async def count_threads() -> int:
    rows = await _raw('SELECT COUNT(*) AS "n" FROM "thread" WHERE "status" = {}', PUBLISHED)
    return int(rows[0]["n"])


async def threads_in_communities(community_ids: Sequence[int]) -> list[int]:
    rows = await _raw(
        f'SELECT "id" FROM "thread" WHERE "community" IN ({_marks(community_ids)})',
        *community_ids,
    )
    return [row["id"] for row in rows]


async def check_threads(viewer: Viewer, ids: Sequence[int]) -> dict[int, Shown]:
    """The hits among `ids` this viewer may see now, by the database: one query."""
    if not ids:
        return {}
    rows = await _raw(
        'SELECT t."id", t."title", t."status", c."id" AS "community_id", c."slug", c."name", '
        'c."visibility" FROM "thread" t JOIN "community" c ON c."id" = t."community" '
        f'WHERE t."id" IN ({_marks(ids)})',
        *ids,
    )
    shown: dict[int, Shown] = {}
    for row in rows:
        community = {"id": row["community_id"], "visibility": row["visibility"]}
        if row["status"] != PUBLISHED or not can_view_community(viewer, community):
            continue
        shown[row["id"]] = Shown(
            title=row["title"],
            url=f"/t/{row['id']}",
            community_slug=row["slug"],
            community_name=row["name"],
        )
    return shown


THREADS = Source(
    kind="thread",
    load=load_threads,
    ids_after=thread_ids_after,
    check=check_threads,
    in_communities=threads_in_communities,
    count=count_threads,
)

# Stories --------------------------------------------------------------------------------------


async def load_stories(ids: Sequence[int]) -> dict[int, Document]:
    """Documents for the published stories among `ids`, each with its published comments'
    text after the story's own. A story outside any community is public. Two queries a batch."""
    documents: dict[int, Document] = {}
    for batch in chunks(sorted(set(ids))):
        rows = await _raw(
            'SELECT s."id", s."title", s."summary", s."body_html", s."content_warnings", '
            's."status", s."created_at", s."published_at", s."updated_at", '
            's."community" AS "community_id", c."visibility", '
            'CASE WHEN EXISTS (SELECT 1 FROM "community_name" cn WHERE cn."user" = s."author" '
            'AND cn."community" = s."community") THEN NULL ELSE u."username" END AS "username" '
            'FROM "story" s LEFT JOIN "community" c ON c."id" = s."community" '
            'LEFT JOIN "kindred_user" u ON u."id" = s."author" '
            f'WHERE s."id" IN ({_marks(batch)}) AND s."status" = {{}}',
            *batch,
            PUBLISHED,
        )
        if not rows:
            continue
        found = [row["id"] for row in rows]
        comments = await _raw(
            'SELECT "story", "body_html" FROM "story_comment" '
            f'WHERE "story" IN ({_marks(found)}) AND "status" = {{}} ORDER BY "story", "created_at", "id"',
            *found,
            PUBLISHED,
        )
        texts: dict[int, list[str]] = {}
        for comment in comments:
            texts.setdefault(comment["story"], []).append(html_to_text(comment["body_html"]))
        for row in rows:
            parts = [clean_text(row["summary"] or ""), html_to_text(row["body_html"])]
            body = "\n".join([part for part in parts if part] + texts.get(row["id"], []))
            activity = row["updated_at"] or row["published_at"] or row["created_at"]
            documents[row["id"]] = Document(
                kind="story",
                id=row["id"],
                title=clean_text(row["title"]),
                body=body[:MAX_BODY],
                community_id=row["community_id"],
                visibility=row["visibility"] or "public",
                author=row["username"],
                created_at=as_datetime(row["published_at"] or row["created_at"]),
                activity_at=as_datetime(activity),
                tags=("story",),
                status=row["status"],
            )
    return documents


async def story_ids_after(after: int, limit: int) -> list[int]:
    rows = await _raw(
        'SELECT "id" FROM "story" WHERE "id" > {} AND "status" = {} ORDER BY "id" LIMIT {}',
        after,
        PUBLISHED,
        limit,
    )
    return [row["id"] for row in rows]


async def count_stories() -> int:
    rows = await _raw('SELECT COUNT(*) AS "n" FROM "story" WHERE "status" = {}', PUBLISHED)
    return int(rows[0]["n"])


async def stories_in_communities(community_ids: Sequence[int]) -> list[int]:
    rows = await _raw(
        f'SELECT "id" FROM "story" WHERE "community" IN ({_marks(community_ids)})',
        *community_ids,
    )
    return [row["id"] for row in rows]


async def check_stories(viewer: Viewer, ids: Sequence[int]) -> dict[int, Shown]:
    """The story hits among `ids` this viewer may see now, by the database: one query."""
    if not ids:
        return {}
    rows = await _raw(
        'SELECT s."id", s."title", s."status", s."community" AS "community_id", c."slug", '
        'c."name", c."visibility" FROM "story" s LEFT JOIN "community" c ON c."id" = s."community" '
        f'WHERE s."id" IN ({_marks(ids)})',
        *ids,
    )
    shown: dict[int, Shown] = {}
    for row in rows:
        if row["status"] != PUBLISHED:
            continue
        if row["community_id"] is not None and not can_view_community(
            viewer, {"id": row["community_id"], "visibility": row["visibility"]}
        ):
            continue
        shown[row["id"]] = Shown(
            title=row["title"],
            url=f"/s/{row['id']}",
            community_slug=row["slug"],
            community_name=row["name"],
        )
    return shown


STORIES = Source(
    kind="story",
    load=load_stories,
    ids_after=story_ids_after,
    check=check_stories,
    in_communities=stories_in_communities,
    count=count_stories,
)

# Findable kinds. Comments are indexed as part of their story (forum.stories writes a
# ("story", id) outbox row for a comment's changes; a "comment" row names the comment).
SOURCES: dict[str, Source] = {"thread": THREADS, "story": STORIES}


async def stories_of_comments(comment_ids: Sequence[int]) -> list[int]:
    """The stories these comments belong to."""
    if not comment_ids:
        return []
    rows = await _raw(
        f'SELECT DISTINCT "story" FROM "story_comment" WHERE "id" IN ({_marks(comment_ids)})',
        *comment_ids,
    )
    return [row["story"] for row in rows]


async def threads_of_posts(post_ids: Sequence[int]) -> list[int]:
    """The threads these posts belong to (posts are indexed as part of their thread)."""
    if not post_ids:
        return []
    rows = await _raw(
        f'SELECT DISTINCT "thread" FROM "post" WHERE "id" IN ({_marks(post_ids)})', *post_ids
    )
    return [row["thread"] for row in rows]


async def community_ids(ids: Sequence[int]) -> set[int]:
    """Which of these communities still exist."""
    if not ids:
        return set()
    rows = await _raw(f'SELECT "id" FROM "community" WHERE "id" IN ({_marks(ids)})', *ids)
    return {row["id"] for row in rows}


async def community_by_slug(slug: str) -> dict[str, Any] | None:
    rows = await _raw(
        'SELECT "id", "slug", "name", "visibility" FROM "community" WHERE "slug" = {}', slug
    )
    return rows[0] if rows else None
