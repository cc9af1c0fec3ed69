"""Held, hidden and removed content is invisible to other members: in pages, in the API, and
in the search outbox's source of truth (the search writer indexes by status; see search/)."""

from __future__ import annotations

import pytest

from forum import threads
from moderation import decisions, flags
from tests.conftest import api_token, sign_in, viewer_of
from tests.moderation.conftest import CLAIM, open_item_for

SECRET = "Stop your insulin, cinnamon cured me. Only moderators should read this."


async def _reply_in_state(
    state, settings, member, other_member, moderator, community, thread_factory
):
    """A thread with one reply by `member` in the given state."""
    thread = await thread_factory(community=community, author=member, title="Managing type 1")
    reply = await threads.post_reply(settings, await viewer_of(member), thread["id"], SECRET)
    if state != "held":
        item = await open_item_for("post", reply["id"])
        await decisions.decide(
            await viewer_of(moderator),
            item["id"],
            "hide" if state == "hidden" else "remove",
            "Unsafe advice about insulin.",
        )
    return thread, reply


@pytest.mark.parametrize("state", ["held", "hidden", "removed"])
async def test_other_members_never_see_it_in_pages_or_the_api(
    state, client, make_client, settings, member, other_member, moderator, community, thread_factory
):
    thread, reply = await _reply_in_state(
        state, settings, member, other_member, moderator, community, thread_factory
    )
    await sign_in(client, other_member)
    page = await client.get(f"/t/{thread['id']}")
    assert page.status_code == 200 and "Only moderators should read this" not in page.text
    headers = await api_token(client, other_member)
    api = (await client.get(f"/api/v1/threads/{thread['id']}", headers=headers)).json()
    assert all("Only moderators" not in post["body_html"] for post in api["posts"])
    assert (await client.get(f"/api/v1/posts/{reply['id']}", headers=headers)).status_code == 404
    visitor = make_client()
    async with visitor:
        anonymous = await visitor.get(f"/t/{thread['id']}")
        assert "Only moderators should read this" not in anonymous.text
    mod = make_client()
    async with mod:
        await sign_in(mod, moderator)
        assert "Only moderators should read this" in (await mod.get(f"/t/{thread['id']}")).text


async def test_the_author_sees_their_held_post_waiting_for_review(
    client, settings, member, other_member, moderator, community, thread_factory
):
    thread, _ = await _reply_in_state(
        "held", settings, member, other_member, moderator, community, thread_factory
    )
    await sign_in(client, member)
    page = await client.get(f"/t/{thread['id']}")
    assert "Only moderators should read this" in page.text and "Waiting for review" in page.text


async def test_hidden_posts_leave_a_placeholder_for_others(
    client, settings, member, other_member, moderator, community, thread_factory
):
    thread, _ = await _reply_in_state(
        "hidden", settings, member, other_member, moderator, community, thread_factory
    )
    await sign_in(client, other_member)
    page = await client.get(f"/t/{thread['id']}")
    assert "hidden while a moderator reviews it" in page.text


async def test_a_held_thread_is_not_found_by_others(
    client, settings, member, other_member, community, post_thread
):
    held = await post_thread(member, community, CLAIM, title="Held thread title")
    await sign_in(client, other_member)
    assert (await client.get(f"/t/{held['id']}")).status_code == 404
    listing = await client.get(f"/c/{community['slug']}")
    assert "Held thread title" not in listing.text
    headers = await api_token(client, other_member)
    assert (await client.get(f"/api/v1/threads/{held['id']}", headers=headers)).status_code == 404
    api_list = (
        await client.get(f"/api/v1/communities/{community['slug']}/threads", headers=headers)
    ).json()
    assert held["id"] not in [t["id"] for t in api_list["items"]]


async def test_an_auto_hidden_thread_disappears_for_members(
    client, settings, member, other_member, community, thread_factory
):
    from forum.tables import User
    from tests.conftest import make_user

    thread = await thread_factory(community=community, author=member, title="Flagged thread")
    from forum import communities

    for number in range(3):
        flagger = await make_user(settings, f"careful_{number}")
        await communities.join(await viewer_of(flagger), community["slug"])
        await User.update({User.trust_level: 1}).where(User.id == flagger["id"])
        await flags.flag_thread(await viewer_of(flagger), thread["id"], "harassment")
    await sign_in(client, other_member)
    assert (await client.get(f"/t/{thread['id']}")).status_code == 404


async def test_hidden_and_held_content_leaves_search(
    app, client, settings, member, other_member, moderator, community, thread_factory, post_thread
):
    visible = await thread_factory(
        community=community, author=member, title="Sourdough starters", body="Rye sourdough tips"
    )
    held = await post_thread(
        member,
        community,
        "Stop your insulin, cinnamon cured me. Sourdough too.",
        title="Sourdough cure",
    )
    await app.state.search_writer.drain_all()
    headers = await api_token(client, other_member)

    async def found() -> set[int]:
        body = (await client.get("/api/v1/search?q=sourdough", headers=headers)).json()
        return {item["id"] for item in body["items"]}

    assert visible["id"] in await found() and held["id"] not in await found()
    await flags.flag_thread(await viewer_of(other_member), visible["id"], "spam")
    item = await open_item_for("thread", visible["id"])
    await decisions.decide(await viewer_of(moderator), item["id"], "hide", "Off topic.")
    await app.state.search_writer.drain_all()
    assert visible["id"] not in await found()
