"""Blocking, in every direction: messages, mentions, follows, notifications and collapsed posts;
and never as a way to find out who wrote anonymously."""

from __future__ import annotations

import pytest

from forum import blocks, follows, messages, reactions, threads
from forum.errors import Forbidden, Invalid
from tests.conftest import api_token, make_user, post_form, sign_in, viewer_of
from tests.privacy.conftest import kinds_for, trusted


@pytest.fixture
async def blocked(settings, community):
    """A member whom `sender` will block."""
    from forum import communities

    user = await trusted(await make_user(settings, "harasser_hal"))
    await communities.join(await viewer_of(user), community["slug"])
    return user


@pytest.mark.parametrize("who_blocks", ["recipient", "sender"])
async def test_neither_can_start_a_conversation_whoever_blocked(sender, blocked, send, who_blocks):
    blocker, other = (sender, blocked) if who_blocks == "sender" else (blocked, sender)
    await blocks.block(await viewer_of(blocker), other["username"])
    with pytest.raises(Invalid) as first:
        await send(sender, to=[blocked])
    with pytest.raises(Invalid) as second:
        await send(blocked, to=[sender])
    # The blocker is told why; the blocked person only that they can't.
    assert "Unblock" in (first if who_blocks == "sender" else second).value.fields["to"]
    assert (
        "isn't taking private messages from you"
        in (second if who_blocks == "sender" else first).value.fields["to"]
    )


@pytest.mark.parametrize("who_blocks", ["starter", "other"])
async def test_a_conversation_of_two_takes_no_more_messages_either_way(
    sender, blocked, send, who_blocks
):
    started = await send(blocked, "Hi", to=[sender])
    blocker, other = (blocked, sender) if who_blocks == "starter" else (sender, blocked)
    await blocks.block(await viewer_of(blocker), other["username"])
    for person in (sender, blocked):
        with pytest.raises(Forbidden):
            await send(person, "Hello?", conversation=started["conversation"])
    data = await messages.get_conversation(await viewer_of(sender), started["conversation"])
    assert not data["can_reply"]


async def test_in_a_group_the_blocked_persons_messages_are_collapsed_and_silent(
    sender, blocked, member, send
):
    started = await send(sender, to=[blocked, member])
    await messages.get_conversation(await viewer_of(sender), started["conversation"])
    await blocks.block(await viewer_of(sender), blocked["username"])
    await send(blocked, "You again", conversation=started["conversation"])
    assert "message" not in await kinds_for(sender)
    data = await messages.get_conversation(await viewer_of(sender), started["conversation"])
    assert [m["collapsed"] for m in data["messages"]] == [False, True]
    assert data["can_reply"]  # the group goes on
    for_member = await messages.get_conversation(await viewer_of(member), started["conversation"])
    assert not any(m["collapsed"] for m in for_member["messages"])


@pytest.mark.parametrize("who_blocks", ["author", "mentioned"])
async def test_mentions_notify_nobody_across_a_block(
    settings, member, blocked, community, thread_factory, who_blocks
):
    blocker, other = (member, blocked) if who_blocks == "mentioned" else (blocked, member)
    await blocks.block(await viewer_of(blocker), other["username"])
    await thread_factory(
        community=community, author=blocked, body=f"What do you think, @{member['username']}?"
    )
    await thread_factory(
        community=community, author=member, body=f"Thanks @{blocked['username']}, but no."
    )
    assert "mention" not in await kinds_for(member)
    assert "mention" not in await kinds_for(blocked)


async def test_replies_and_reactions_from_a_blocked_member_dont_notify(
    settings, member, blocked, community, thread_factory, reply_factory
):
    thread = await thread_factory(community=community, author=member)
    await blocks.block(await viewer_of(member), blocked["username"])
    reply = await reply_factory(thread=thread, author=blocked)
    assert await kinds_for(member) == []
    await reactions.react(settings, await viewer_of(blocked), thread["post_id"], "support")
    assert await kinds_for(member) == []
    assert reply["status"] == "published"


async def test_follows_end_both_ways_and_cant_start_again(member, blocked):
    await follows.change(await viewer_of(blocked), "member", member["username"], "follow")
    await follows.change(await viewer_of(member), "blog", blocked["username"], "follow")
    await blocks.block(await viewer_of(member), blocked["username"])
    assert await follows.list_follows(await viewer_of(blocked)) == []
    assert await follows.list_follows(await viewer_of(member)) == []
    for person, other in ((blocked, member), (member, blocked)):
        with pytest.raises(Forbidden):
            await follows.change(await viewer_of(person), "member", other["username"], "follow")


async def test_their_posts_are_collapsed_for_the_blocker_only(
    client, make_client, member, blocked, other_member, community, thread_factory, reply_factory
):
    thread = await thread_factory(community=community, author=member)
    await reply_factory(thread=thread, author=blocked, body="An unkind reply.")
    await sign_in(client, member)
    blocked_now = await post_form(
        client, f"/u/{blocked['username']}/block", {}, f"/u/{blocked['username']}"
    )
    assert blocked_now.status_code == 303
    page = await client.get(f"/t/{thread['id']}")
    assert (
        '<details class="collapsed-post"><summary>A post by Harasser_Hal, whom you blocked.'
        in page.text
    )
    assert "An unkind reply." in page.text  # still there, behind "show anyway"
    data = await threads.get_thread(await viewer_of(other_member), thread["id"])
    assert not any(post["collapsed"] for post in data["posts"].items)
    profile = await client.get(f"/u/{blocked['username']}")
    assert "Unblock" in profile.text and "/messages/new?to=" not in profile.text
    settings_page = await client.get("/messages/settings")
    assert "Harasser_Hal" in settings_page.text
    undone = await post_form(
        client,
        f"/u/{blocked['username']}/block",
        {"undo": "1", "next": "/messages/settings"},
        "/messages/settings",
    )
    assert undone.headers["location"] == "/messages/settings"
    assert "collapsed-post" not in (await client.get(f"/t/{thread['id']}")).text


async def test_blocking_never_collapses_an_anonymous_post(
    member, blocked, stigma, anonymous_thread
):
    from forum import communities

    for person in (member, blocked):
        await communities.join(await viewer_of(person), stigma["slug"])
    thread = await anonymous_thread(community=stigma, author=blocked)
    await blocks.block(await viewer_of(member), blocked["username"])
    data = await threads.get_thread(await viewer_of(member), thread["id"])
    assert not data["posts"].items[0]["collapsed"]


async def test_blocks_through_the_api(client, member, blocked):
    headers = await api_token(client, member)
    made = await client.post(
        "/api/v1/me/blocks", json={"username": blocked["username"]}, headers=headers
    )
    assert made.status_code == 201
    listed = await client.get("/api/v1/me/blocks", headers=headers)
    assert [row["username"] for row in listed.json()["items"]] == [blocked["username"]]
    assert (
        await client.post(
            "/api/v1/me/blocks", json={"username": member["username"]}, headers=headers
        )
    ).status_code == 422
    gone = await client.delete(f"/api/v1/me/blocks/{blocked['username']}", headers=headers)
    assert gone.json() == {"username": blocked["username"], "blocked": False}


async def test_whom_you_blocked_is_not_in_their_export(settings, member, blocked):
    from forum import profiles

    await blocks.block(await viewer_of(member), blocked["username"])
    theirs = await profiles.export_data(await viewer_of(blocked))
    assert "member_block" not in theirs["tables"]
    mine = await profiles.export_data(await viewer_of(member))
    assert mine["tables"]["member_block"][0]["blocked"] == blocked["id"]
