"""Members' flags: one open flag per person, weights by trust and record, auto-hide."""

from __future__ import annotations

import pytest

from forum.errors import Forbidden, Invalid, NotFound
from forum.tables import Post, Thread, User
from moderation import flags
from moderation.rulebook import default_rules
from moderation.tables import AuditEntry, Flag, Notice
from moderation.trust import flag_weight
from tests.conftest import api_token, make_user, post_form, shows, sign_in, viewer_of
from tests.moderation.conftest import open_item_for


async def _members(settings, community, count, trust_level):
    from forum import communities

    people = []
    for number in range(count):
        user = await make_user(settings, f"flagger_{trust_level}_{number}")
        await communities.join(await viewer_of(user), community["slug"])
        await User.update({User.trust_level: trust_level}).where(User.id == user["id"])
        people.append(user)
    return people


async def test_a_flag_opens_a_review_item_with_its_reason_and_note(
    member, other_member, community, thread_factory, reply_factory
):
    thread = await thread_factory(community=community, author=member)
    reply = await reply_factory(thread=thread, author=member, body="Call my cousin, she knows.")
    result = await flags.flag_post(
        await viewer_of(other_member), reply["id"], "privacy", "Names a relative"
    )
    assert result["auto_hidden"] is False
    item = await open_item_for("post", reply["id"])
    assert item["id"] == result["item_id"] and item["reason"] == "privacy"
    assert item["flag_count"] == 1 and item["source"] == "flag"
    flag = await Flag.select().where(Flag.id == result["id"]).first()
    assert flag["note"] == "Names a relative" and flag["state"] == "open"


async def test_flagging_the_opening_post_flags_the_thread(
    member, other_member, community, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    await flags.flag_post(await viewer_of(other_member), thread["post_id"], "spam")
    assert await open_item_for("thread", thread["id"]) is not None


async def test_one_open_flag_per_person_per_item(
    client, member, other_member, community, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    headers = await api_token(client, other_member)
    first = await client.post(
        f"/api/v1/posts/{thread['post_id']}/flags", json={"reason": "spam"}, headers=headers
    )
    assert first.status_code == 201
    again = await client.post(
        f"/api/v1/posts/{thread['post_id']}/flags",
        json={"reason": "harassment", "note": "also rude"},
        headers=headers,
    )
    assert again.status_code == 409
    assert await Flag.count() == 1


async def test_members_cannot_flag_their_own_posts_or_what_they_cannot_see(
    member, other_member, outsider, community, private_community, admin, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    with pytest.raises(Forbidden):
        await flags.flag_post(await viewer_of(member), thread["post_id"], "spam")
    private = await thread_factory(community=private_community, author=admin)
    with pytest.raises(NotFound):
        await flags.flag_post(await viewer_of(outsider), private["post_id"], "spam")
    with pytest.raises(Invalid):
        await flags.flag_post(await viewer_of(other_member), thread["post_id"], "boring")


async def test_held_content_cannot_be_flagged_by_others(
    member, other_member, community, post_thread
):
    held = await post_thread(member, community, "Stop your insulin, cinnamon cured me.")
    with pytest.raises(NotFound):
        await flags.flag_thread(await viewer_of(other_member), held["id"], "misinformation")


async def test_trusted_members_flags_hide_the_post_when_they_weigh_enough(
    settings, member, community, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    people = await _members(settings, community, 3, trust_level=1)
    results = [
        await flags.flag_post(await viewer_of(person), thread["post_id"], "misinformation")
        for person in people
    ]
    assert [r["auto_hidden"] for r in results] == [False, False, True]
    status = await Thread.select(Thread.status).where(Thread.id == thread["id"]).first()
    assert status["status"] == "hidden"
    entry = await AuditEntry.select().where(AuditEntry.action == "auto_hide").first()
    assert entry["actor_id"] is None and '"hidden"' in entry["after"]
    notice = await Notice.select().where(Notice.user == member["id"]).first()
    assert "hidden while a moderator reviews" in notice["message"]


async def test_new_members_flags_weigh_less(settings, member, community, thread_factory):
    thread = await thread_factory(community=community, author=member)
    people = await _members(settings, community, 3, trust_level=0)
    for person in people:
        result = await flags.flag_post(await viewer_of(person), thread["post_id"], "spam")
        assert result["auto_hidden"] is False
    post = await Post.select(Post.status).where(Post.id == thread["post_id"]).first()
    assert post["status"] == "published"


async def test_crisis_flags_never_hide_a_post(settings, member, community, thread_factory):
    thread = await thread_factory(community=community, author=member, body="I'm struggling.")
    people = await _members(settings, community, 4, trust_level=2)
    for person in people:
        await flags.flag_post(await viewer_of(person), thread["post_id"], "crisis")
    post = await Post.select(Post.status).where(Post.id == thread["post_id"]).first()
    assert post["status"] == "published"
    item = await open_item_for("thread", thread["id"])
    assert item["severity"] == 100 and item["flag_count"] == 4


def test_a_flaggers_weight_grows_with_trust_and_upheld_flags():
    rules = default_rules().trust
    assert flag_weight(0, 0, 0, rules) == 0.5
    assert flag_weight(1, 0, 0, rules) == 1.0
    assert flag_weight(2, 0, 0, rules) == 1.5
    assert flag_weight(1, 8, 0, rules) > flag_weight(1, 0, 0, rules)
    assert flag_weight(1, 0, 8, rules) < flag_weight(1, 0, 0, rules)
    assert flag_weight(3, 100, 0, rules) <= rules.flags.max_weight


async def test_flagging_a_post_from_the_thread_page_works_without_javascript(
    client, member, other_member, community, thread_factory
):
    thread = await thread_factory(community=community, author=member, body="Stop **all** meds")
    await sign_in(client, other_member)
    page = await client.get(f"/t/{thread['id']}")
    assert f'href="/p/{thread["post_id"]}/flag"' in page.text
    form = await client.get(f"/p/{thread['post_id']}/flag")
    assert form.status_code == 200
    assert "Stop all meds" in form.text  # the post being flagged, quoted as text
    assert f'action="/p/{thread["post_id"]}/flag"' in form.text
    response = await post_form(
        client,
        f"/p/{thread['post_id']}/flag",
        {"reason": "misinformation", "note": "Sounds unsafe"},
        f"/p/{thread['post_id']}/flag",
    )
    assert response.status_code == 303
    after = await client.get(response.headers["location"])
    assert shows(after, "Thank you for flagging this")
    assert await Flag.count() == 1


async def test_a_flag_with_a_bad_reason_is_shown_again_with_the_note_kept(
    client, member, other_member, community, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    await sign_in(client, other_member)
    response = await post_form(
        client,
        f"/p/{thread['post_id']}/flag",
        {"reason": "boring", "note": "My careful note"},
        f"/p/{thread['post_id']}/flag",
    )
    assert response.status_code == 422
    assert "My careful note" in response.text and 'class="field-error"' in response.text
    assert await Flag.count() == 0


async def test_visitors_are_asked_to_sign_in_before_flagging(
    client, member, community, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    response = await client.get(f"/p/{thread['post_id']}/flag")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/p/")


async def test_the_flag_page_says_at_once_that_your_own_post_cant_be_flagged(
    client, member, community, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    await sign_in(client, member)
    response = await client.get(f"/p/{thread['post_id']}/flag")
    assert response.status_code == 303
    after = await client.get(response.headers["location"])
    assert shows(after, "You can't flag your own post")


async def test_no_flag_link_on_your_own_post(client, member, community, thread_factory):
    thread = await thread_factory(community=community, author=member)
    await sign_in(client, member)
    page = await client.get(f"/t/{thread['id']}")
    assert f'href="/p/{thread["post_id"]}/flag"' not in page.text


async def test_flagging_is_limited_per_hour(
    settings, member, other_member, community, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    viewer = await viewer_of(other_member)
    limit = default_rules().trust.flags.per_hour
    replies = []
    for number in range(limit + 1):
        from forum import threads

        replies.append(
            await threads.post_reply(
                settings, await viewer_of(member), thread["id"], f"Reply {number}"
            )
        )
    for reply in replies[:limit]:
        await flags.flag_post(viewer, reply["id"], "spam")
    from forum.errors import RateLimited

    with pytest.raises(RateLimited):
        await flags.flag_post(viewer, replies[-1]["id"], "spam")
