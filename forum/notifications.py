"""Notifications: who hears about what, written in the same transaction as the content.

Each rule is one INSERT … SELECT over the people it reaches, so a reply followed by a thousand
people costs a handful of statements, not a thousand. Every rule keeps to the same limits:

- never the author themself, never someone who muted the thread or story, never a deleted or
  banned account, never someone who blocked the actor (forum.blocks; for mentions, either way);
- anonymous content (forum.anonymity) is stored with no actor, so nobody is shown who wrote it;
- never content the recipient may not see: only published content, and in a private community
  only its members (and administrators);
- one notification per person per piece of content (a unique index on person and `subject`),
  the most specific first: a clinician's answer, then a mention, then a reply or a new post.

Listing checks visibility again, so content hidden or removed later, or a private community
left since, never shows. Members who chose immediate e-mail get an outbox row in the same
transaction (forum.mail sends it).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from forum import content, db
from forum.pagination import Page
from forum.permissions import Viewer, ensure_signed_in
from forum.tables import PUBLISHED, Notification

# How an author is shown (forum.anonymity; not imported, which would make a cycle).
ANONYMOUS = "anonymous"
COMMUNITY_NAME = "community"

KINDS = (
    "reply",
    "mention",
    "clinician_answer",
    "new_thread",
    "new_story",
    "comment",
    "reaction",
    "moderation",
    "message",
)
# Kinds worth an e-mail of their own; the rest wait for the digest.
MAILED_AT_ONCE = frozenset(KINDS) - {"reaction"}
DEFAULT_EMAIL_MODE = "daily"

_listeners: list[Callable[[], None]] = []


def listen(callback: Callable[[], None]) -> Callable[[], None]:
    """Call `callback` whenever this process queued an e-mail; returns the way to stop."""
    _listeners.append(callback)

    def stop() -> None:
        if callback in _listeners:
            _listeners.remove(callback)

    return stop


def _wake() -> None:
    for listener in tuple(_listeners):
        with contextlib.suppress(RuntimeError):
            listener()


@dataclass(frozen=True)
class About:
    """What a notification is about: the ids it points at and where it happened."""

    subject: str
    actor_id: int | None
    community_id: int | None = None
    community_private: bool = False
    thread_id: int | None = None
    post_id: int | None = None
    story_id: int | None = None
    comment_id: int | None = None
    # Muting this ("thread", id) or ("story", id) silences the notification.
    mutable: tuple[str, int] | None = None
    # Who really wrote it, when `actor_id` (what recipients are shown) is None because it was
    # written anonymously (forum.anonymity): never notified of their own words.
    author_id: int | None = None
    # A private message's conversation (forum.messages).
    conversation_id: int | None = None


def _not_blocked(about: About, both_ways: bool = False) -> tuple[str, list[Any]]:
    """SQL keeping recipients `u` who didn't block the actor (forum.blocks); for mentions,
    nor were blocked by them. Content under a name for one community (forum.aliases) is
    exempt, or what notified whom would tell a blocker which name is whose; anonymous
    content has no actor to block."""
    actor = about.actor_id
    clause = 'nb."blocker" = u."id" AND nb."blocked" = {}'
    args: list[Any] = [actor]
    if both_ways:
        clause = f'({clause}) OR (nb."blocked" = u."id" AND nb."blocker" = {{}})'
        args.append(actor)
    sql = f'NOT EXISTS (SELECT 1 FROM "member_block" nb WHERE {clause})'
    if about.community_id is not None:
        sql = (
            f'({sql} OR EXISTS (SELECT 1 FROM "community_name" ncn WHERE ncn."user" = {{}} '
            'AND ncn."community" = {}))'
        )
        args += [actor, about.community_id]
    return sql, args


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("{}" for _ in values)


async def _insert(
    kind: str,
    about: About,
    who: str,
    who_args: Sequence[Any],
    now: datetime,
    *,
    both_ways: bool = False,
) -> list[int]:
    """Notify the people `who` selects (SQL over kindred_user u), within the rules above."""
    where = [who, 'u."status" NOT IN ({}, {})']
    args: list[Any] = [*who_args, "deleted", "banned"]
    author = about.author_id if about.author_id is not None else about.actor_id
    if author is not None:
        where.append('u."id" <> {}')
        args.append(author)
    if about.actor_id is not None:
        blocked, blocked_args = _not_blocked(about, both_ways)
        where.append(blocked)
        args += blocked_args
    if about.community_private:
        where.append(
            '(u."role" = {} OR EXISTS (SELECT 1 FROM "membership" m WHERE m."user" = u."id" '
            'AND m."community" = {}))'
        )
        args += ["admin", about.community_id]
    if about.mutable is not None:
        where.append(
            'NOT EXISTS (SELECT 1 FROM "follow" mf WHERE mf."user" = u."id" AND '
            'mf."target_kind" = {} AND mf."target_id" = {} AND mf."muted" = {})'
        )
        args += [*about.mutable, True]
    rows = await db.raw(
        'INSERT INTO "notification" ("user", "kind", "subject", "actor", "community_id", '
        '"thread_id", "post_id", "story_id", "comment_id", "item_id", "message", "created_at", '
        '"conversation_id") '
        "SELECT u.\"id\", {}, {}, {}, {}, {}, {}, {}, {}, NULL, '', {}, {} "
        f'FROM "kindred_user" u WHERE {" AND ".join(where)} '
        'ON CONFLICT ("user", "subject") DO NOTHING RETURNING "id"',
        kind,
        about.subject,
        about.actor_id,
        about.community_id,
        about.thread_id,
        about.post_id,
        about.story_id,
        about.comment_id,
        now,
        about.conversation_id,
        *args,
    )
    return [row["id"] for row in rows]


def _followers(kind: str) -> str:
    return (
        'u."id" IN (SELECT f."user" FROM "follow" f WHERE f."target_kind" = '
        f'\'{kind}\' AND f."target_id" = {{}} AND f."muted" = {{}})'
    )


async def _mentions(about: About, source: str, now: datetime) -> list[int]:
    names = content.mentions(source)
    if not names:
        return []
    return await _insert(
        "mention", about, f'u."username" IN ({_marks(names)})', names, now, both_ways=True
    )


async def _queue_mail(ids: list[int], now: datetime) -> None:
    """E-mail at once those of these notifications whose recipients asked for it."""
    if not ids:
        return
    kinds = sorted(MAILED_AT_ONCE)
    rows = await db.raw(
        'INSERT INTO "mail_outbox" ("key", "user", "kind", "notification", "status", "attempts", '
        '"next_attempt_at", "last_error", "created_at") '
        'SELECT \'n:\' || CAST(n."id" AS VARCHAR(20)), n."user", \'notification\', n."id", '
        "'pending', 0, {}, '', {} "
        'FROM "notification" n JOIN "kindred_user" u ON u."id" = n."user" '
        'LEFT JOIN "email_setting" s ON s."user" = n."user" '
        f'WHERE n."id" IN ({_marks(ids)}) AND n."kind" IN ({_marks(kinds)}) '
        'AND u."email" IS NOT NULL AND u."email" <> {} AND COALESCE(s."mode", {}) = {} '
        'ON CONFLICT ("key") DO NOTHING RETURNING "id"',
        now,
        now,
        *ids,
        *kinds,
        "",
        DEFAULT_EMAIL_MODE,
        "immediate",
    )
    if rows:
        _wake()


def _now() -> datetime:
    return datetime.now(UTC)


def _community(community: dict[str, Any] | None) -> dict[str, Any]:
    if community is None:
        return {"community_id": None, "community_private": False}
    return {
        "community_id": community["id"],
        "community_private": community["visibility"] != "public",
    }


# Threads and replies ---------------------------------------------------------------------------


async def thread_started(
    author_id: int | None,
    thread: dict[str, Any],
    post_id: int,
    community: dict[str, Any],
    body: str,
    *,
    shown_as: str | None = None,
) -> int:
    """A published thread: mentions, then followers of the community and of its author.
    Call inside the thread's transaction. Returns how many people were notified.

    `shown_as` (forum.anonymity): "anonymous" names nobody to the recipients; with it, or a
    name for this community ("community"), the author's own followers are not told, since
    that would connect the post to them."""
    now = _now()
    about = About(
        subject=f"post:{post_id}",
        actor_id=None if shown_as == ANONYMOUS else author_id,
        author_id=author_id,
        thread_id=thread["id"],
        post_id=post_id,
        mutable=("thread", thread["id"]),
        **_community(community),
    )
    ids = await _mentions(about, f"{thread.get('title', '')}\n\n{body}", now)
    ids += await _insert(
        "new_thread", about, _followers("community"), [community["id"], False], now
    )
    if author_id is not None and shown_as is None:
        ids += await _insert("new_thread", about, _followers("member"), [author_id, False], now)
    await _queue_mail(ids, now)
    return len(ids)


async def reply_posted(
    author: Viewer,
    thread: dict[str, Any],
    post_id: int,
    community: dict[str, Any],
    body: str,
    *,
    clinician: bool = False,
    shown_as: str | None = None,
) -> int:
    """A published reply: a clinician's answer to the asker, mentions, then the thread's
    followers (its author and everyone who wrote in it follow it unless they opted out).
    `clinician`: the replier is a verified clinician (forum.clinicians). `shown_as`: as for
    thread_started; an anonymous reply never counts as a clinician's answer."""
    now = _now()
    anonymous = shown_as == ANONYMOUS
    about = About(
        subject=f"post:{post_id}",
        actor_id=None if anonymous else author.id,
        author_id=author.id,
        thread_id=thread["id"],
        post_id=post_id,
        mutable=("thread", thread["id"]),
        **_community(community),
    )
    ids: list[int] = []
    if (
        thread.get("kind") == "ask_clinician"
        and not anonymous
        and (clinician or author.role == "clinician")
        and thread.get("author") is not None
    ):
        ids += await _insert("clinician_answer", about, 'u."id" = {}', [thread["author"]], now)
    ids += await _mentions(about, body, now)
    ids += await _insert("reply", about, _followers("thread"), [thread["id"], False], now)
    await _queue_mail(ids, now)
    return len(ids)


# Stories and comments -------------------------------------------------------------------------


async def story_published(story: dict[str, Any], community: dict[str, Any] | None) -> int:
    """A story went up (or was approved): mentions, then followers of its community, of its
    author's blog and of its author."""
    now = _now()
    author_id = story["author"]
    about = About(
        subject=f"story:{story['id']}",
        actor_id=author_id,
        story_id=story["id"],
        mutable=("story", story["id"]),
        **_community(community),
    )
    ids = await _mentions(about, f"{story['title']}\n\n{story['body']}", now)
    if community is not None:
        ids += await _insert(
            "new_story", about, _followers("community"), [community["id"], False], now
        )
    named_here = community is not None and bool(
        await db.raw(
            'SELECT 1 AS "x" FROM "community_name" WHERE "user" = {} AND "community" = {}',
            author_id,
            community["id"],
        )
    )
    # Under a name for its community (forum.aliases), the author's own followers aren't told.
    if author_id is not None and not named_here:
        ids += await _insert("new_story", about, _followers("blog"), [author_id, False], now)
        ids += await _insert("new_story", about, _followers("member"), [author_id, False], now)
    await _queue_mail(ids, now)
    return len(ids)


async def comment_posted(
    author_id: int | None,
    story: dict[str, Any],
    comment_id: int,
    community: dict[str, Any] | None,
    body: str,
) -> int:
    """A published comment: mentions, then the story's followers (its author among them)."""
    now = _now()
    about = About(
        subject=f"comment:{comment_id}",
        actor_id=author_id,
        story_id=story["id"],
        comment_id=comment_id,
        mutable=("story", story["id"]),
        **_community(community),
    )
    ids = await _mentions(about, body, now)
    ids += await _insert("comment", about, _followers("story"), [story["id"], False], now)
    await _queue_mail(ids, now)
    return len(ids)


# Reactions and moderation ---------------------------------------------------------------------


async def notify_reaction(reactor: Viewer, post_id: int, kind: str = "") -> int:
    """Someone reacted to a post: its author hears, once per person and post, if they may
    still see it. forum.reactions calls this inside the reaction's transaction."""
    rows = await db.raw(
        'SELECT p."id", p."author", p."status", t."id" AS "thread_id", t."status" AS "thread_status", '
        'c."id" AS "community_id", c."visibility" FROM "post" p JOIN "thread" t ON t."id" = p."thread" '
        'JOIN "community" c ON c."id" = t."community" WHERE p."id" = {}',
        post_id,
    )
    if not rows or reactor.id is None:
        return 0
    row = rows[0]
    if row["author"] is None or row["status"] != PUBLISHED or row["thread_status"] != PUBLISHED:
        return 0
    now = _now()
    about = About(
        subject=f"reaction:{post_id}:{reactor.id}",
        actor_id=reactor.id,
        thread_id=row["thread_id"],
        post_id=post_id,
        mutable=("thread", row["thread_id"]),
        community_id=row["community_id"],
        community_private=row["visibility"] != "public",
    )
    del kind  # one notification per person and post, whichever reaction it was
    ids = await _insert("reaction", about, 'u."id" = {}', [row["author"]], now)
    await _queue_mail(ids, now)
    return len(ids)


async def message_sent(sender_id: int | None, conversation_id: int, message_id: int) -> int:
    """A delivered private message (forum.messages): everyone else still in the conversation
    who hasn't muted it or blocked the sender, and hasn't an unread notification about it
    already (one until they read it, not one per message). The text never leaves the site:
    the notification, and any e-mail, only say who wrote."""
    now = _now()
    about = About(
        subject=f"message:{message_id}", actor_id=sender_id, conversation_id=conversation_id
    )
    who = (
        'u."id" IN (SELECT cm."user" FROM "conversation_member" cm WHERE cm."conversation" = {} '
        'AND cm."left_at" IS NULL AND cm."muted" = {}) AND NOT EXISTS (SELECT 1 FROM '
        '"notification" pn WHERE pn."user" = u."id" AND pn."conversation_id" = {} '
        'AND pn."read_at" IS NULL)'
    )
    ids = await _insert("message", about, who, [conversation_id, False, conversation_id], now)
    await _queue_mail(ids, now)
    return len(ids)


async def notify_moderation(
    user_id: int | None, message: str, *, notice_id: int, item_id: int | None = None
) -> None:
    """A moderation outcome for its author (moderation.notices calls this): the message goes
    to the bell and, for those who asked, by e-mail; the appeal stays on /notices."""
    if user_id is None:
        return
    now = _now()
    rows = await db.raw(
        'INSERT INTO "notification" ("user", "kind", "subject", "actor", "item_id", "message", '
        '"created_at") VALUES ({}, {}, {}, NULL, {}, {}, {}) '
        'ON CONFLICT ("user", "subject") DO NOTHING RETURNING "id"',
        user_id,
        "moderation",
        f"notice:{notice_id}",
        item_id,
        message,
        now,
    )
    await _queue_mail([row["id"] for row in rows], now)


async def content_published(kind: str, object_id: int) -> int:
    """Held content a moderator approved: tell the people it would have reached when posted.
    `kind` is a moderation kind: thread, post, story or comment."""
    if kind in ("thread", "post"):
        rows = await db.raw(
            'SELECT p."id" AS "post_id", p."author", p."body", p."is_opening", t."id", t."title", '
            't."kind", t."author" AS "thread_author", t."status", c."id" AS "community_id", '
            'c."visibility", p."anonymous", EXISTS (SELECT 1 FROM "community_name" cn '
            'WHERE cn."user" = p."author" AND cn."community" = c."id") AS "named_here" '
            'FROM "post" p JOIN "thread" t ON t."id" = p."thread" '
            'JOIN "community" c ON c."id" = t."community" WHERE '
            + ('t."id" = {} AND p."is_opening" = {}' if kind == "thread" else 'p."id" = {}'),
            *([object_id, True] if kind == "thread" else [object_id]),
        )
        if not rows or rows[0]["status"] != PUBLISHED:
            return 0
        row = rows[0]
        community = {"id": row["community_id"], "visibility": row["visibility"]}
        thread = {
            "id": row["id"],
            "title": row["title"],
            "kind": row["kind"],
            "author": row["thread_author"],
        }
        shown_as = ANONYMOUS if row["anonymous"] else COMMUNITY_NAME if row["named_here"] else None
        if row["is_opening"]:
            return await thread_started(
                row["author"], thread, row["post_id"], community, row["body"], shown_as=shown_as
            )
        author = await _author_viewer(row["author"])
        return await reply_posted(
            author, thread, row["post_id"], community, row["body"], shown_as=shown_as
        )
    if kind == "message":
        from forum import messages

        return await messages.delivered(object_id)
    if kind in ("story", "comment"):
        from forum import stories

        story_id = object_id
        if kind == "comment":
            comment = await db.raw(
                'SELECT "story", "author", "body", "status" FROM "story_comment" WHERE "id" = {}',
                object_id,
            )
            if not comment or comment[0]["status"] != PUBLISHED:
                return 0
            story_id = comment[0]["story"]
        story, community = await stories.load(story_id)
        if story is None or story["status"] != PUBLISHED:
            return 0
        if kind == "story":
            return await story_published(story, community)
        return await comment_posted(
            comment[0]["author"], story, object_id, community, comment[0]["body"]
        )
    return 0


async def _author_viewer(user_id: int | None) -> Viewer:
    if user_id is None:
        return Viewer()
    rows = await db.raw(
        'SELECT "id", "username", "role" FROM "kindred_user" WHERE "id" = {}', user_id
    )
    if not rows:
        return Viewer()
    return Viewer(id=rows[0]["id"], username=rows[0]["username"], role=rows[0]["role"])


async def forget(kind: str, object_id: int) -> None:
    """Content went away (deleted, withdrawn, hidden or removed): unread notifications about
    it go too, and with them any e-mail not yet sent (the outbox row cascades)."""
    if kind == "message":  # forum.messages: by its subject, as it has no column of its own
        await db.raw(
            'DELETE FROM "notification" WHERE "subject" = {} AND "read_at" IS NULL',
            f"message:{object_id}",
        )
        return
    column = {
        "thread": "thread_id",
        "post": "post_id",
        "story": "story_id",
        "comment": "comment_id",
    }[kind]
    await db.raw(
        f'DELETE FROM "notification" WHERE "{column}" = {{}} AND "read_at" IS NULL',
        object_id,
    )


# Reading --------------------------------------------------------------------------------------

_LIST_COLUMNS = (
    'n."id", n."kind", n."subject", n."message", n."created_at", n."read_at", n."item_id", '
    'n."thread_id", n."post_id", n."story_id", n."comment_id", n."conversation_id", '
    # Who did it, as the recipient may know them: the name they use in that community, if
    # any, with no username to find their profile by (forum.aliases); for anonymous content,
    # stored without an actor, the post's pseudonym (forum.anonymity).
    'CASE WHEN acn."display_name" IS NOT NULL THEN NULL ELSE a."username" END AS "actor_username", '
    'COALESCE(acn."display_name", a."display_name", '
    'CASE WHEN n."actor" IS NULL AND p."anonymous" THEN p."pseudonym" END) AS "actor_display_name", '
    't."title" AS "thread_title", s."title" AS "story_title", c."slug" AS "community_slug", '
    'c."name" AS "community_name"'
)
_LIST_JOINS = (
    'FROM "notification" n LEFT JOIN "kindred_user" a ON a."id" = n."actor" '
    'LEFT JOIN "community_name" acn ON acn."user" = n."actor" '
    'AND acn."community" = n."community_id" '
    'LEFT JOIN "thread" t ON t."id" = n."thread_id" LEFT JOIN "post" p ON p."id" = n."post_id" '
    'LEFT JOIN "story" s ON s."id" = n."story_id" '
    'LEFT JOIN "story_comment" sc ON sc."id" = n."comment_id" '
    'LEFT JOIN "community" c ON c."id" = n."community_id"'
)


def visible_clause(user_id: int, member_of: Sequence[int], is_admin: bool) -> tuple[str, list[Any]]:
    """SQL (over the joins above) keeping the notifications this person may see now."""
    where = (
        'n."user" = {} AND (n."thread_id" IS NULL OR t."status" = {}) '
        'AND (n."post_id" IS NULL OR p."status" = {}) '
        'AND (n."story_id" IS NULL OR s."status" = {}) '
        'AND (n."comment_id" IS NULL OR sc."status" = {}) '
        # A conversation's notifications only while the person is still in it.
        'AND (n."conversation_id" IS NULL OR EXISTS (SELECT 1 FROM "conversation_member" ncm '
        'WHERE ncm."conversation" = n."conversation_id" AND ncm."user" = n."user" '
        'AND ncm."left_at" IS NULL)) '
        # Nothing from someone they blocked since (forum.blocks), but see _not_blocked.
        'AND (n."actor" IS NULL OR acn."display_name" IS NOT NULL OR NOT EXISTS '
        '(SELECT 1 FROM "member_block" nb WHERE nb."blocker" = n."user" '
        'AND nb."blocked" = n."actor"))'
    )
    args: list[Any] = [user_id, PUBLISHED, PUBLISHED, PUBLISHED, PUBLISHED]
    if not is_admin:
        ids = sorted(member_of)
        community = 'n."community_id" IS NULL OR c."visibility" = {}'
        args.append("public")
        if ids:
            community += f' OR n."community_id" IN ({_marks(ids)})'
            args += ids
        where += f" AND ({community})"
    return where, args


def describe(row: dict[str, Any]) -> tuple[str, str]:
    """What a notification says, and where it leads (a path on the site)."""
    who = row.get("actor_display_name") or "Someone"
    thread = row.get("thread_title") or "a conversation"
    story = row.get("story_title") or "a story"
    post_url = f"/t/{row.get('thread_id')}#post-{row.get('post_id')}"
    kind = row["kind"]
    if kind == "clinician_answer":
        return f"A clinician, {who}, answered your question “{thread}”", post_url
    if kind == "reply":
        return f"{who} replied in “{thread}”", post_url
    if kind == "new_thread":
        where = f" in {row['community_name']}" if row.get("community_name") else ""
        return f"{who} started a conversation{where}: “{thread}”", f"/t/{row.get('thread_id')}"
    if kind == "reaction":
        return f"{who} reacted to your post in “{thread}”", post_url
    if kind == "new_story":
        return f"{who} shared a story: “{story}”", f"/s/{row.get('story_id')}"
    if kind == "comment":
        return (
            f"{who} commented on “{story}”",
            f"/s/{row.get('story_id')}#comment-{row.get('comment_id')}",
        )
    if kind == "mention":
        if row.get("comment_id"):
            url = f"/s/{row.get('story_id')}#comment-{row.get('comment_id')}"
            return f"{who} mentioned you in a comment on “{story}”", url
        if row.get("story_id"):
            return f"{who} mentioned you in the story “{story}”", f"/s/{row.get('story_id')}"
        return f"{who} mentioned you in “{thread}”", post_url
    if kind == "message":
        return f"{who} sent you a private message", f"/messages/{row.get('conversation_id')}"
    if kind == "moderation":
        return row.get("message") or "A message from the moderators", "/notices"
    return "Something new for you", "/notifications"


def _present(row: dict[str, Any]) -> dict[str, Any]:
    text, url = describe(row)
    return {**row, "text": text, "url": url, "unread": row["read_at"] is None}


async def list_notifications(
    viewer: Viewer, *, page: int = 1, per_page: int = 30, unread_only: bool = False
) -> Page[dict[str, Any]]:
    """The viewer's notifications they may still see, newest first."""
    ensure_signed_in(viewer)
    assert viewer.id is not None
    where, args = visible_clause(
        viewer.id, sorted(viewer.member_of | viewer.moderates), viewer.is_admin
    )
    if unread_only:
        where += ' AND n."read_at" IS NULL'
    total = await db.raw(f"SELECT COUNT(*) AS n {_LIST_JOINS} WHERE {where}", *args)
    rows = await db.raw(
        f"SELECT {_LIST_COLUMNS} {_LIST_JOINS} WHERE {where} "
        'ORDER BY n."created_at" DESC, n."id" DESC LIMIT {} OFFSET {}',
        *args,
        per_page,
        (page - 1) * per_page,
    )
    return Page([_present(row) for row in rows], page, per_page, total[0]["n"])


async def unread_count(viewer: Viewer) -> int:
    """The bell's number (pages get it from the viewer query instead)."""
    ensure_signed_in(viewer)
    return await Notification.count().where(
        (Notification.user == viewer.id) & Notification.read_at.is_null()
    )


async def mark_read(viewer: Viewer, ids: Sequence[int] | None = None) -> int:
    """Mark these notifications (all, when None) as read; how many changed. Marking all also
    marks the moderators' messages read, since the bell showed them."""
    ensure_signed_in(viewer)
    now = _now()
    query = Notification.update({Notification.read_at: now}).where(
        (Notification.user == viewer.id) & Notification.read_at.is_null()
    )
    if ids is not None:
        # Ids past the column's range name nothing (and would overflow the database's integer).
        wanted = [
            i for i in ids if isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**31
        ][:500]
        if not wanted:
            return 0
        query = query.where(Notification.id.is_in(wanted))
    rows = await query.returning(Notification.id)
    if ids is None:
        from moderation import notices

        await notices.mark_all_read(viewer)
    return len(rows)


async def open_notification(viewer: Viewer, notification_id: Any) -> str:
    """Mark one notification read and give the path it leads to (the reply's page included)."""
    ensure_signed_in(viewer)
    assert viewer.id is not None
    if not isinstance(notification_id, int) or not 0 < notification_id < 2**31:
        return "/notifications"
    where, args = visible_clause(
        viewer.id, sorted(viewer.member_of | viewer.moderates), viewer.is_admin
    )
    rows = await db.raw(
        f'SELECT {_LIST_COLUMNS} {_LIST_JOINS} WHERE {where} AND n."id" = {{}}',
        *args,
        notification_id,
    )
    if not rows:
        return "/notifications"
    await mark_read(viewer, [notification_id])
    _, url = describe(rows[0])
    if rows[0].get("post_id") and rows[0].get("thread_id"):
        url = await _post_url(rows[0]["thread_id"], rows[0]["post_id"])
    return url


async def _post_url(thread_id: int, post_id: int, per_page: int = 50) -> str:
    """The page of the thread a post is on, as readers page it."""
    rows = await db.raw(
        'SELECT COUNT(*) AS n FROM "post" p, "post" q WHERE q."id" = {} AND p."thread" = {} '
        'AND p."status" <> {} AND (p."created_at" < q."created_at" OR '
        '(p."created_at" = q."created_at" AND p."id" <= q."id"))',
        post_id,
        thread_id,
        "held",
    )
    position = max(1, int(rows[0]["n"]))
    page = -(-position // per_page)
    return f"/t/{thread_id}?page={page}#post-{post_id}"
