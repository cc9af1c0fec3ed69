"""Experts by experience: declaring a tag, showing it beside the name, vouching, confirming,
hiding and changing it."""

from __future__ import annotations

import pytest

from forum import experience
from forum.errors import Forbidden, Invalid, NotFound
from moderation.tables import AuditEntry
from tests.conftest import api_token, post_form, shows, sign_in, viewer_of


async def declare(user, community, **values):
    tag, _ = await experience.declare(
        await viewer_of(user),
        community["slug"],
        values.pop("relation", "patient"),
        **{"since": 2009, "treatments": ["pump user"], **values},
    )
    return tag


async def test_a_declared_tag_shows_beside_the_name_wherever_they_post_in_that_community(
    client, member, other_member, community, thread_factory, reply_factory
):
    tag = await declare(member, community)
    assert tag["label"] == "Patient · since 2009 · pump user"
    assert tag["standing"] == "self_declared"
    thread = await thread_factory(community=community, author=other_member)
    await reply_factory(thread=thread, author=member)
    page = await client.get(f"/t/{thread['id']}")
    assert shows(page, "Patient · since 2009 · pump user")
    assert "self-declared" in page.text
    profile = await client.get(f"/u/{member['username']}")
    assert shows(profile, "Patient · since 2009 · pump user")


async def test_a_tag_shows_only_in_its_own_community(
    client, admin, member, community, thread_factory
):
    from forum import communities

    other = await communities.create_community(
        await viewer_of(admin), slug="long-covid", name="Long COVID"
    )
    await communities.join(await viewer_of(member), other["slug"])
    await declare(member, community)
    thread = await thread_factory(community=other, author=member)
    page = await client.get(f"/t/{thread['id']}")
    assert not shows(page, "Patient · since 2009")


async def test_vouches_count_and_readers_see_how_a_tag_is_backed(
    client, settings, member, other_member, community, thread_factory
):
    from forum import communities
    from tests.conftest import make_user

    tag = await declare(member, community)
    third = await make_user(settings, "rosa_hf")
    await communities.join(await viewer_of(third), community["slug"])
    assert (await experience.vouch(await viewer_of(other_member), tag["id"]))["vouch_count"] == 1
    again = await experience.vouch(await viewer_of(other_member), tag["id"])
    assert again["vouch_count"] == 1  # one vouch per person
    assert (await experience.vouch(await viewer_of(third), tag["id"]))["vouch_count"] == 2
    thread = await thread_factory(community=community, author=member)
    page = await client.get(f"/t/{thread['id']}")
    assert "vouched for by 2 members" in page.text
    withdrawn = await experience.unvouch(await viewer_of(third), tag["id"])
    assert withdrawn["vouch_count"] == 1


async def test_nobody_vouches_for_themselves_and_outsiders_cannot_vouch(
    member, outsider, community
):
    tag = await declare(member, community)
    with pytest.raises(Forbidden):
        await experience.vouch(await viewer_of(member), tag["id"])
    with pytest.raises(Forbidden):
        await experience.vouch(await viewer_of(outsider), tag["id"])


async def test_a_moderator_confirms_a_tag_and_the_log_records_it(
    client, member, other_member, moderator, community, thread_factory
):
    tag = await declare(member, community)
    with pytest.raises(Forbidden):
        await experience.confirm(await viewer_of(other_member), tag["id"])
    await experience.confirm(await viewer_of(moderator), tag["id"], note="Known to us")
    entry = await AuditEntry.select().where(AuditEntry.action == "confirm_experience").first()
    assert entry["target_user_id"] == member["id"] and entry["note"] == "Known to us"
    thread = await thread_factory(community=community, author=member)
    page = await client.get(f"/t/{thread['id']}")
    assert "confirmed by a moderator" in page.text
    await experience.confirm(await viewer_of(moderator), tag["id"], confirmed=False)
    assert await AuditEntry.exists().where(AuditEntry.action == "unconfirm_experience")


async def test_a_hidden_tag_disappears_for_everyone_but_its_owner(
    client, make_client, member, other_member, community, thread_factory
):
    tag = await declare(member, community)
    await experience.vouch(await viewer_of(other_member), tag["id"])
    hidden = await experience.set_hidden(await viewer_of(member), tag["id"], True)
    assert hidden["hidden"]
    thread = await thread_factory(community=community, author=member)
    assert not shows(await client.get(f"/t/{thread['id']}"), "Patient · since 2009")
    assert not shows(await client.get(f"/u/{member['username']}"), "Patient · since 2009")
    with pytest.raises(NotFound):  # nobody else can act on it, or learn it exists
        await experience.vouch(await viewer_of(other_member), tag["id"])
    async with make_client() as own:
        await sign_in(own, member)
        mine = await own.get(f"/u/{member['username']}")
        assert shows(mine, "Patient · since 2009") and "only you can see it" in mine.text
    await experience.set_hidden(await viewer_of(member), tag["id"], False)
    assert shows(await client.get(f"/t/{thread['id']}"), "Patient · since 2009")


async def test_changing_what_a_tag_says_clears_vouches_and_confirmation(
    member, other_member, moderator, community
):
    tag = await declare(member, community)
    await experience.vouch(await viewer_of(other_member), tag["id"])
    await experience.confirm(await viewer_of(moderator), tag["id"])
    same, created = await experience.declare(
        await viewer_of(member),
        community["slug"],
        "patient",
        since=2009,
        treatments=["pump user"],
        note="Only the note changed",
    )
    assert not created and same["standing"] == "confirmed" and same["vouch_count"] == 1
    changed, _ = await experience.declare(
        await viewer_of(member), community["slug"], "caregiver", since=2015
    )
    assert changed["label"] == "Caregiver · since 2015"
    assert changed["standing"] == "self_declared" and changed["vouch_count"] == 0


async def test_declaring_needs_membership_and_sensible_values(member, outsider, community):
    with pytest.raises(Forbidden):
        await experience.declare(await viewer_of(outsider), community["slug"], "patient")
    with pytest.raises(Invalid) as error:
        await experience.declare(
            await viewer_of(member),
            community["slug"],
            "cousin",
            since="last year",
            treatments=["x" * 41],
            note="n" * 281,
        )
    assert set(error.value.fields) == {"relation", "since", "treatments", "note"}
    with pytest.raises(Invalid):
        await experience.declare(await viewer_of(member), community["slug"], "patient", since=3000)
    with pytest.raises(Invalid):
        await experience.declare(
            await viewer_of(member),
            community["slug"],
            "patient",
            treatments=[f"t{n}" for n in range(9)],
        )


async def test_tags_in_a_private_community_stay_private(client, admin, member, private_community):
    from forum import communities

    await communities.add_member(await viewer_of(admin), private_community["slug"], "maria")
    await declare(member, private_community, relation="partner")
    assert "Partner" not in (await client.get(f"/u/{member['username']}")).text
    profile = (await client.get(f"/api/v1/users/{member['username']}")).json()
    assert profile["experience"] == []


async def test_the_experience_page_declares_hides_and_deletes(client, member, community):
    await sign_in(client, member)
    page = await client.get("/me/experience")
    assert page.status_code == 200 and "How do you know it?" in page.text
    response = await post_form(
        client,
        "/me/experience",
        {
            "community": community["slug"],
            "relation": "caregiver",
            "since": "2019",
            "treatments": "heart failure clinic, diuretics",
            "note": "",
        },
        "/me/experience",
    )
    assert response.status_code == 303
    tags = await experience.my_tags(await viewer_of(member))
    assert tags[0]["label"] == "Caregiver · since 2019 · heart failure clinic · diuretics"
    bad = await post_form(
        client,
        "/me/experience",
        {"community": community["slug"], "relation": "caregiver", "since": "soon"},
        "/me/experience",
    )
    assert bad.status_code == 422 and "Give the year" in bad.text
    await post_form(
        client, f"/me/experience/{tags[0]['id']}/visibility", {"hidden": "1"}, "/me/experience"
    )
    assert (await experience.my_tags(await viewer_of(member)))[0]["hidden"]
    await post_form(client, f"/me/experience/{tags[0]['id']}/delete", {}, "/me/experience")
    assert await experience.my_tags(await viewer_of(member)) == []


async def test_vouching_and_confirming_from_the_profile_page(
    client, member, other_member, moderator, community
):
    tag = await declare(member, community)
    await sign_in(client, other_member)
    profile = await client.get(f"/u/{member['username']}")
    assert "I vouch for this" in profile.text and "Confirm (moderator)" not in profile.text
    done = await post_form(
        client, f"/experience/{tag['id']}/vouch", {"next": f"/u/{member['username']}"}
    )
    assert done.status_code == 303 and done.headers["location"] == f"/u/{member['username']}"
    assert "Take back your vouch" in (await client.get(f"/u/{member['username']}")).text
    await sign_in(client, moderator)
    assert "Confirm (moderator)" in (await client.get(f"/u/{member['username']}")).text
    await post_form(client, f"/experience/{tag['id']}/confirm", {"confirmed": "1"})
    assert (await experience.my_tags(await viewer_of(member)))[0]["standing"] == "confirmed"


async def test_the_experience_api(client, member, other_member, moderator, community):
    headers = await api_token(client, member)
    created = await client.post(
        "/api/v1/me/experience",
        json={"community": community["slug"], "relation": "patient", "since": 2004},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    tag = created.json()
    assert tag["label"] == "Patient · since 2004" and tag["standing"] == "self_declared"
    updated = await client.post(
        "/api/v1/me/experience",
        json={"community": community["slug"], "relation": "patient", "since": 2004, "note": "hi"},
        headers=headers,
    )
    assert updated.status_code == 200
    other = await api_token(client, other_member)
    vouched = await client.post(f"/api/v1/experience/{tag['id']}/vouch", headers=other)
    assert vouched.json()["vouch_count"] == 1
    mod = await api_token(client, moderator)
    confirmed = await client.post(
        f"/api/v1/experience/{tag['id']}/confirm", json={"confirmed": True}, headers=mod
    )
    assert confirmed.status_code == 200
    hidden = await client.patch(
        f"/api/v1/me/experience/{tag['id']}", json={"hidden": True}, headers=headers
    )
    assert hidden.json()["hidden"] is True
    mine = await client.get("/api/v1/me/experience", headers=headers)
    assert mine.json()["items"][0]["confirmed"] is True
    public = (await client.get(f"/api/v1/users/{member['username']}")).json()
    assert public["experience"] == []
    bad = await client.post(
        "/api/v1/me/experience",
        json={"community": community["slug"], "relation": "cousin"},
        headers=headers,
    )
    assert bad.status_code == 422 and "relation" in bad.json()["error"]["fields"]
    gone = await client.delete(f"/api/v1/me/experience/{tag['id']}", headers=headers)
    assert gone.status_code == 200
