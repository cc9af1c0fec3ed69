"""Threads and replies: starting, replying, editing with history, deleting, reading.

Every write runs in one transaction with its search outbox row, so the index can never miss a
committed change. Reading a thread page costs the same few queries whatever its length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from piccolo.table import Table

from forum import (
    accounts,
    aliases,
    anonymity,
    answers,
    badges,
    clinicians,
    content,
    db,
    experience,
    follows,
    guidelines,
    notifications,
    ratelimit,
    reactions,
)
from forum.communities import find_community
from forum.errors import Forbidden, KindredError, NotFound
from forum.page_cache import PAGES, PRESENTED
from forum.pagination import Page
from forum.permissions import (
    VISITOR,
    Viewer,
    can_view_content,
    ensure_can_delete_post,
    ensure_can_edit_post,
    ensure_can_post_in,
    ensure_can_view_community,
    ensure_can_view_thread,
    moderates,
)
from forum.settings import Settings
from forum.tables import (
    DELETED,
    HELD,
    HIDDEN,
    PUBLISHED,
    REMOVED,
    THREAD_KINDS,
    Community,
    Post,
    PostRevision,
    Thread,
)
from forum.validation import Form
from moderation import posting
from search import outbox

TITLE_MIN = 5
TITLE_MAX = 200
BODY_MAX = 20_000

PLACEHOLDERS = {
    DELETED: "This post was deleted by its author.",
    HIDDEN: "This post is hidden while a moderator reviews it.",
    REMOVED: "This post was removed by a moderator.",
}

_POST_COLUMNS = (
    'p."id", p."thread", p."author", p."is_opening", p."body", p."body_html", p."status", '
    'p."created_at", p."edited_at", p."label", p."anonymous", '
    # Anonymous posts and names for one community are masked here, in SQL (forum.anonymity).
    + anonymity.author_columns('p."anonymous"', 'p."pseudonym"', role=True)
    + ", "
    'p."author_credential", '
    # The author's experience tag in this community (forum.experience), joined, not queried.
    'e."id" AS "tag_id", e."relation" AS "tag_relation", e."since_year" AS "tag_since", '
    'e."treatments" AS "tag_treatments", e."vouch_count" AS "tag_vouches", '
    'e."confirmed_at" AS "tag_confirmed_at"'
)
_TAG_JOIN = (
    'LEFT JOIN "experience_tag" e ON e."user" = p."author" AND e."community" = {} '
    'AND e."hidden" = {} AND p."anonymous" = {} ' + anonymity.name_join('p."author"', "{}")
    # The name the author uses in this community, if any (forum.aliases).
)


# Who started a thread, as lists show it: never who started an anonymous one, and the name they
# use in the community if they have one (forum.anonymity, forum.aliases).
_STARTER_COLUMNS = anonymity.author_columns(
    't."anonymous"', anonymity.quoted(anonymity.ANONYMOUS_STARTER)
)
_STARTER_JOIN = anonymity.name_join('t."author"', 't."community"')

# How the viewer wrote in a thread so far (thread id, viewer id), for the reply form.
_MY_IDENTITY = (
    '(SELECT MAX(CASE WHEN q."anonymous" THEN q."pseudonym" ELSE \'\' END) FROM "post" q '
    'WHERE q."thread" = {} AND q."author" = {}) AS "my_identity"'
)

# One post's author as readers see them (forum.anonymity), for get_post.
_POST_AUTHOR = (
    "SELECT "
    + anonymity.author_columns('p."anonymous"', 'p."pseudonym"')
    + ' FROM "post" p LEFT JOIN "kindred_user" u ON u."id" = p."author" '
    + anonymity.name_join('p."author"', "{}")
    + ' WHERE p."id" = {}'
)


@dataclass(frozen=True)
class Draft:
    """What a person wrote, before it is stored."""

    body: str
    title: str = ""
    kind: str = "discussion"
    # The author read screening's warning about personal details and posts anyway (held).
    confirm_phi: bool = False
    # For "ask a clinician": the specialty that should answer (forum.clinicians), if known.
    specialty: str = ""
    # Post as "Anonymous member N" where the community allows it (forum.anonymity).
    anonymous: bool = False


def _now() -> datetime:
    return datetime.now(UTC)


def _check_body(form: Form, body: Any) -> str:
    return form.text("body", body, label="Your message", max_length=BODY_MAX, multiline=True)


async def _refresh_thread_counts(thread_id: int, touch: bool) -> None:
    """Recompute the derived reply count (and last activity on new replies)."""
    await db.refresh_reply_count(thread_id, _now() if touch else None)


def _aliased(table: type[Table], alias: str, prefix: str = "") -> str:
    return ", ".join(
        f'{alias}."{column._meta.db_column_name}" AS "{prefix}{column._meta.name}"'
        for column in table._meta.columns
    )


# Written out once, not built per request: Piccolo's query builder cost ~1 ms a call here,
# the largest single cost of a thread page (docs/performance.md).
_THREAD_WITH_COMMUNITY = (
    f"SELECT {_aliased(Thread, 't')}, {_aliased(Community, 'c', 'community.')} "
    'FROM "thread" t JOIN "community" c ON c."id" = t."community" WHERE t."id" = {}'
)


# A thread page's thread and community, with what about them is the viewer's own (follow
# state, how they wrote here, whether they have posts waiting for review here) and the version
# of who people are (forum.page_cache). Arguments: _thread_page_arguments.
_THREAD_PAGE_COLUMNS = (
    f"{_aliased(Thread, 't')}, {_aliased(Community, 'c', 'community.')}, "
    f"{follows.STATE_COLUMN}, {_MY_IDENTITY}, "
    'CASE WHEN EXISTS (SELECT 1 FROM "post" h WHERE h."thread" = {} AND h."author" = {} '
    f'AND h."status" = \'{HELD}\') THEN 1 ELSE 0 END AS "my_held", '
    '(SELECT v."version" FROM "cache_version" v WHERE v."name" = \'people\') '
    'AS "people_version" '
)
_THREAD_PAGE_FROM = 'FROM "thread" t JOIN "community" c ON c."id" = t."community" WHERE t."id" = {}'
_THREAD_PAGE = f"SELECT {_THREAD_PAGE_COLUMNS}{_THREAD_PAGE_FROM}"
# The reader (accounts.VIEWER_SQL, a row per membership and block) and the thread page's row
# in one round trip; the thread's columns carry a "page." prefix.
_PAGE_PREFIX = "page."
_VIEWER_AND_THREAD_PAGE = (
    f"SELECT v.*, tp.* FROM ({accounts.VIEWER_SQL}) v LEFT JOIN (SELECT "
    + _THREAD_PAGE_COLUMNS.replace(' AS "', f' AS "{_PAGE_PREFIX}')
    + f"{_THREAD_PAGE_FROM}) tp ON 1 = 1"
)


def _thread_page_arguments(viewer_id: int, thread_id: int) -> tuple[Any, ...]:
    return (
        *(viewer_id, "thread", thread_id),  # follow state
        *(thread_id, viewer_id),  # my identity
        *(thread_id, viewer_id),  # my held posts
        thread_id,
    )


# Columns of _THREAD_PAGE that are about the viewer or the cache, not the thread.
_PAGE_EXTRAS = ("follow_state", "my_identity", "my_held", "people_version")

# A thread page's row split into the thread, its community and the _PAGE_EXTRAS.
_PageRow = tuple[dict[str, Any], dict[str, Any], dict[str, Any]]


def _page_row_columns(prefix: str) -> tuple[tuple[tuple[str, str], ...], ...]:
    """(column in the row, key) for each part of _split_page_row, for columns named with
    `prefix`: worked out once, not by testing each of a row's ~45 names on every read."""
    thread = [column._meta.name for column in Thread._meta.columns]
    community = [column._meta.name for column in Community._meta.columns]
    return (
        tuple((prefix + name, name) for name in thread),
        tuple((f"{prefix}community.{name}", name) for name in community),
        tuple((prefix + name, name) for name in _PAGE_EXTRAS),
    )


_PAGE_ROW_COLUMNS = {prefix: _page_row_columns(prefix) for prefix in ("", _PAGE_PREFIX)}
_PAGE_ID = f"{_PAGE_PREFIX}id"


def _split_page_row(row: dict[str, Any], prefix: str) -> _PageRow:
    """The thread, its community and the reader's extras from a row of _THREAD_PAGE (prefix
    "") or of _VIEWER_AND_THREAD_PAGE (prefix _PAGE_PREFIX)."""
    thread, community, extras = _PAGE_ROW_COLUMNS[prefix]
    return (
        {key: row[column] for column, key in thread},
        {key: row[column] for column, key in community},
        {key: row[column] for column, key in extras},
    )


def _valid_thread_id(thread_id: Any) -> bool:
    return isinstance(thread_id, int) and 1 <= thread_id <= 2**31


async def _load_thread(thread_id: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A thread and its community in one query."""
    if not _valid_thread_id(thread_id):
        return None, None
    rows = await db.read(_THREAD_WITH_COMMUNITY, thread_id)
    return _split_thread_row(rows[0]) if rows else (None, None)


def _split_thread_row(row: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    community = {
        key.removeprefix("community."): value
        for key, value in row.items()
        if key.startswith("community.")
    }
    thread = {key: value for key, value in row.items() if not key.startswith("community.")}
    return thread, community


async def start_thread(
    settings: Settings, viewer: Viewer, slug: Any, draft: Draft
) -> dict[str, Any]:
    """Start a thread in a community; returns the thread with its opening post's id."""
    community = ensure_can_view_community(viewer, await find_community(slug))
    ensure_can_post_in(viewer, community)
    await guidelines.ensure_accepted(viewer, community)
    form = Form()
    title = form.text(
        "title", draft.title, label="Title", max_length=TITLE_MAX, min_length=TITLE_MIN
    )
    body = _check_body(form, draft.body)
    kind = form.choice("kind", draft.kind, THREAD_KINDS, label="Kind")
    specialty = None
    if kind == "ask_clinician" and draft.specialty:
        specialty = form.choice(
            "specialty", draft.specialty, clinicians.SPECIALTY_KEYS, label="Specialty"
        )
    form.check()
    anonymous = draft.anonymous is True
    if anonymous:
        anonymity.ensure_allowed(community)
    await ratelimit.count_post(settings, viewer.id)
    rules = posting.rules_for(settings.data_dir)
    verdict, standing = await posting.screen_post(
        viewer,
        community["id"],
        text=body,
        title=title,
        kind="thread",
        confirm_phi=draft.confirm_phi,
        rules=rules,
    )
    title, body = verdict.title or title, verdict.text or body  # censored words starred
    status = posting.status_for(verdict)
    rendered = content.render(body)
    # An anonymous post carries no credential: a badge would narrow down who wrote it.
    credential = None if anonymous else await clinicians.credential_for_post(viewer)
    shown_as = await _shown_as(viewer, community, anonymous)
    pseudonym = anonymity.PSEUDONYM.format(number=1) if anonymous else None
    now = _now()
    async with db.transaction():
        thread_rows = await Thread.insert(
            Thread(
                community=community["id"],
                author=viewer.id,
                title=title,
                kind=kind,
                specialty=specialty,
                status=status,
                created_at=now,
                last_activity_at=now,
                anonymous=anonymous,
            )
        ).returning(Thread.id)
        thread_id = thread_rows[0]["id"]
        post_rows = await Post.insert(
            Post(
                thread=thread_id,
                author=viewer.id,
                is_opening=True,
                body=body,
                body_html=rendered.html,
                policy_version=rendered.policy_version,
                status=status,
                label=verdict.label,
                created_at=now,
                author_credential=credential,
                anonymous=anonymous,
                pseudonym=pseudonym,
            )
        ).returning(Post.id)
        await posting.record(
            viewer,
            verdict,
            standing,
            kind="thread",
            object_id=thread_id,
            post_id=post_rows[0]["id"],
            thread_id=thread_id,
            community_id=community["id"],
            rules=rules,
            author_name=pseudonym,
            anonymous=anonymous,
        )
        await outbox.enqueue("thread", thread_id)
        await follows.auto_follow(viewer.id, "thread", thread_id)
        if status == PUBLISHED:
            await notifications.thread_started(
                viewer.id,
                {"id": thread_id, "title": title},
                post_rows[0]["id"],
                community,
                body,
                shown_as=shown_as,
            )
    if status == PUBLISHED:
        await badges.check(viewer.id)
    return {
        "id": thread_id,
        "title": title,
        "kind": kind,
        "specialty": specialty,
        "status": status,
        "post_id": post_rows[0]["id"],
        "community": community["slug"],
        "anonymous": anonymous,
        "pseudonym": pseudonym,
        "moderation": verdict.as_json(),
    }


async def _shown_as(viewer: Viewer, community: dict[str, Any], anonymous: bool) -> str | None:
    """How the author appears: anonymously, under a name for this community, or as themself."""
    if anonymous:
        return anonymity.ANONYMOUS
    if await aliases.name_in(viewer.id, community["id"]):
        return anonymity.COMMUNITY_NAME
    return None


async def post_reply(
    settings: Settings,
    viewer: Viewer,
    thread_id: Any,
    body: Any,
    *,
    confirm_phi: bool = False,
    anonymous: bool = False,
) -> dict[str, Any]:
    """Reply to a thread the viewer may see and post in; `anonymous` as "Anonymous member N"
    where the community allows it (and always, once they wrote anonymously in the thread)."""
    thread, community = await _load_thread(thread_id)
    ensure_can_view_thread(viewer, thread, community)
    assert thread is not None and community is not None
    ensure_can_post_in(viewer, community)
    if thread["status"] != PUBLISHED:
        raise Forbidden("This conversation isn't taking replies right now.")
    await guidelines.ensure_accepted(viewer, community)
    form = Form()
    text = _check_body(form, body)
    form.check()
    asked = anonymous is True
    anonymous = await anonymity.reply_anonymously(thread["id"], viewer, asked)
    if asked and anonymous:
        anonymity.ensure_allowed(community)
    await ratelimit.count_post(settings, viewer.id)
    rules = posting.rules_for(settings.data_dir)
    verdict, standing = await posting.screen_post(
        viewer, community["id"], text=text, kind="post", confirm_phi=confirm_phi, rules=rules
    )
    text = verdict.text or text
    status = posting.status_for(verdict)
    rendered = content.render(text)
    # Whether the author is a verified clinician now: kept with the post for good (never on
    # an anonymous post, where the badge would narrow down who wrote it).
    credential = None if anonymous else await clinicians.credential_for_post(viewer)
    shown_as = await _shown_as(viewer, community, anonymous)
    async with db.transaction():
        assert viewer.id is not None
        pseudonym = await anonymity.assign_pseudonym(thread["id"], viewer.id) if anonymous else None
        rows = await Post.insert(
            Post(
                thread=thread["id"],
                author=viewer.id,
                is_opening=False,
                body=text,
                body_html=rendered.html,
                policy_version=rendered.policy_version,
                status=status,
                label=verdict.label,
                created_at=_now(),
                author_credential=credential,
                anonymous=anonymous,
                pseudonym=pseudonym,
            )
        ).returning(Post.id, Post.status, Post.created_at, Post.author_credential, Post.anonymous)
        await posting.record(
            viewer,
            verdict,
            standing,
            kind="post",
            object_id=rows[0]["id"],
            post_id=rows[0]["id"],
            thread_id=thread["id"],
            community_id=community["id"],
            rules=rules,
            author_name=pseudonym,
            anonymous=anonymous,
        )
        # A held reply neither counts nor bumps the thread until a moderator approves it.
        await _refresh_thread_counts(thread["id"], touch=status == PUBLISHED)
        await outbox.enqueue("thread", thread["id"])
        await follows.auto_follow(viewer.id, "thread", thread["id"])
        if status == PUBLISHED:
            await notifications.reply_posted(
                viewer,
                thread,
                rows[0]["id"],
                community,
                text,
                clinician=bool(credential),
                shown_as=shown_as,
            )
    if status == PUBLISHED:
        await badges.check(viewer.id)
    return {
        **rows[0],
        "anonymous": bool(anonymous),
        "pseudonym": pseudonym,
        "thread": thread["id"],
        "body_html": rendered.html,
        "moderation": verdict.as_json(),
    }


async def _load_post(post_id: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    if not isinstance(post_id, int) or post_id < 1 or post_id > 2**31:
        raise NotFound("We couldn't find that post.")
    post = await Post.select().where(Post.id == post_id).first()
    if post is None:
        raise NotFound("We couldn't find that post.")
    thread, community = await _load_thread(post["thread"])
    if thread is None or community is None:
        raise NotFound("We couldn't find that post.")
    return post, thread, community


async def get_post(viewer: Viewer, post_id: Any) -> dict[str, Any]:
    """One post the viewer may see, NotFound otherwise."""
    post, thread, community = await _load_post(post_id)
    ensure_can_view_thread(viewer, thread, community)
    if not can_view_content(viewer, post, community["id"]):
        raise NotFound("We couldn't find that post.")
    # The author as readers see them: masked for anonymous posts and names for one community.
    author = await db.raw(_POST_AUTHOR, community["id"], post["id"])
    return {
        **post,
        "community": community["slug"],
        "community_id": community["id"],
        "author_username": author[0]["author_username"] if author else None,
        "author_display_name": author[0]["author_display_name"] if author else None,
        "author_alias": author[0]["author_alias"] if author else None,
        "thread_title": thread["title"],
        "placeholder": None,
    }


async def edit_post(
    viewer: Viewer,
    post_id: Any,
    body: Any,
    title: Any = None,
    *,
    settings: Settings | None = None,
    confirm_phi: bool = False,
) -> dict[str, Any]:
    """Change a post, keeping the previous version; the opening post may retitle the thread.

    The new text is screened like a new post: an edit that needs review holds the post."""
    post, thread, community = await _load_post(post_id)
    ensure_can_view_thread(viewer, thread, community)
    if not can_view_content(viewer, post, community["id"]):
        raise NotFound("We couldn't find that post.")
    ensure_can_edit_post(viewer, post, community["id"])
    form = Form()
    text = _check_body(form, body)
    new_title = None
    if title is not None and post["is_opening"]:
        new_title = form.text(
            "title", title, label="Title", max_length=TITLE_MAX, min_length=TITLE_MIN
        )
    form.check()
    rules = posting.rules_for(settings.data_dir if settings else None)
    kind = "thread" if post["is_opening"] else "post"
    verdict, standing = await posting.screen_post(
        viewer,
        community["id"],
        text=text,
        title=new_title or "",
        kind=kind,
        confirm_phi=confirm_phi,
        rules=rules,
    )
    text = verdict.text or text
    new_title = (verdict.title or new_title) if new_title else None
    hold = verdict.held and post["status"] == PUBLISHED
    rendered = content.render(text)
    now = _now()
    async with db.transaction():
        await PostRevision.insert(
            PostRevision(
                post=post["id"],
                body=post["body"],
                body_html=post["body_html"],
                policy_version=post["policy_version"],
                edited_by=viewer.id,
                created_at=now,
            )
        )
        await Post.update(
            {
                Post.body: text,
                Post.body_html: rendered.html,
                Post.policy_version: rendered.policy_version,
                Post.edited_at: now,
                Post.label: verdict.label,
                **({Post.status: HELD} if hold else {}),
            }
        ).where(Post.id == post["id"])
        if new_title:
            await Thread.update({Thread.title: new_title}).where(Thread.id == thread["id"])
        if hold and post["is_opening"]:
            await Thread.update({Thread.status: HELD}).where(Thread.id == thread["id"])
        elif hold:
            await _refresh_thread_counts(thread["id"], touch=False)
        await posting.record(
            viewer,
            verdict,
            standing,
            kind=kind,
            object_id=thread["id"] if post["is_opening"] else post["id"],
            post_id=post["id"],
            thread_id=thread["id"],
            community_id=community["id"],
            rules=rules,
            author_id=post["author"],
            author_name=post["pseudonym"] if post["anonymous"] else "",
            raise_trust=False,
            anonymous=bool(post["anonymous"]),
        )
        await outbox.enqueue("thread", thread["id"])
    return {
        **await get_post(viewer, post["id"]),
        "title": new_title or thread["title"],
        "moderation": verdict.as_json(),
    }


async def delete_post(viewer: Viewer, post_id: Any) -> dict[str, Any]:
    """The author deletes their post; the thread stays readable with a placeholder."""
    post, thread, community = await _load_post(post_id)
    ensure_can_view_thread(viewer, thread, community)
    ensure_can_delete_post(viewer, post)
    async with db.transaction():
        await Post.update({Post.status: DELETED, Post.edited_at: _now()}).where(
            Post.id == post["id"]
        )
        await _refresh_thread_counts(thread["id"], touch=False)
        await outbox.enqueue("thread", thread["id"])
        await notifications.forget("post", post["id"])
    return {**post, "status": DELETED}


async def revisions(viewer: Viewer, post_id: Any) -> list[dict[str, Any]]:
    """Earlier versions of a post, for its author and the community's moderators."""
    post, thread, community = await _load_post(post_id)
    ensure_can_view_thread(viewer, thread, community)
    if post["author"] != viewer.id and not moderates(viewer, community["id"]):
        raise NotFound("We couldn't find that post.")
    return await (
        PostRevision.select(PostRevision.id, PostRevision.body_html, PostRevision.created_at)
        .where(PostRevision.post == post["id"])
        .order_by(PostRevision.id, ascending=False)
    )


def _thread_filter(viewer: Viewer, community_id: int) -> tuple[str, list[Any]]:
    """Threads a viewer sees in lists: published ones, plus their own held ones."""
    if moderates(viewer, community_id):
        return 't."status" IN ({}, {}, {})', [PUBLISHED, HELD, HIDDEN]
    if viewer.signed_in:
        return '(t."status" = {} OR (t."status" = {} AND t."author" = {}))', [
            PUBLISHED,
            HELD,
            viewer.id,
        ]
    return 't."status" = {}', [PUBLISHED]


async def list_threads(
    viewer: Viewer,
    slug: Any,
    *,
    page: int = 1,
    per_page: int = 20,
    kind: str | None = None,
    expert_answered: bool = False,
    community: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], Page[dict[str, Any]]]:
    """A community's threads, most recently active first, with reply counts; only those a
    verified clinician answered when `expert_answered`. A page that already holds the
    community (from communities.get_community) passes it instead of reading it again."""
    if community is None or community["slug"] != slug:
        community = await find_community(slug)
    community = ensure_can_view_community(viewer, community)
    where, args = _thread_filter(viewer, community["id"])
    where = 't."community" = {} AND ' + where
    args = [community["id"], *args]
    if kind in THREAD_KINDS:
        where += ' AND t."kind" = {}'
        args.append(kind)
    if expert_answered:
        where += ' AND t."expert_answered" = {}'
        args.append(True)
    total = await db.read(f'SELECT COUNT(*) AS n FROM "thread" t WHERE {where}', *args)
    rows = await db.read(
        'SELECT t."id", t."title", t."kind", t."status", t."reply_count", t."expert_answered", '
        't."created_at", t."last_activity_at", t."anonymous", '
        f"{_STARTER_COLUMNS} "
        'FROM "thread" t LEFT JOIN "kindred_user" u ON u."id" = t."author" '
        f"{_STARTER_JOIN} "
        f'WHERE {where} ORDER BY t."last_activity_at" DESC, t."id" DESC LIMIT {{}} OFFSET {{}}',
        *args,
        per_page,
        (page - 1) * per_page,
    )
    return community, Page(rows, page, per_page, total[0]["n"])


async def recent_threads(viewer: Viewer, limit: int = 8) -> list[dict[str, Any]]:
    """Recently active public threads across communities the viewer may see, for the home page."""
    from forum.communities import _visible_clause

    where, args = _visible_clause(viewer)
    return await db.read(
        'SELECT t."id", t."title", t."kind", t."reply_count", t."expert_answered", t."last_activity_at", '
        'c."slug" AS "community_slug", c."name" AS "community_name" '
        'FROM "thread" t JOIN "community" c ON c."id" = t."community" '
        f'WHERE t."status" = {{}} AND {where} '
        'ORDER BY t."last_activity_at" DESC LIMIT {}',
        PUBLISHED,
        *args,
        limit,
    )


def _present_posts(
    viewer: Viewer,
    rows: list[dict[str, Any]],
    thread: dict[str, Any],
    community_id: int,
    summaries: dict[int, dict[str, Any]],
    can_reply: bool,
) -> list[dict[str, Any]]:
    """What a reader sees of each post: the post, or a placeholder that keeps the thread
    readable, with what this reader may do with it. The reader's standing is worked out once
    for the page, not once a post: this runs on every read of a kept page (forum.page_cache)."""
    signed_in = viewer.signed_in
    me = viewer.id if signed_in else None
    moderator = moderates(viewer, community_id)
    suspended = viewer.is_suspended
    blocked = viewer.blocked
    accepted_post = thread["accepted_post"]
    ask_clinician = thread["kind"] == "ask_clinician"
    presented = []
    for post in rows:
        status = post["status"]
        author = post["author"]
        published = status == PUBLISHED
        visible = published or can_view_content(viewer, post, community_id)
        placeholder = None if visible else PLACEHOLDERS.get(status)
        mine = signed_in and author == me
        others = visible and signed_in and not mine
        shown = {
            **post,
            "placeholder": placeholder,
            # Only the author is told which anonymous posts are theirs.
            "mine": mine,
            "can_edit": visible and (mine or (signed_in and moderator)) and status != DELETED,
            "can_delete": visible and mine and status != DELETED,
            # Members flag others' published posts for the moderators (moderation.flags).
            "can_flag": others and published and not suspended,
            # Posts of someone the viewer blocked are collapsed; never one under another name,
            # or blocking would tell who wrote it (forum.blocks).
            "collapsed": visible and author in blocked and not anonymity.masked(post),
            # "Send a message" to someone shown under their own name (forum.messages).
            "can_message": others and bool(post["author_username"]) and author not in blocked,
            "reactions": None if placeholder else summaries.get(post["id"]),
            "accepted": published and post["id"] == accepted_post,
            "pinned": (
                ask_clinician
                and published
                and not post["is_opening"]
                and bool(post["author_credential"])
            ),
            "can_react": can_reply and published and not mine,
        }
        if placeholder:
            shown.update(body="", body_html="", label=None, author_credential=None, experience=None)
        presented.append(shown)
    return presented


async def get_thread(
    viewer: Viewer, thread_id: Any, *, page: int = 1, per_page: int = 50
) -> dict[str, Any]:
    """A thread page: the thread, its community and one page of posts (with the authors'
    experience tags and credentials joined in) and their reactions.

    One query for the thread; the posts and reactions come from this process's memory while
    the thread's page_version and the people version say they have not moved, else two more
    queries (forum.page_cache). Each post is then presented for this viewer."""
    found = (
        await db.read(_THREAD_PAGE, *_thread_page_arguments(viewer.id or 0, thread_id))
        if _valid_thread_id(thread_id)
        else []
    )
    split = _split_page_row(found[0], "") if found else None
    return await _thread_page(viewer, split, page, per_page)


async def get_thread_for_session(
    user_id: Any, epoch: Any, thread_id: Any, *, page: int = 1, per_page: int = 50
) -> tuple[Viewer | None, dict[str, Any] | None]:
    """Who a session is and their thread page, in one round trip instead of two.

    (None, None) when the session was revoked or its account is gone: the caller forgets the
    session and asks get_thread as a visitor. Otherwise as get_thread."""
    if not accounts.valid_session(user_id, epoch) or not _valid_thread_id(thread_id):
        viewer = await accounts.load_viewer(user_id, epoch)
        if viewer is None:
            return None, None
        return viewer, await get_thread(viewer, thread_id, page=page, per_page=per_page)
    rows = await db.read(
        _VIEWER_AND_THREAD_PAGE,
        *accounts.viewer_arguments(user_id),
        *_thread_page_arguments(user_id, thread_id),
    )
    viewer = accounts.viewer_from_rows(rows, epoch)
    if viewer is None:
        return None, None
    first = rows[0]
    split = _split_page_row(first, _PAGE_PREFIX) if first[_PAGE_ID] is not None else None
    return viewer, await _thread_page(viewer, split, page, per_page)


async def _thread_page(
    viewer: Viewer, split: _PageRow | None, page: int, per_page: int
) -> dict[str, Any]:
    """get_thread's work once the thread's row (_THREAD_PAGE_COLUMNS) is read and split, or
    None when there is no such thread."""
    thread, community, mine = split if split else (None, None, {})
    ensure_can_view_thread(viewer, thread, community)
    assert thread is not None and community is not None
    # Held posts are shown only to their author and moderators; the rest keep their place.
    if moderates(viewer, community["id"]):
        audience, where, args = "moderators", "1 = 1", []
    elif viewer.signed_in and mine["my_held"]:
        audience, where, args = (
            viewer.id,
            '(p."status" <> {} OR p."author" = {})',
            [HELD, viewer.id],
        )
    else:
        audience, where, args = "everyone", 'p."status" <> {}', [HELD]
    # Besides the versions: what the rows' order and joins depend on (the community decides
    # which experience tags and names for one community show).
    key = (
        *(thread["id"], thread["created_at"], thread["page_version"], mine["people_version"]),
        *(community["id"], thread["kind"], thread["accepted_post"], audience, page, per_page),
    )
    cached = PAGES.get(key) if mine["people_version"] is not None else None
    if cached is None:
        cached = await _page_rows(thread, community, where, args, page, per_page)
        if mine["people_version"] is not None:
            PAGES.put(key, cached)
    can_reply = _can_reply(viewer, thread, community)
    own = cached.reacted_by.get(viewer.id) if viewer.signed_in else None
    standing = (key, *_standing(viewer, cached, community["id"], can_reply, bool(own)))
    posts = PRESENTED.get(standing)
    if posts is None:
        summaries = cached.summaries
        if own:  # the few posts this reader reacted to, with their own reactions marked
            theirs = [row for row in cached.reaction_rows if row["post"] in own]
            summaries = {**summaries, **reactions.summarize(viewer, list(own), theirs)}
        posts = _present_posts(viewer, cached.rows, thread, community["id"], summaries, can_reply)
        PRESENTED.put(standing, posts)
    return {
        "thread": thread,
        "community": community,
        "posts": Page(posts, page, per_page, cached.total),
        "can_reply": can_reply,
        "can_accept": answers.can_accept(viewer, thread, community["id"]),
        # Names the presentation of `posts` this reader shares with others of their standing
        # (and its rendering, forum.web.post_list); not for the API.
        "presentation": standing,
        "follow_state": mine["follow_state"],
        # How the viewer already wrote here: None (not yet), "" (under their name) or their
        # pseudonym, which their replies keep (forum.anonymity).
        "my_identity": mine["my_identity"],
    }


def _standing(
    viewer: Viewer, page: _PageRows, community_id: int, can_reply: bool, reacted: bool
) -> tuple[Any, ...]:
    """Everything about a reader that _present_posts reads, and nothing more: readers with the
    same standing are shown a page's posts the same way, so they share one presentation.

    A reader is named only when their own posts or reactions are on the page (they see Edit
    and Delete, or their reactions marked); the people they blocked count only where they
    wrote on it."""
    if not viewer.signed_in:
        return ("visitor", can_reply)
    me = viewer.id
    return (
        "member",
        me if reacted or me in page.authors else None,
        moderates(viewer, community_id),
        viewer.is_suspended,
        page.authors & viewer.blocked,
        can_reply,
    )


@dataclass(frozen=True)
class _PageRows:
    """One page of posts as every reader in one audience gets them: what forum.page_cache
    keeps. Shared between requests, so never changed after it is built."""

    rows: list[dict[str, Any]]  # with each author's experience tag presented
    total: int
    reaction_rows: list[dict[str, Any]]
    summaries: dict[int, dict[str, Any]]  # each post's reactions, as a non-reactor sees them
    reacted_by: dict[int, set[int]]  # who reacted to which of these posts
    authors: frozenset[int]  # who wrote these posts


async def _page_rows(
    thread: dict[str, Any],
    community: dict[str, Any],
    where: str,
    args: list[Any],
    page: int,
    per_page: int,
) -> _PageRows:
    """One page of posts for an audience, their total, and the reactions to them."""
    order, order_args = 'p."created_at", p."id"', []
    if thread["kind"] == "ask_clinician":
        # The question, its accepted answer, verified clinicians' answers, then the rest.
        order = (
            'p."is_opening" DESC, CASE WHEN p."id" = {} AND p."status" = {} THEN 0 '
            'WHEN p."author_credential" IS NOT NULL AND p."status" = {} THEN 1 ELSE 2 END, ' + order
        )
        order_args = [thread["accepted_post"] or 0, PUBLISHED, PUBLISHED]
    rows = await db.read(
        f'SELECT {_POST_COLUMNS}, (SELECT COUNT(*) FROM "post" p WHERE p."thread" = {{}} AND {where}) '
        'AS "total" FROM "post" p LEFT JOIN "kindred_user" u ON u."id" = p."author" '
        f"{_TAG_JOIN} "
        f'WHERE p."thread" = {{}} AND {where} ORDER BY {order} LIMIT {{}} OFFSET {{}}',
        thread["id"],
        *args,
        community["id"],
        False,
        False,
        community["id"],
        thread["id"],
        *args,
        *order_args,
        per_page,
        (page - 1) * per_page,
    )
    total = rows[0]["total"] if rows else 0
    if not rows and page > 1:
        total = (
            await db.raw(
                f'SELECT COUNT(*) AS n FROM "post" p WHERE p."thread" = {{}} AND {where}',
                thread["id"],
                *args,
            )
        )[0]["n"]
    for row in rows:
        row["experience"] = experience.from_post_row(row)
    ids = [row["id"] for row in rows]
    reaction_rows = await reactions.rows_for_posts(ids)
    reacted_by: dict[int, set[int]] = {}
    for reaction in reaction_rows:
        reacted_by.setdefault(reaction["user"], set()).add(reaction["post"])
    return _PageRows(
        rows=rows,
        total=total,
        reaction_rows=reaction_rows,
        summaries=reactions.summarize(VISITOR, ids, reaction_rows),
        reacted_by=reacted_by,
        authors=frozenset(row["author"] for row in rows if row["author"] is not None),
    )


def _can_reply(viewer: Viewer, thread: dict[str, Any], community: dict[str, Any]) -> bool:
    try:
        ensure_can_post_in(viewer, community)
    except KindredError:
        return False
    return thread["status"] == PUBLISHED
