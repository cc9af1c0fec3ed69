"""The content moderation acts on, by kind and id: reading it and changing its status or text.

"thread" means a thread and its opening post together; "post" a reply. Stories and comments
will add their kinds here. Every change refreshes derived counts and writes a search outbox row
in the caller's transaction, as the forum's own writes do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from forum import content, db
from forum.errors import NotFound
from forum.tables import PUBLISHED, Post, PostRevision, Thread
from search import outbox

KINDS = ("thread", "post")


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


async def load(kind: str, object_id: int) -> Target:
    if kind == "thread":
        return await load_thread(object_id)
    if kind == "post":
        return await load_post(object_id)
    raise NotFound("We couldn't find that content.")


async def set_status(target: Target, status: str, *, clear_label: bool = False) -> None:
    """Change the status of the content (a thread and its opening post move together)."""
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
    """A moderator's edit: the earlier version is kept as a revision, as for authors' edits."""
    rendered = content.render(body)
    now = datetime.now(UTC)
    post = target.post
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


def is_published(target: Target) -> bool:
    return target.status == PUBLISHED
