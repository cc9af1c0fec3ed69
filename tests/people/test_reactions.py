"""Reactions: helpful, support and me too, one of each per person, with who reacted; helpful
reactions feed trust."""

from __future__ import annotations

import pytest

from forum import reactions
from forum.errors import Conflict, Forbidden, Invalid, NotFound
from forum.tables import User
from tests.conftest import api_token, make_user, post_form, sign_in, viewer_of


@pytest.fixture
async def answer(member, other_member, community, thread_factory, reply_factory):
    thread = await thread_factory(community=community, author=member)
    return await reply_factory(thread=thread, author=other_member)


async def test_one_of_each_kind_per_person_counted_per_post(settings, member, answer):
    viewer = await viewer_of(member)
    await reactions.react(settings, viewer, answer["id"], "helpful")
    again = await reactions.react(settings, viewer, answer["id"], "helpful")
    assert again["counts"] == {"helpful": 1, "support": 0, "me_too": 0}
    both = await reactions.react(settings, viewer, answer["id"], "me_too")
    assert both["counts"] == {"helpful": 1, "support": 0, "me_too": 1}
    assert sorted(both["mine"]) == ["helpful", "me_too"]
    assert both["who"]["helpful"] == [{"username": "maria", "display_name": "Maria"}]
    taken_back = await reactions.unreact(settings, viewer, answer["id"], "helpful")
    assert taken_back["counts"]["helpful"] == 0 and taken_back["mine"] == ["me_too"]


async def test_reactions_are_for_others_published_posts_by_members(
    settings, member, other_member, outsider, answer
):
    with pytest.raises(Forbidden):
        await reactions.react(settings, await viewer_of(other_member), answer["id"], "helpful")
    with pytest.raises(Forbidden):
        await reactions.react(settings, await viewer_of(outsider), answer["id"], "support")
    with pytest.raises(Invalid):
        await reactions.react(settings, await viewer_of(member), answer["id"], "love")
    with pytest.raises(NotFound):
        await reactions.react(settings, await viewer_of(member), 999_999, "helpful")


async def test_held_and_private_posts_cannot_be_reacted_to(
    settings,
    admin,
    member,
    other_member,
    outsider,
    private_community,
    community,
    moderator,
    thread_factory,
):
    from forum import communities, threads

    await communities.add_member(await viewer_of(admin), private_community["slug"], "maria")
    secret = await thread_factory(community=private_community, author=member)
    with pytest.raises(NotFound):
        await reactions.react(settings, await viewer_of(outsider), secret["post_id"], "support")
    held = await threads.start_thread(
        settings,
        await viewer_of(other_member),
        community["slug"],
        threads.Draft(title="A held question", body="Stop your insulin, cinnamon cured me."),
    )
    assert held["status"] == "held"
    with pytest.raises((Conflict, NotFound)):
        await reactions.react(settings, await viewer_of(moderator), held["post_id"], "support")


async def test_who_reacted_is_a_page_of_its_own_for_those_who_may_read_the_post(
    client, settings, member, admin, outsider, private_community, thread_factory, answer
):
    await reactions.react(settings, await viewer_of(member), answer["id"], "support")
    page = await client.get(f"/t/{answer['thread']}")
    assert f'href="/p/{answer["id"]}/reactions"' in page.text
    assert ">Maria</a>" not in page.text.split(f'id="post-{answer["id"]}"')[1]
    who = await client.get(f"/p/{answer['id']}/reactions")
    assert who.status_code == 200
    assert "Sending support (1):" in who.text and '<a href="/u/maria">Maria</a>' in who.text
    secret = await thread_factory(community=private_community, author=admin)
    await sign_in(client, outsider)
    assert (await client.get(f"/p/{secret['post_id']}/reactions")).status_code == 404
    assert (await client.get("/p/999999/reactions")).status_code == 404


async def test_the_thread_page_shows_counts_buttons_and_who_reacted(
    client, settings, member, other_member, answer
):
    await reactions.react(settings, await viewer_of(member), answer["id"], "support")
    page = await client.get(f"/t/{answer['thread']}")
    assert "Sending support: 1" in page.text and "Who reacted" in page.text
    assert 'action="/p/' not in page.text.split("Who reacted")[0].split(f"post-{answer['id']}")[1]
    await sign_in(client, member)
    page = await client.get(f"/t/{answer['thread']}")
    assert f'action="/p/{answer["id"]}/react"' in page.text
    assert 'aria-pressed="true"' in page.text
    done = await post_form(
        client,
        f"/p/{answer['id']}/react",
        {"kind": "helpful", "next": f"/t/{answer['thread']}"},
        f"/t/{answer['thread']}",
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/t/{answer['thread']}#post-{answer['id']}"
    summary = await reactions.summary(await viewer_of(member), answer["id"])
    assert summary["counts"]["helpful"] == 1
    undone = await post_form(
        client,
        f"/p/{answer['id']}/react",
        {"kind": "helpful", "undo": "1"},
        f"/t/{answer['thread']}",
    )
    assert undone.status_code == 303
    summary = await reactions.summary(await viewer_of(member), answer["id"])
    assert summary["counts"]["helpful"] == 0


async def test_helpful_reactions_feed_trust(settings, app, member, other_member, answer):
    """Five helpful reactions count as one published post (trust.toml): with one post of their
    own and ten helpful reactions, a member two days old reaches level 1 (three posts)."""
    from datetime import UTC, datetime, timedelta

    from forum import communities

    await User.update({User.created_at: datetime.now(UTC) - timedelta(days=2)}).where(
        User.id == other_member["id"]
    )

    async def level() -> int:
        row = await User.select(User.trust_level).where(User.id == other_member["id"]).first()
        return row["trust_level"]

    for number in range(10):
        person = await make_user(settings, f"reader{number:02d}")
        await communities.join(await viewer_of(person), "celiac")
        await reactions.react(settings, await viewer_of(person), answer["id"], "helpful")
        if number == 8:
            assert await level() == 0
    assert await level() == 1


async def test_the_reactions_api(client, member, other_member, answer):
    headers = await api_token(client, member)
    response = await client.post(
        f"/api/v1/posts/{answer['id']}/reactions", json={"kind": "helpful"}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["counts"]["helpful"] == 1
    assert response.json()["who"]["helpful"] == ["maria"]
    listed = await client.get(f"/api/v1/posts/{answer['id']}/reactions")
    assert listed.json()["counts"]["helpful"] == 1 and listed.json()["mine"] == []
    thread = (await client.get(f"/api/v1/threads/{answer['thread']}")).json()
    assert thread["posts"][1]["reactions"]["counts"]["helpful"] == 1
    removed = await client.delete(
        f"/api/v1/posts/{answer['id']}/reactions/helpful", headers=headers
    )
    assert removed.json()["counts"]["helpful"] == 0
    for bad in ({"kind": "love"}, {"kind": 3}, {}):
        response = await client.post(
            f"/api/v1/posts/{answer['id']}/reactions", json=bad, headers=headers
        )
        assert response.status_code == 422
    own = await client.post(
        f"/api/v1/posts/{answer['id']}/reactions",
        json={"kind": "helpful"},
        headers=await api_token(client, other_member),
    )
    assert own.status_code == 403
    anonymous = await client.post(
        f"/api/v1/posts/{answer['id']}/reactions", json={"kind": "helpful"}
    )
    assert anonymous.status_code == 401
