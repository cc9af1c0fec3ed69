"""The content moderation acts on, by kind and id: reading it and changing its status or text.

"thread" means a thread and its opening post together; "post" a reply; "story" a story and
"comment" a comment under one (for those, `post` is the story or comment itself and `thread`
the story, and a story outside any community has a community of id None: site-wide). Every
change refreshes derived counts and writes a search outbox row in the caller's transaction, as
the forum's own writes do, and keeps notifications in step: approved content reaches the
people it would have reached when posted, and content taken down stops notifying.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from forum import content, db, notifications
from forum.errors import NotFound
from forum.tables import (
    HELD,
    PUBLISHED,
    Post,
    PostRevision,
    PrivateMessage,
    Story,
    StoryComment,
    StoryRevision,
    Thread,
)
from search import outbox

KINDS = ("thread", "post", "story", "comment", "message")
STORY_KINDS = ("story", "comment")
# A private message (forum.messages): `post` is the message, `thread` its conversation, and
# it belongs to no community (a site-wide item). Moderators see it only on its item's page.
MESSAGE = "message"


@dataclass(frozen=True)
class Target:
    """A piece of content with its thread and community."""

    kind: str
    object_id: int
    post: dict[str, Any]
    thread: dict[str, Any]
    community: dict[str, Any]

    @property
    def status(self) -> str:
        return self.thread["status"] if self.kind == "thread" else self.post["status"]

    @property
    def author_id(self) -> int | None:
        return self.post["author"]

    @property
    def community_id(self) -> int:
        return self.community["id"]

    @property
    def post_id(self) -> int | None:
        """The forum post behind this content, for review items (none for stories)."""
        return None if self.kind in (*STORY_KINDS, MESSAGE) else self.post["id"]

    @property
    def thread_id(self) -> int | None:
        return None if self.kind in (*STORY_KINDS, MESSAGE) else self.thread["id"]

    @property
    def story_id(self) -> int | None:
        return self.thread["id"] if self.kind in STORY_KINDS else None

    def summary(self) -> dict[str, Any]:
        """What the audit log keeps of the content's state."""
        return {"status": self.status, "label": self.post.get("label")}


def _valid_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


async def _thread_and_community(thread_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    row = (
        await Thread.select(*Thread.all_columns(), *Thread.community.all_columns())
        .where(Thread.id == thread_id)
        .first()
    )
    if row is None:
        raise NotFound("We couldn't find that post.")
    community = {
        key.removeprefix("community."): value
        for key, value in row.items()
        if key.startswith("community.")
    }
    thread = {key: value for key, value in row.items() if not key.startswith("community.")}
    return thread, community


async def load_post(post_id: Any) -> Target:
    """The content a post stands for: its thread if it opens one, else the reply itself."""
    if not _valid_id(post_id):
        raise NotFound("We couldn't find that post.")
    post = await Post.select().where(Post.id == post_id).first()
    if post is None:
        raise NotFound("We couldn't find that post.")
    thread, community = await _thread_and_community(post["thread"])
    if post["is_opening"]:
        return Target("thread", thread["id"], post, thread, community)
    return Target("post", post["id"], post, thread, community)


async def load_thread(thread_id: Any) -> Target:
    if not _valid_id(thread_id):
        raise NotFound("We couldn't find that conversation.")
    post = (
        await Post.select()
        .where((Post.thread == thread_id) & (Post.is_opening == True))  # noqa: E712
        .first()
    )
    if post is None:
        raise NotFound("We couldn't find that conversation.")
    thread, community = await _thread_and_community(thread_id)
    return Target("thread", thread_id, post, thread, community)


async def _story_and_community(story_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    story = await Story.select().where(Story.id == story_id).first()
    if story is None:
        raise NotFound("We couldn't find that story.")
    community: dict[str, Any] = {"id": None, "visibility": "public", "slug": None}
    if story["community"] is not None:
        rows = await db.raw('SELECT * FROM "community" WHERE "id" = {}', story["community"])
        if rows:
            community = rows[0]
    return story, community


async def load_story(story_id: Any) -> Target:
    if not _valid_id(story_id):
        raise NotFound("We couldn't find that story.")
    story, community = await _story_and_community(story_id)
    return Target("story", story_id, story, story, community)


async def load_comment(comment_id: Any) -> Target:
    if not _valid_id(comment_id):
        raise NotFound("We couldn't find that comment.")
    comment = await StoryComment.select().where(StoryComment.id == comment_id).first()
    if comment is None:
        raise NotFound("We couldn't find that comment.")
    story, community = await _story_and_community(comment["story"])
    return Target("comment", comment_id, comment, story, community)


async def load(kind: str, object_id: int) -> Target:
    if kind == "thread":
        return await load_thread(object_id)
    if kind == "post":
        return await load_post(object_id)
    if kind == "story":
        return await load_story(object_id)
    if kind == "comment":
        return await load_comment(object_id)
    if kind == MESSAGE:
        return await load_message(object_id)
    raise NotFound("We couldn't find that content.")


async def load_message(message_id: Any) -> Target:
    if not _valid_id(message_id):
        raise NotFound("We couldn't find that message.")
    message = await PrivateMessage.select().where(PrivateMessage.id == message_id).first()
    if message is None:
        raise NotFound("We couldn't find that message.")
    message["author"] = message["sender"]
    conversation = {"id": message["conversation"], "status": PUBLISHED}
    community = {"id": None, "visibility": "private", "slug": None}
    return Target(MESSAGE, message_id, message, conversation, community)


async def _set_message_status(target: Target, status: str) -> None:
    await PrivateMessage.update({PrivateMessage.status: status}).where(
        PrivateMessage.id == target.object_id
    )


async def _set_story_status(target: Target, status: str, clear_label: bool) -> None:
    table: Any = Story if target.kind == "story" else StoryComment
    changes: dict[Any, Any] = {table.status: status}
    if clear_label:
        changes[table.label] = None
    if target.kind == "story" and status == PUBLISHED and target.post.get("published_at") is None:
        changes[Story.published_at] = datetime.now(UTC)
    await table.update(changes).where(table.id == target.object_id)
    story_id = target.thread["id"]
    if target.kind == "comment":
        await db.raw(
            'UPDATE "story" SET "comment_count" = (SELECT COUNT(*) FROM "story_comment" sc '
            'WHERE sc."story" = {} AND sc."status" = {}) WHERE "id" = {}',
            story_id,
            PUBLISHED,
            story_id,
        )
    await outbox.enqueue("story", story_id)


async def set_status(target: Target, status: str, *, clear_label: bool = False) -> None:
    """Change the status of the content (a thread and its opening post move together)."""
    await _set_status(target, status, clear_label=clear_label)
    if target.status == HELD and status == PUBLISHED:
        await notifications.content_published(target.kind, target.object_id)
    elif target.status == PUBLISHED and status != PUBLISHED:
        await notifications.forget(target.kind, target.object_id)


async def _set_status(target: Target, status: str, *, clear_label: bool) -> None:
    if target.kind == MESSAGE:
        await _set_message_status(target, status)
        return
    if target.kind in STORY_KINDS:
        await _set_story_status(target, status, clear_label)
        return
    changes: dict[Any, Any] = {Post.status: status}
    if clear_label:
        changes[Post.label] = None
    if target.kind == "thread":
        await Thread.update({Thread.status: status}).where(Thread.id == target.thread["id"])
        if target.post["status"] == "deleted":
            changes.pop(Post.status)
        if changes:
            await Post.update(changes).where(Post.id == target.post["id"])
    else:
        await Post.update(changes).where(Post.id == target.post["id"])
        await db.refresh_reply_count(target.thread["id"])
    await outbox.enqueue("thread", target.thread["id"])


async def replace_body(target: Target, body: str, editor_id: int | None) -> dict[str, Any]:
    """A moderator's edit: the earlier version is kept as a revision, as for authors' edits
    (a comment's earlier text is kept by the audit log's "before")."""
    rendered = content.render(body)
    now = datetime.now(UTC)
    post = target.post
    if target.kind in STORY_KINDS:
        await _replace_story_body(target, body, rendered, editor_id, now)
        return {"body": body, "body_html": rendered.html}
    await PostRevision.insert(
        PostRevision(
            post=post["id"],
            body=post["body"],
            body_html=post["body_html"],
            policy_version=post["policy_version"],
            edited_by=editor_id,
            created_at=now,
        )
    )
    await Post.update(
        {
            Post.body: body,
            Post.body_html: rendered.html,
            Post.policy_version: rendered.policy_version,
            Post.edited_at: now,
        }
    ).where(Post.id == post["id"])
    await outbox.enqueue("thread", target.thread["id"])
    return {"body": body, "body_html": rendered.html}


async def _replace_story_body(
    target: Target, body: str, rendered: content.Rendered, editor_id: int | None, now: datetime
) -> None:
    item = target.post
    if target.kind == "story":
        await StoryRevision.insert(
            StoryRevision(
                story=item["id"],
                title=item["title"],
                summary=item["summary"],
                body=item["body"],
                body_html=item["body_html"],
                policy_version=item["policy_version"],
                content_warnings=item["content_warnings"],
                edited_by=editor_id,
                created_at=now,
            )
        )
        await Story.update(
            {
                Story.body: body,
                Story.body_html: rendered.html,
                Story.policy_version: rendered.policy_version,
                Story.edited_at: now,
                Story.updated_at: now,
            }
        ).where(Story.id == item["id"])
    else:
        await StoryComment.update(
            {
                StoryComment.body: body,
                StoryComment.body_html: rendered.html,
                StoryComment.policy_version: rendered.policy_version,
                StoryComment.edited_at: now,
            }
        ).where(StoryComment.id == item["id"])
    await outbox.enqueue("story", target.thread["id"])


def is_published(target: Target) -> bool:
    return target.status == PUBLISHED
