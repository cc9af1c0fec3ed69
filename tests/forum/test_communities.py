"""Communities: listing, creating (admins), joining and leaving, and private ones kept private."""

from __future__ import annotations

import pytest

from forum import communities
from forum.errors import Forbidden, NotFound
from tests.conftest import api_token, post_form, shows, sign_in, viewer_of


async def test_admin_creates_a_community_from_the_page(client, admin):
    await sign_in(client, admin)
    response = await post_form(
        client,
        "/communities/new",
        {
            "name": "Type 1 diabetes",
            "slug": "type-1-diabetes",
            "description": "Pumps, pens and **CGMs**.",
            "visibility": "public",
        },
        "/communities/new",
    )
    assert response.status_code == 303
    page = await client.get("/c/type-1-diabetes")
    assert page.status_code == 200
    assert "<strong>CGMs</strong>" in page.text


async def test_community_form_names_the_bad_field_and_keeps_the_text(client, admin):
    await sign_in(client, admin)
    response = await post_form(
        client,
        "/communities/new",
        {
            "name": "Heart failure",
            "slug": "Heart Failure!",
            "description": "draft text",
            "visibility": "public",
        },
        "/communities/new",
    )
    assert response.status_code == 422
    assert 'id="f-slug-error"' in response.text
    assert "draft text" in response.text


async def test_a_duplicate_address_is_a_conflict(client, admin, community):
    headers = await api_token(client, admin)
    response = await client.post(
        "/api/v1/communities", json={"slug": community["slug"], "name": "Again"}, headers=headers
    )
    assert response.status_code == 409
    assert response.json()["error"]["fields"]["slug"]


async def test_members_cannot_create_communities(client, member):
    headers = await api_token(client, member)
    response = await client.post(
        "/api/v1/communities", json={"slug": "mine", "name": "Mine"}, headers=headers
    )
    assert response.status_code == 403
    await sign_in(client, member)
    assert (await client.get("/communities/new")).status_code == 403


async def test_joining_and_leaving_a_public_community(client, outsider, community):
    await sign_in(client, outsider)
    joined = await post_form(client, f"/c/{community['slug']}/join", {}, f"/c/{community['slug']}")
    assert joined.status_code == 303
    page = await client.get(f"/c/{community['slug']}")
    assert "Leave this community" in page.text
    await post_form(client, f"/c/{community['slug']}/leave", {}, f"/c/{community['slug']}")
    page = await client.get(f"/c/{community['slug']}")
    assert "Join this community" in page.text


async def test_joining_twice_keeps_one_membership(settings, outsider, community):
    viewer = await viewer_of(outsider)
    await communities.join(viewer, community["slug"])
    await communities.join(await viewer_of(outsider), community["slug"])
    page = await communities.get_community(await viewer_of(outsider), community["slug"])
    assert page["member_count"] == 1


async def test_visitors_are_asked_to_sign_in_to_join(client, community):
    response = await client.post(f"/c/{community['slug']}/join", data={})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


# Private communities ----------------------------------------------------------------------


@pytest.fixture
async def private_thread(admin, private_community, thread_factory, settings):
    insider = await viewer_of(admin)
    await communities.add_member(insider, private_community["slug"], "ada_admin")
    return await thread_factory(
        community=private_community, author=admin, title="Telling my family about my status"
    )


@pytest.mark.parametrize("who", ["visitor", "outsider", "member_elsewhere"])
async def test_private_community_and_its_threads_are_404_to_non_members(
    client, who, private_community, private_thread, outsider, member
):
    person = {"outsider": outsider, "member_elsewhere": member}.get(who)
    headers = {}
    if person:
        await sign_in(client, person)
        headers = await api_token(client, person)
    for path in (
        f"/c/{private_community['slug']}",
        f"/t/{private_thread['id']}",
        f"/c/{private_community['slug']}/new",
    ):
        response = await client.get(path)
        assert response.status_code in (404, 303), path
        if response.status_code == 303:
            assert who == "visitor"
        assert "Telling my family" not in response.text
    for path in (
        f"/api/v1/communities/{private_community['slug']}",
        f"/api/v1/communities/{private_community['slug']}/threads",
        f"/api/v1/threads/{private_thread['id']}",
        f"/api/v1/posts/{private_thread['post_id']}",
    ):
        response = await client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert "Telling my family" not in response.text
    home = await client.get("/")
    assert "Living with HIV" not in home.text and "Telling my family" not in home.text
    listing = await client.get("/api/v1/communities", headers=headers)
    assert all(item["slug"] != private_community["slug"] for item in listing.json()["items"])


async def test_private_community_cannot_be_joined_or_posted_to_by_outsiders(
    client, outsider, private_community, private_thread
):
    headers = await api_token(client, outsider)
    join = await client.post(
        f"/api/v1/communities/{private_community['slug']}/join", headers=headers
    )
    assert join.status_code == 404
    reply = await client.post(
        f"/api/v1/threads/{private_thread['id']}/posts", json={"body": "hi"}, headers=headers
    )
    assert reply.status_code == 404


async def test_members_added_by_a_moderator_see_the_private_community(
    client, admin, outsider, private_community, private_thread
):
    await communities.add_member(
        await viewer_of(admin), private_community["slug"], outsider["username"]
    )
    await sign_in(client, outsider)
    page = await client.get(f"/t/{private_thread['id']}")
    assert page.status_code == 200
    assert shows(page, "Telling my family about my status")
    home = await client.get("/")
    assert "Living with HIV" in home.text


async def test_only_moderators_add_members_and_only_admins_appoint_moderators(
    settings, admin, member, outsider, community, moderator
):
    with pytest.raises(Forbidden):
        await communities.add_member(
            await viewer_of(member), community["slug"], outsider["username"]
        )
    with pytest.raises(Forbidden):
        await communities.add_member(
            await viewer_of(moderator), community["slug"], outsider["username"], role="moderator"
        )
    await communities.add_member(
        await viewer_of(moderator), community["slug"], outsider["username"]
    )
    with pytest.raises(NotFound):
        await communities.add_member(await viewer_of(admin), community["slug"], "no-such-person")


async def test_the_home_page_pages_through_many_communities(client, admin):
    viewer = await viewer_of(admin)
    for number in range(35):
        await communities.create_community(
            viewer, slug=f"condition-{number:02d}", name=f"Condition {number:02d}"
        )
    first = await client.get("/")
    assert "Condition 29" in first.text and "Condition 30" not in first.text
    second = await client.get("/?page=2")
    assert "Condition 34" in second.text and "Page 2 of 2" in second.text


async def test_the_fast_community_read_matches_piccolos_row(community, private_community):
    """find_community reads through db.read (no Piccolo query objects); the row, its keys,
    values and types, must be what Community.select() gives."""
    from forum.communities import find_community
    from forum.tables import Community

    for slug in (community["slug"], private_community["slug"]):
        piccolo = await Community.select().where(Community.slug == slug).first()
        fast = await find_community(slug.upper())
        assert fast == piccolo
        assert {key: type(value) for key, value in fast.items()} == {
            key: type(value) for key, value in piccolo.items()
        }
    assert await find_community("no-such-place") is None
