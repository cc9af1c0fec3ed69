"""Only what the searcher may see: never held, hidden, removed or deleted content, never a
private community's content to non-members; checked in the index and again in the database."""

from __future__ import annotations

from forum import communities, db, threads
from forum.tables import DELETED, HELD, HIDDEN, PUBLISHED, REMOVED, Post, Thread
from search import outbox
from tests.conftest import viewer_of
from tests.search.conftest import found_ids


async def _set_post_status(post_id: int, thread_id: int, status: str) -> None:
    """What a moderation decision does: the status change and its outbox row, together."""
    async with db.transaction():
        await Post.update({Post.status: status}).where(Post.id == post_id)
        await outbox.enqueue("thread", thread_id)


async def _set_thread_status(thread_id: int, status: str) -> None:
    async with db.transaction():
        await Thread.update({Thread.status: status}).where(Thread.id == thread_id)
        await outbox.enqueue("thread", thread_id)


async def test_a_published_thread_and_its_replies_are_found_by_everyone(
    member, other_member, community, thread_factory, reply_factory, drain, find
):
    thread = await thread_factory(community=community, author=member, title="Travel with celiac")
    await reply_factory(thread=thread, author=other_member, body="Carry a **restaurant card**.")
    await drain()
    assert await found_ids(find, None, "restaurant card") == [thread["id"]]
    page = await find(other_member, "travel")
    [item] = page.items
    assert item.title == "Travel with celiac" and item.url == f"/t/{thread['id']}"
    assert item.community == "celiac" and item.community_name == "Celiac disease"


async def test_held_hidden_removed_and_deleted_posts_leave_the_threads_text(
    settings, member, other_member, community, thread_factory, reply_factory, drain, find
):
    thread = await thread_factory(community=community, author=member, title="Managing fatigue")
    words = {HELD: "zinc", HIDDEN: "ginseng", REMOVED: "turmeric", DELETED: "melatonin"}
    for status, word in words.items():
        reply = await reply_factory(thread=thread, author=other_member, body=f"I tried {word}.")
        await _set_post_status(reply["id"], thread["id"], status)
    await drain()
    assert await found_ids(find, None, "fatigue") == [thread["id"]]
    for word in words.values():
        assert await found_ids(find, None, word) == []
        assert await found_ids(find, other_member, word) == []


async def test_a_thread_that_is_no_longer_published_leaves_the_index(
    member, community, thread_factory, drain, find, index
):
    kept = await thread_factory(community=community, author=member, title="Sleep after surgery")
    statuses = (HELD, HIDDEN, REMOVED, DELETED)
    gone = [
        await thread_factory(community=community, author=member, title=f"Sleep question {s}")
        for s in statuses
    ]
    await drain()
    assert len(await found_ids(find, None, "sleep")) == 5
    for thread, status in zip(gone, statuses, strict=True):
        await _set_thread_status(thread["id"], status)
    await drain()
    assert await found_ids(find, None, "sleep") == [kept["id"]]
    assert (await index.stats()).documents == 1


async def test_the_database_is_checked_at_query_time_before_the_writer_catches_up(
    member, community, thread_factory, drain, find
):
    thread = await thread_factory(community=community, author=member, title="Steroid tapering")
    await drain()
    await _set_thread_status(thread["id"], REMOVED)  # not drained: the index still holds it
    assert await outbox.pending_count() == 1
    page = await find(None, "steroid")
    assert page.items == [] and page.total == 0


async def test_private_community_content_is_found_only_by_its_members(
    settings, admin, member, outsider, private_community, thread_factory, drain, find
):
    await communities.add_member(
        await viewer_of(admin), private_community["slug"], member["username"]
    )
    secret = await thread_factory(
        community=private_community, author=member, title="Disclosing my status at work"
    )
    await drain()
    assert await found_ids(find, None, "disclosing") == []
    assert await found_ids(find, outsider, "disclosing") == []
    assert await found_ids(find, member, "disclosing") == [secret["id"]]
    assert await found_ids(find, admin, "disclosing") == [secret["id"]]
    visitor_page = await find(None, "disclosing")
    assert visitor_page.total == 0 and visitor_page.suggestion is None


async def test_naming_a_private_community_reveals_nothing_to_outsiders(
    admin, member, outsider, private_community, thread_factory, drain, find
):
    await communities.add_member(
        await viewer_of(admin), private_community["slug"], member["username"]
    )
    await thread_factory(community=private_community, author=member, title="Viral load results")
    await drain()
    hidden = await find(outsider, "viral", community="hiv-support")
    missing = await find(outsider, "viral", community="no-such-place")
    assert hidden.items == missing.items == []
    assert hidden.community is None and missing.community is None
    assert hidden.notes[-1].replace("hiv-support", "X") == missing.notes[-1].replace(
        "no-such-place", "X"
    )
    assert len((await find(member, "viral", community="hiv-support")).items) == 1


async def test_a_community_made_private_disappears_at_once_and_the_index_follows(
    admin, member, outsider, community, thread_factory, drain, find, index
):
    thread = await thread_factory(community=community, author=member, title="Biopsy results")
    await drain()
    assert await found_ids(find, outsider, "biopsy") == [thread["id"]]
    await communities.set_visibility(await viewer_of(admin), community["slug"], "private")
    assert await outbox.pending_count() == 1
    # Before the writer runs, the database check already hides it.
    assert await found_ids(find, outsider, "biopsy") == []
    await drain()
    assert await found_ids(find, outsider, "biopsy") == []
    assert (await find(outsider, "biopsy")).total == 0
    assert await found_ids(find, member, "biopsy") == [thread["id"]]
    assert (await index.stats()).documents == 1
    await communities.set_visibility(await viewer_of(admin), community["slug"], "public")
    await drain()
    assert await found_ids(find, outsider, "biopsy") == [thread["id"]]


async def test_a_held_reply_from_screening_is_not_indexed_until_approved(
    settings, member, other_member, moderator, community, thread_factory, drain, find
):
    from moderation import decisions
    from tests.moderation.conftest import open_item_for

    thread = await thread_factory(community=community, author=member, title="Type 1 routines")
    reply = await threads.post_reply(
        settings,
        await viewer_of(other_member),
        thread["id"],
        "Stop your insulin, cinnamon cured me.",
    )
    await drain()
    post = await Post.select(Post.status).where(Post.id == reply["id"]).first()
    assert post["status"] == HELD
    assert await found_ids(find, member, "cinnamon") == []
    item = await open_item_for("post", reply["id"])
    await decisions.decide(await viewer_of(moderator), item["id"], "approve", "Reviewed.")
    await drain()
    post = await Post.select(Post.status).where(Post.id == reply["id"]).first()
    assert post["status"] == PUBLISHED
    assert await found_ids(find, member, "cinnamon") == [thread["id"]]
