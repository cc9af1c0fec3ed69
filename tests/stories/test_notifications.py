"""Follows and notifications: who hears about what, who must not, mutes, mentions, unread
counts, the bell and the list."""

from __future__ import annotations

from typing import Any

import pytest

from forum import accounts, communities, follows, notifications, stories, threads
from forum.errors import Invalid, NotFound
from forum.tables import Follow, Notification
from moderation.tables import ModerationItem
from tests.conftest import counting_queries, make_user, post_form, sign_in, viewer_of
from tests.moderation.conftest import CLAIM


async def kinds_for(user: dict[str, Any]) -> list[str]:
    rows = await Notification.select(Notification.kind).where(Notification.user == user["id"])
    return sorted(row["kind"] for row in rows)


async def unread(user: dict[str, Any]) -> int:
    viewer = await accounts.load_viewer(user["id"], await accounts.session_epoch(user["id"]))
    assert viewer is not None
    return viewer.unread_notifications


async def test_starting_and_replying_follow_the_thread(
    member, other_member, community, thread_factory, reply_factory
):
    thread = await thread_factory(community=community, author=member)
    await reply_factory(thread=thread, author=other_member)
    rows = await Follow.select().where(
        (Follow.target_kind == "thread") & (Follow.target_id == thread["id"])
    )
    assert sorted(row["user"] for row in rows) == sorted([member["id"], other_member["id"]])
    assert all(row["auto"] and not row["muted"] for row in rows)


async def test_a_reply_reaches_the_threads_followers_but_never_its_author(
    settings, member, other_member, community, thread_factory, reply_factory
):
    third = await make_user(settings, "third_person")
    await communities.join(await viewer_of(third), community["slug"])
    thread = await thread_factory(community=community, author=member)
    await reply_factory(thread=thread, author=other_member)
    assert await kinds_for(member) == ["reply"]
    assert await kinds_for(other_member) == []  # not for their own reply
    await reply_factory(thread=thread, author=third)
    assert await kinds_for(member) == ["reply", "reply"]
    assert await kinds_for(other_member) == ["reply"]  # they follow it since replying
    assert await kinds_for(third) == []


async def test_muting_a_thread_silences_it_mentions_included(
    client, member, other_member, community, thread_factory, reply_factory
):
    thread = await thread_factory(community=community, author=member)
    await sign_in(client, member)
    muted = await post_form(
        client,
        "/follow",
        {
            "kind": "thread",
            "target": str(thread["id"]),
            "action": "mute",
            "next": f"/t/{thread['id']}",
        },
        f"/t/{thread['id']}",
    )
    assert muted.status_code == 303 and muted.headers["location"] == f"/t/{thread['id']}"
    page = await client.get(f"/t/{thread['id']}")
    assert "Muted: you won't hear about this conversation." in page.text
    await reply_factory(thread=thread, author=other_member, body="@maria did you see this?")
    assert await kinds_for(member) == []
    await follows.change(await viewer_of(member), "thread", thread["id"], "unmute")
    await reply_factory(thread=thread, author=other_member, body="Another reply.")
    assert await kinds_for(member) == ["reply"]


async def test_unfollowing_stops_replies_until_you_write_again(
    member, other_member, community, thread_factory, reply_factory
):
    thread = await thread_factory(community=community, author=member)
    await follows.change(await viewer_of(member), "thread", thread["id"], "unfollow")
    await reply_factory(thread=thread, author=other_member)
    assert await kinds_for(member) == []
    await reply_factory(thread=thread, author=member)  # writing follows it again
    await reply_factory(thread=thread, author=other_member)
    assert await kinds_for(member) == ["reply"]


async def test_a_mention_notifies_once_and_only_outside_code(
    settings, member, other_member, community, thread_factory, reply_factory
):
    thread = await thread_factory(community=community, author=other_member)
    await reply_factory(thread=thread, author=other_member, body="Ask `@maria` in code, not here.")
    assert await kinds_for(member) == []
    await reply_factory(thread=thread, author=other_member, body="@maria and @Maria: welcome!")
    assert await kinds_for(member) == ["mention"]


async def test_a_mention_in_a_private_community_never_reaches_a_non_member(
    settings, admin, member, outsider, private_community
):
    await communities.add_member(
        await viewer_of(admin), private_community["slug"], member["username"]
    )
    await threads.start_thread(
        settings,
        await viewer_of(member),
        private_community["slug"],
        threads.Draft(title="Private question here", body="What do you think, @stranger?"),
    )
    assert await kinds_for(outsider) == []


async def test_held_content_notifies_nobody_until_a_moderator_approves_it(
    settings, member, other_member, moderator, community, thread_factory
):
    from moderation import decisions

    thread = await thread_factory(community=community, author=member)
    held = await threads.post_reply(settings, await viewer_of(other_member), thread["id"], CLAIM)
    assert held["status"] == "held"
    assert await kinds_for(member) == []
    item = await ModerationItem.select().where(ModerationItem.object_id == held["id"]).first()
    await decisions.decide(await viewer_of(moderator), item["id"], "approve", "")
    assert await kinds_for(member) == ["reply"]
    assert "moderation" in await kinds_for(other_member)  # the outcome reaches its author


async def test_removed_content_takes_its_unread_notifications_with_it(
    settings, member, other_member, community, thread_factory, reply_factory
):
    thread = await thread_factory(community=community, author=member)
    reply = await reply_factory(thread=thread, author=other_member)
    assert await unread(member) == 1
    await threads.delete_post(await viewer_of(other_member), reply["id"])
    assert await unread(member) == 0


async def test_a_clinicians_answer_to_your_question_says_so(
    settings, member, clinician, community, thread_factory, reply_factory
):
    question = await thread_factory(
        community=community, author=member, kind="ask_clinician", title="Is daily weighing useful?"
    )
    await reply_factory(thread=question, author=clinician, body="Yes, every morning.")
    assert await kinds_for(member) == ["clinician_answer"]
    listing = await notifications.list_notifications(await viewer_of(member))
    assert listing.items[0]["text"].startswith("A clinician, Dr_Okafor, answered your question")


async def test_following_a_community_brings_its_new_threads_and_stories(
    settings, member, other_member, community, thread_factory, story_factory
):
    await follows.change(await viewer_of(other_member), "community", community["slug"], "follow")
    await thread_factory(community=community, author=member)
    await story_factory(author=member, community=community)
    assert await kinds_for(other_member) == ["new_story", "new_thread"]


async def test_following_a_blog_or_a_member_brings_their_new_stories_once(
    settings, member, other_member, community, story_factory
):
    viewer = await viewer_of(other_member)
    await follows.change(viewer, "blog", member["username"], "follow")
    await follows.change(viewer, "member", member["username"], "follow")
    await story_factory(author=member, community=None)
    assert await kinds_for(other_member) == ["new_story"]
    await story_factory(author=member, community=None, publish=False)  # a draft: nothing
    assert await kinds_for(other_member) == ["new_story"]


async def test_a_story_followers_hear_of_comments(
    settings, member, other_member, community, story_factory
):
    story = await story_factory(author=member, community=community)
    await stories.post_comment(settings, await viewer_of(other_member), story["id"], "Thank you.")
    assert await kinds_for(member) == ["comment"]


async def test_a_reaction_reaches_the_posts_author(
    settings, member, other_member, community, thread_factory
):
    from forum import reactions

    thread = await thread_factory(community=community, author=member)
    await reactions.react(settings, await viewer_of(other_member), thread["post_id"], "helpful")
    await reactions.react(settings, await viewer_of(other_member), thread["post_id"], "support")
    assert await kinds_for(member) == ["reaction"]  # one per person and post


async def test_nobody_follows_what_they_may_not_see(outsider, private_community, member):
    with pytest.raises(NotFound):
        await follows.change(
            await viewer_of(outsider), "community", private_community["slug"], "follow"
        )
    with pytest.raises(Invalid):
        await follows.change(await viewer_of(member), "member", member["username"], "follow")


async def test_leaving_a_private_community_hides_its_notifications(
    settings, admin, member, other_member, private_community
):
    for user in (member, other_member):
        await communities.add_member(
            await viewer_of(admin), private_community["slug"], user["username"]
        )
    thread = await threads.start_thread(
        settings,
        await viewer_of(member),
        private_community["slug"],
        threads.Draft(title="Between us here", body="A private question."),
    )
    await threads.post_reply(settings, await viewer_of(other_member), thread["id"], "An answer.")
    assert (await notifications.list_notifications(await viewer_of(member))).total == 1
    await communities.leave(await viewer_of(member), private_community["slug"])
    assert (await notifications.list_notifications(await viewer_of(member))).total == 0


async def test_the_bell_counts_unread_and_the_list_marks_them_read(
    client, member, other_member, community, thread_factory, reply_factory
):
    thread = await thread_factory(
        community=community, author=member, title="Bread that travels well?"
    )
    await reply_factory(thread=thread, author=other_member)
    await reply_factory(thread=thread, author=other_member)
    await sign_in(client, member)
    home = await client.get("/")
    assert 'aria-label="2 unread"' in home.text
    listing = await client.get("/notifications")
    assert listing.status_code == 200
    assert "Dev_Caregiver replied in “Bread that travels well?”" in listing.text
    first = (await notifications.list_notifications(await viewer_of(member))).items[0]
    opened = await client.get(f"/notifications/{first['id']}")
    assert opened.status_code == 303
    assert opened.headers["location"].startswith(f"/t/{thread['id']}?page=1#post-")
    assert await unread(member) == 1
    done = await post_form(client, "/notifications/read", {}, "/notifications")
    assert done.status_code == 303
    assert await unread(member) == 0
    assert "unread" not in (await client.get("/")).text.split("</header>")[0]


async def test_the_notifications_api(
    client, member, other_member, community, thread_factory, reply_factory
):
    from tests.conftest import api_token

    thread = await thread_factory(community=community, author=member)
    await reply_factory(thread=thread, author=other_member)
    headers = await api_token(client, member)
    listed = await client.get("/api/v1/notifications", headers=headers)
    assert listed.status_code == 200
    body = listed.json()
    assert body["unread"] == 1 and body["items"][0]["kind"] == "reply"
    assert body["items"][0]["url"].startswith("http://127.0.0.1:8000/t/")
    marked = await client.post("/api/v1/notifications/read", json={}, headers=headers)
    assert marked.json() == {"marked": 1, "unread": 0}
    followed = await client.post(
        "/api/v1/follows",
        json={"kind": "community", "target": community["slug"], "action": "follow"},
        headers=headers,
    )
    assert followed.status_code == 200 and followed.json()["state"] == "following"
    mine = await client.get("/api/v1/me/follows", headers=headers)
    assert {(f["kind"], f["state"]) for f in mine.json()["items"]} == {
        ("community", "following"),
        ("thread", "following"),
    }
    assert (await client.get("/api/v1/notifications")).status_code == 401


async def test_marking_ids_beyond_any_notification_read_marks_nothing_rather_than_failing(
    client, member
):
    from tests.conftest import api_token

    headers = await api_token(client, member)
    marked = await client.post(
        "/api/v1/notifications/read", json={"ids": [2**70, -5, 0, 2**31]}, headers=headers
    )
    assert marked.status_code == 200
    assert marked.json() == {"marked": 0, "unread": 0}


async def test_the_thread_page_still_costs_no_more_queries_with_the_follow_buttons(
    app, client, member, other_member, community, thread_factory, reply_factory
):
    thread = await thread_factory(community=community, author=member)
    await reply_factory(thread=thread, author=other_member)
    await sign_in(client, member)
    with counting_queries(app) as queries:
        page = await client.get(f"/t/{thread['id']}")
    assert "You're following this conversation." in page.text
    assert queries.count <= 4
