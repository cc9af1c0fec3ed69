"""Expert-answered threads: the accepted answer, and the unanswered list for clinicians.

In an "ask a clinician" thread the asker (or a moderator of the community) marks one published
reply as the accepted answer; the thread page shows it first under the question, then the
verified clinicians' answers. A thread is "expert answered" while it has a published reply from
a verified clinician (forum.db.refresh_reply_count keeps that flag). The questions still
waiting for one are listed for clinicians by the specialties they declared, oldest first.
"""

from __future__ import annotations

from typing import Any

from forum import anonymity, clinicians, db
from forum.communities import _visible_clause
from forum.errors import Conflict, Forbidden, NotFound
from forum.pagination import Page
from forum.permissions import Viewer, ensure_active, ensure_can_view_thread, moderates
from forum.tables import PUBLISHED, Community, Post, Thread

ASK = "ask_clinician"


async def _thread(viewer: Viewer, thread_id: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(thread_id, int) or isinstance(thread_id, bool) or not 0 < thread_id < 2**31:
        raise NotFound("We couldn't find that conversation.")
    thread = await Thread.select().where(Thread.id == thread_id).first()
    community = (
        await Community.select().where(Community.id == thread["community"]).first()
        if thread
        else None
    )
    ensure_can_view_thread(viewer, thread, community)
    assert thread is not None and community is not None
    return thread, community


def can_accept(viewer: Viewer, thread: dict[str, Any], community_id: int) -> bool:
    """The asker and the community's moderators choose the accepted answer of a question."""
    return (
        viewer.signed_in
        and not viewer.is_suspended
        and thread["kind"] == ASK
        and thread["status"] == PUBLISHED
        and (thread["author"] == viewer.id or moderates(viewer, community_id))
    )


async def _ensure_may_accept(viewer: Viewer, thread_id: Any) -> dict[str, Any]:
    ensure_active(viewer)
    thread, community = await _thread(viewer, thread_id)
    if thread["kind"] != ASK:
        raise Conflict("Only “ask a clinician” questions have an accepted answer.")
    if not can_accept(viewer, thread, community["id"]):
        raise Forbidden("Only the person who asked, or a moderator, can choose the answer.")
    return thread


async def accept_answer(viewer: Viewer, thread_id: Any, post_id: Any) -> dict[str, Any]:
    """Mark a published reply of this question as its accepted answer (replacing any other)."""
    thread = await _ensure_may_accept(viewer, thread_id)
    if not isinstance(post_id, int) or isinstance(post_id, bool) or not 0 < post_id < 2**31:
        raise NotFound("We couldn't find that reply.")
    post = (
        await Post.select(Post.id, Post.thread, Post.is_opening, Post.status)
        .where(Post.id == post_id)
        .first()
    )
    if post is None or post["thread"] != thread["id"] or post["is_opening"]:
        raise NotFound("We couldn't find that reply in this conversation.")
    if post["status"] != PUBLISHED:
        raise Conflict("Only a published reply can be the accepted answer.")
    await Thread.update({Thread.accepted_post: post["id"]}).where(Thread.id == thread["id"])
    return {"thread": thread["id"], "accepted_post": post["id"]}


async def clear_accepted_answer(viewer: Viewer, thread_id: Any) -> dict[str, Any]:
    """The asker (or a moderator) takes the accepted mark off."""
    thread = await _ensure_may_accept(viewer, thread_id)
    await Thread.update({Thread.accepted_post: None}).where(Thread.id == thread["id"])
    return {"thread": thread["id"], "accepted_post": None}


async def unanswered(
    viewer: Viewer, *, specialty: Any = None, page: int = 1, per_page: int = 20
) -> tuple[list[str], Page[dict[str, Any]]]:
    """Published "ask a clinician" questions no verified clinician has answered yet, in
    communities the viewer may see, oldest first: for a clinician, those asked of their
    specialties or of none in particular; `specialty` narrows to one. Moderators and admins
    may look too (all specialties). Returns the specialties used and the page."""
    ensure_active(viewer)
    verification = await clinicians.current_verification(viewer.id)
    if verification is None and not (viewer.is_admin or viewer.moderates):
        raise Forbidden(
            "This list is for verified clinicians. You can apply to be verified in your settings."
        )
    mine = clinicians.specialties_of(verification) if verification else []
    where, args = _visible_clause(viewer)
    where = f't."kind" = {{}} AND t."status" = {{}} AND t."expert_answered" = {{}} AND {where}'
    args = [ASK, PUBLISHED, False, *args]
    if specialty in clinicians.SPECIALTY_KEYS:
        where += ' AND t."specialty" = {}'
        args.append(specialty)
        used = [str(specialty)]
    elif mine:
        marks = ", ".join("{}" for _ in mine)
        where += f' AND (t."specialty" IN ({marks}) OR t."specialty" IS NULL)'
        args += mine
        used = mine
    else:
        used = []
    total = await db.raw(
        'SELECT COUNT(*) AS "n" FROM "thread" t JOIN "community" c ON c."id" = t."community" '
        f"WHERE {where}",
        *args,
    )
    rows = await db.raw(
        'SELECT t."id", t."title", t."specialty", t."reply_count", t."created_at", '
        'c."slug" AS "community_slug", c."name" AS "community_name", '
        # Never who asked anonymously; the name they use there, if any (forum.anonymity).
        + anonymity.author_columns('t."anonymous"', anonymity.quoted(anonymity.ANONYMOUS_STARTER))
        + ' FROM "thread" t '
        'JOIN "community" c ON c."id" = t."community" '
        'LEFT JOIN "kindred_user" u ON u."id" = t."author" '
        + anonymity.name_join('t."author"', 't."community"')
        + " "
        f'WHERE {where} ORDER BY t."created_at", t."id" LIMIT {{}} OFFSET {{}}',
        *args,
        per_page,
        (page - 1) * per_page,
    )
    for row in rows:
        row["specialty_name"] = clinicians.SPECIALTY_NAMES.get(row["specialty"] or "", "")
    return used, Page(rows, page, per_page, total[0]["n"])
