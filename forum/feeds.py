"""Atom feeds (RFC 4287) of communities, story blogs and threads: public content only.

A feed is read by programs that sign in as nobody, so it shows what a visitor may see and
nothing more: published threads, posts and stories in public communities (and stories outside
any community). A private community's feed does not exist. A story with a content warning
appears by its title, summary and warning only; its words stay behind the click-through on the
site. Links are absolute, on KINDRED_BASE_URL; the XML is written by xml.etree, which escapes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree

from forum import anonymity, db
from forum.errors import NotFound
from forum.tables import PUBLISHED

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml; charset=utf-8"
LIMIT = 30
# Characters XML 1.0 forbids; stored text never has them, but a feed must never break.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    url: str
    updated: datetime
    published: datetime
    author: str
    html: str = ""  # the content, as sanitized HTML
    summary: str = ""  # plain text
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Feed:
    id: str
    title: str
    url: str
    self_url: str
    updated: datetime
    author: str
    subtitle: str = ""
    entries: list[Entry] = field(default_factory=list)


def as_datetime(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value is None:
        return datetime.fromtimestamp(0, UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


def render(feed: Feed) -> bytes:
    """The feed as Atom XML."""
    ElementTree.register_namespace("", ATOM)

    def sub(
        parent: ElementTree.Element, tag: str, text: str | None = None, **attrs: str
    ) -> ElementTree.Element:
        element = ElementTree.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = _text(text)
        return element

    root = ElementTree.Element(f"{{{ATOM}}}feed")
    sub(root, "id", feed.id)
    sub(root, "title", feed.title)
    if feed.subtitle:
        sub(root, "subtitle", feed.subtitle)
    sub(root, "updated", rfc3339(feed.updated))
    sub(root, "link", rel="alternate", type="text/html", href=feed.url)
    sub(root, "link", rel="self", type="application/atom+xml", href=feed.self_url)
    author = sub(root, "author")
    sub(author, "name", feed.author)
    sub(root, "generator", "Kindred")
    for entry in feed.entries:
        item = sub(root, "entry")
        sub(item, "id", entry.id)
        sub(item, "title", entry.title)
        sub(item, "link", rel="alternate", type="text/html", href=entry.url)
        sub(item, "published", rfc3339(entry.published))
        sub(item, "updated", rfc3339(entry.updated))
        entry_author = sub(item, "author")
        sub(entry_author, "name", entry.author)
        for category in entry.categories:
            sub(item, "category", term=category)
        if entry.summary:
            sub(item, "summary", entry.summary, type="text")
        if entry.html:
            sub(item, "content", entry.html, type="html")
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)


def _author(row: dict[str, Any]) -> str:
    return row.get("author_display_name") or "A former member"


def _story_entry(base: str, row: dict[str, Any]) -> Entry:
    try:
        warnings = [str(w) for w in json.loads(row["content_warnings"] or "[]")]
    except ValueError:
        warnings = ["unspecified"]
    url = f"{base}/s/{row['id']}"
    published = as_datetime(row["published_at"] or row["created_at"])
    updated = as_datetime(row["edited_at"] or row["published_at"] or row["created_at"])
    if warnings:
        summary = f"Content warning: {', '.join(warnings)}. "
        if row["summary"]:
            summary += row["summary"] + " "
        summary += "The story is on Kindred, behind its warning."
        return Entry(
            url,
            row["title"],
            url,
            updated,
            published,
            _author(row),
            summary=summary,
            categories=("story",),
        )
    return Entry(
        url,
        row["title"],
        url,
        updated,
        published,
        _author(row),
        html=row["body_html"],
        summary=row["summary"] or "",
        categories=("story",),
    )


_STORY_COLUMNS = (
    's."id", s."title", s."summary", s."body_html", s."content_warnings", s."created_at", '
    # The name the author goes by in the story's community, if any (forum.aliases).
    's."published_at", s."edited_at", COALESCE(cn."display_name", u."display_name") '
    'AS "author_display_name"'
)
_STORY_NAME_JOIN = (
    'LEFT JOIN "community_name" cn ON cn."user" = s."author" AND cn."community" = s."community"'
)


async def _public_community(slug: Any) -> dict[str, Any]:
    if not isinstance(slug, str) or len(slug) > 48:
        raise NotFound("We couldn't find that community.")
    rows = await db.raw(
        'SELECT "id", "slug", "name", "description", "visibility", "created_at" FROM "community" '
        'WHERE "slug" = {}',
        slug.lower(),
    )
    if not rows or rows[0]["visibility"] != "public":
        raise NotFound("We couldn't find that community.")
    return rows[0]


async def community_feed(base: str, slug: Any) -> Feed:
    """A public community's newest conversations and stories."""
    community = await _public_community(slug)
    threads = await db.raw(
        'SELECT t."id", t."title", t."kind", t."created_at", p."body_html", p."edited_at", '
        # Never who wrote anonymously; the name used here, if any (forum.anonymity).
        + anonymity.author_columns('p."anonymous"', 'p."pseudonym"')
        + ' FROM "thread" t '
        'JOIN "post" p ON p."thread" = t."id" AND p."is_opening" = {} AND p."status" = {} '
        'LEFT JOIN "kindred_user" u ON u."id" = t."author" '
        + anonymity.name_join('t."author"', 't."community"')
        + " "
        'WHERE t."community" = {} AND t."status" = {} ORDER BY t."created_at" DESC, t."id" DESC '
        "LIMIT {}",
        True,
        PUBLISHED,
        community["id"],
        PUBLISHED,
        LIMIT,
    )
    stories = await db.raw(
        f'SELECT {_STORY_COLUMNS} FROM "story" s LEFT JOIN "kindred_user" u ON u."id" = s."author" '
        f"{_STORY_NAME_JOIN} "
        'WHERE s."community" = {} AND s."status" = {} '
        'ORDER BY s."published_at" DESC, s."id" DESC LIMIT {}',
        community["id"],
        PUBLISHED,
        LIMIT,
    )
    entries = [
        Entry(
            f"{base}/t/{row['id']}",
            row["title"],
            f"{base}/t/{row['id']}",
            as_datetime(row["edited_at"] or row["created_at"]),
            as_datetime(row["created_at"]),
            _author(row),
            html=row["body_html"],
            categories=(row["kind"],),
        )
        for row in threads
    ] + [_story_entry(base, row) for row in stories]
    entries.sort(key=lambda entry: entry.published, reverse=True)
    entries = entries[:LIMIT]
    url = f"{base}/c/{community['slug']}"
    return Feed(
        id=url,
        title=f"{community['name']} · Kindred",
        url=url,
        self_url=f"{url}/feed.atom",
        updated=_latest(entries, community["created_at"]),
        author=community["name"],
        subtitle=" ".join((community["description"] or "").split())[:300],
        entries=entries,
    )


async def blog_feed(base: str, username: Any) -> Feed:
    """A member's published stories that anyone may read."""
    rows = await db.raw(
        'SELECT "id", "username", "display_name", "created_at" FROM "kindred_user" '
        'WHERE "username" = {} AND "status" <> {}',
        str(username).lower()[:64],
        "deleted",
    )
    if not rows:
        raise NotFound("We couldn't find that person.")
    person = rows[0]
    stories = await db.raw(
        f'SELECT {_STORY_COLUMNS} FROM "story" s LEFT JOIN "kindred_user" u ON u."id" = s."author" '
        'LEFT JOIN "community" c ON c."id" = s."community" '
        f"{_STORY_NAME_JOIN} "
        'WHERE s."author" = {} AND s."status" = {} AND (s."community" IS NULL OR c."visibility" = {}) '
        # Not the stories where they go by another name (forum.aliases).
        'AND cn."display_name" IS NULL '
        'ORDER BY s."published_at" DESC, s."id" DESC LIMIT {}',
        person["id"],
        PUBLISHED,
        "public",
        LIMIT,
    )
    entries = [_story_entry(base, row) for row in stories]
    url = f"{base}/u/{person['username']}/stories"
    return Feed(
        id=url,
        title=f"{person['display_name']}'s stories · Kindred",
        url=url,
        self_url=f"{base}/u/{person['username']}/feed.atom",
        updated=_latest(entries, person["created_at"]),
        author=person["display_name"],
        entries=entries,
    )


async def thread_feed(base: str, thread_id: Any) -> Feed:
    """A public conversation's newest published posts."""
    if not isinstance(thread_id, int) or not 0 < thread_id < 2**31:
        raise NotFound("We couldn't find that conversation.")
    rows = await db.raw(
        'SELECT t."id", t."title", t."status", t."created_at", c."visibility", c."name", '
        'c."id" AS "community_id" '
        'FROM "thread" t JOIN "community" c ON c."id" = t."community" WHERE t."id" = {}',
        thread_id,
    )
    if not rows or rows[0]["status"] != PUBLISHED or rows[0]["visibility"] != "public":
        raise NotFound("We couldn't find that conversation.")
    thread = rows[0]
    posts = await db.raw(
        'SELECT p."id", p."is_opening", p."body_html", p."created_at", p."edited_at", '
        + anonymity.author_columns('p."anonymous"', 'p."pseudonym"')
        + ' FROM "post" p LEFT JOIN "kindred_user" u ON u."id" = p."author" '
        + anonymity.name_join('p."author"', "{}")
        + ' WHERE p."thread" = {} AND p."status" = {} '
        'ORDER BY p."created_at" DESC, p."id" DESC LIMIT {}',
        thread["community_id"],
        thread["id"],
        PUBLISHED,
        LIMIT,
    )
    url = f"{base}/t/{thread['id']}"
    entries = [
        Entry(
            f"{url}#post-{row['id']}",
            thread["title"] if row["is_opening"] else f"Reply to “{thread['title']}”",
            f"{url}#post-{row['id']}",
            as_datetime(row["edited_at"] or row["created_at"]),
            as_datetime(row["created_at"]),
            _author(row),
            html=row["body_html"],
        )
        for row in posts
    ]
    return Feed(
        id=url,
        title=f"{thread['title']} · {thread['name']} · Kindred",
        url=url,
        self_url=f"{url}/feed.atom",
        updated=_latest(entries, thread["created_at"]),
        author=thread["name"],
        entries=entries,
    )


def _latest(entries: list[Entry], fallback: Any) -> datetime:
    return max((entry.updated for entry in entries), default=as_datetime(fallback))
