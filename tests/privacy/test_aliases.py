"""Names for one community: what a member writes where they go by another name can't be joined
by other members to their profile or their other communities."""

from __future__ import annotations

import pytest

from forum import aliases, communities, follows, reactions, threads
from forum.errors import Conflict, Invalid
from tests.conftest import api_token, make_user, post_form, sign_in, viewer_of
from tests.privacy.conftest import kinds_for

ALIAS = "Quiet Willow"


@pytest.fixture
async def two_lives(settings, community, stigma, thread_factory):
    """`person` is in both communities, and goes by ALIAS in the stigmatized one."""
    person = await make_user(settings, "double_life")
    reader = await make_user(settings, "curious_reader")
    for someone in (person, reader):
        for place in (community, stigma):
            await communities.join(await viewer_of(someone), place["slug"])
    await follows.change(await viewer_of(reader), "member", person["username"], "follow")
    await aliases.set_name(await viewer_of(person), stigma["slug"], ALIAS)
    open_thread = await thread_factory(
        community=community, author=person, title="Oats: safe or not?", body="Asking openly."
    )
    hidden_thread = await thread_factory(
        community=stigma, author=person, title="Starting treatment soon", body="Nervous mornings."
    )
    return {"person": person, "reader": reader, "open": open_thread, "hidden": hidden_thread}


async def test_posts_there_show_the_name_and_link_to_no_profile(client, two_lives, stigma):
    person, reader = two_lives["person"], two_lives["reader"]
    await sign_in(client, reader)
    page = await client.get(f"/t/{two_lives['hidden']['id']}")
    assert ALIAS in page.text
    assert f"/u/{person['username']}" not in page.text and "Double_Life" not in page.text
    listing = await client.get(f"/c/{stigma['slug']}")
    assert f"Started by {ALIAS}" in listing.text and "Double_Life" not in listing.text
    api = await client.get(
        f"/api/v1/threads/{two_lives['hidden']['id']}", headers=await api_token(client, reader)
    )
    post = api.json()["posts"][0]
    assert post["author"] is None and post["author_display_name"] == ALIAS
    elsewhere = await client.get(f"/t/{two_lives['open']['id']}")
    assert f'href="/u/{person["username"]}"' in elsewhere.text  # their own name elsewhere


async def test_the_profile_leaves_that_community_out_for_everyone_else(client, two_lives, stigma):
    person, reader = two_lives["person"], two_lives["reader"]
    await sign_in(client, reader)
    profile = await client.get(f"/u/{person['username']}")
    assert "Oats: safe or not?" in profile.text
    for hidden in ("Starting treatment soon", stigma["name"], f"/c/{stigma['slug']}", ALIAS):
        assert hidden not in profile.text, hidden
    api = await client.get(f"/api/v1/users/{person['username']}")
    assert stigma["slug"] not in api.text and "Starting treatment soon" not in api.text
    own = await threads.get_thread(await viewer_of(person), two_lives["hidden"]["id"])
    assert own["posts"].items[0]["author_display_name"] == ALIAS
    from forum import profiles

    self_view = await profiles.profile(await viewer_of(person), person["username"])
    assert stigma["slug"] in {c["slug"] for c in self_view["communities"]}
    assert "Starting treatment soon" in {p["title"] for p in self_view["activity"]}


async def test_search_by_username_finds_only_the_rest(app, client, two_lives):
    await app.state.search_writer.drain_all()
    answer = await client.get(
        "/api/v1/search", params={"q": f"author:{two_lives['person']['username']}"}
    )
    assert [item["title"] for item in answer.json()["items"]] == ["Oats: safe or not?"]


async def test_followers_by_name_are_not_told_and_others_see_the_name(
    settings, two_lives, stigma, other_member
):
    reader = two_lives["reader"]
    assert await kinds_for(reader) == ["new_thread"]  # the open thread only
    await communities.join(await viewer_of(other_member), stigma["slug"])
    await threads.start_thread(
        settings,
        await viewer_of(two_lives["person"]),
        stigma["slug"],
        threads.Draft(title="Mentioning you", body=f"Thanks @{other_member['username']}"),
    )
    from forum import notifications

    listing = await notifications.list_notifications(await viewer_of(other_member))
    assert listing.items[0]["text"].startswith(f"{ALIAS} mentioned you")
    assert listing.items[0]["actor_username"] is None


async def test_reactions_there_list_the_name_unlinked(settings, two_lives, stigma, client):
    person, reader = two_lives["person"], two_lives["reader"]
    theirs = await threads.start_thread(
        settings,
        await viewer_of(reader),
        stigma["slug"],
        threads.Draft(title="A question", body="Anyone?"),
    )
    await reactions.react(settings, await viewer_of(person), theirs["post_id"], "support")
    await sign_in(client, reader)
    page = await client.get(f"/p/{theirs['post_id']}/reactions")
    assert ALIAS in page.text and f"/u/{person['username']}" not in page.text


async def test_leaving_the_community_keeps_the_name_on_what_they_wrote(client, two_lives, stigma):
    person = two_lives["person"]
    await communities.leave(await viewer_of(person), stigma["slug"])
    page = await client.get(f"/t/{two_lives['hidden']['id']}")
    assert ALIAS in page.text and "Double_Life" not in page.text


async def test_feeds_use_the_name(client, two_lives, stigma):
    feed = await client.get(f"/c/{stigma['slug']}/feed.atom")
    assert f"<name>{ALIAS}</name>" in feed.text and "Double_Life" not in feed.text


async def test_names_are_unique_in_a_community_and_cant_pose_as_anonymous(
    two_lives, stigma, other_member
):
    await communities.join(await viewer_of(other_member), stigma["slug"])
    with pytest.raises(Conflict):
        await aliases.set_name(await viewer_of(other_member), stigma["slug"], ALIAS.upper())
    with pytest.raises(Invalid):
        await aliases.set_name(await viewer_of(other_member), stigma["slug"], "Anonymous member 3")


async def test_setting_and_clearing_the_name_on_the_web_and_api(client, member, community):
    await sign_in(client, member)
    page = await client.get(f"/c/{community['slug']}/privacy")
    assert "Your name in this community" in page.text
    done = await post_form(
        client,
        f"/c/{community['slug']}/privacy/name",
        {"display_name": "Willow"},
        f"/c/{community['slug']}/privacy",
    )
    assert done.status_code == 303
    headers = await api_token(client, member)
    got = await client.get(f"/api/v1/communities/{community['slug']}/my-name", headers=headers)
    assert got.json() == {"community": community["slug"], "display_name": "Willow"}
    cleared = await client.put(
        f"/api/v1/communities/{community['slug']}/my-name",
        json={"display_name": None},
        headers=headers,
    )
    assert cleared.json()["display_name"] is None


async def test_only_members_choose_a_name_there(settings, outsider, community):
    from forum.errors import Forbidden

    with pytest.raises(Forbidden):
        await aliases.set_name(await viewer_of(outsider), community["slug"], "Someone")


async def test_stories_there_carry_the_name_and_stay_off_the_blog(
    client, settings, two_lives, stigma
):
    from forum import stories

    person, reader = two_lives["person"], two_lives["reader"]
    there = await stories.create_story(
        settings,
        await viewer_of(person),
        stories.StoryDraft(
            title="My first year on treatment", body="It got easier.", community=stigma["slug"]
        ),
        publish=True,
        confirm_consent=True,
    )
    await stories.post_comment(
        settings, await viewer_of(person), there["id"], "Thank you all for reading."
    )
    await sign_in(client, reader)
    page = await client.get(f"/s/{there['id']}")
    assert ALIAS in page.text and f"/u/{person['username']}" not in page.text
    listed = await client.get("/stories")
    assert ALIAS in listed.text and "Double_Life" not in listed.text
    blog = await client.get(f"/u/{person['username']}/stories")
    assert "My first year on treatment" not in blog.text
    feed = await client.get(f"/u/{person['username']}/feed.atom")
    assert "My first year on treatment" not in feed.text
    community_feed = await client.get(f"/c/{stigma['slug']}/feed.atom")
    assert f"<name>{ALIAS}</name>" in community_feed.text


async def test_an_export_carries_no_account_id_of_who_notified(two_lives):
    from forum import profiles

    exported = await profiles.export_data(await viewer_of(two_lives["reader"]))
    rows = exported["tables"]["notification"]
    assert rows and all("actor" not in row for row in rows)
