"""Profiles with per-field privacy, the data export and deleting an account."""

from __future__ import annotations

import json

import pytest

from forum import accounts, clinicians, communities, experience, profiles, reactions, threads
from forum.errors import Invalid, NotFound
from forum.permissions import VISITOR
from forum.tables import Post, Thread, User
from moderation import flags
from search.tables import SearchOutbox
from tests.conftest import PASSWORD, api_token, post_form, shows, sign_in, viewer_of


async def test_a_profile_shows_communities_tags_badges_and_recent_activity(
    client, admin, member, community, private_community, thread_factory
):
    await communities.add_member(await viewer_of(admin), private_community["slug"], "maria")
    await experience.declare(await viewer_of(member), community["slug"], "patient", since=2004)
    await thread_factory(community=community, author=member, title="Eating out in Rome?")
    await thread_factory(community=private_community, author=member, title="A private worry")
    page = await client.get(f"/u/{member['username']}")
    assert page.status_code == 200
    assert "Celiac disease" in page.text and "Living with HIV" not in page.text
    assert "Patient · since 2004" in page.text and "First post" in page.text
    assert shows(page, "Eating out in Rome?") and "A private worry" not in page.text
    await sign_in(client, member)
    own = await client.get(f"/u/{member['username']}")
    assert "Living with HIV" in own.text and "A private worry" in own.text


async def test_each_part_of_a_profile_has_its_own_audience(
    client, make_client, member, other_member, community, thread_factory
):
    await accounts.update_profile(await viewer_of(member), bio="I bake gluten free bread.")
    await experience.declare(await viewer_of(member), community["slug"], "patient", since=2004)
    await thread_factory(community=community, author=member, title="Eating out in Rome?")
    await profiles.set_privacy(
        await viewer_of(member),
        {"bio": "members", "experience": "only_me", "activity": "only_me", "badges": "members"},
    )
    visitor = await client.get(f"/u/{member['username']}")
    assert "I bake gluten free bread" not in visitor.text
    assert "Patient · since 2004" not in visitor.text and "First post" not in visitor.text
    assert not shows(visitor, "Eating out in Rome?") and "Celiac disease" in visitor.text
    async with make_client() as other:
        await sign_in(other, other_member)
        seen = await other.get(f"/u/{member['username']}")
        assert "I bake gluten free bread" in seen.text and "First post" in seen.text
        assert "Patient · since 2004" not in seen.text
    api = (await client.get(f"/api/v1/users/{member['username']}")).json()
    assert api["bio"] is None and api["experience"] is None and api["recent_activity"] is None
    assert api["communities"] == [{"slug": "celiac", "name": "Celiac disease", "role": "member"}]
    with pytest.raises(Invalid):
        await profiles.set_privacy(await viewer_of(member), {"bio": "friends"})
    with pytest.raises(Invalid):
        await profiles.set_privacy(await viewer_of(member), {"email": "everyone"})


async def test_privacy_is_chosen_on_the_settings_page(client, member):
    await sign_in(client, member)
    settings_page = await client.get("/settings")
    assert (
        "Who sees your profile" in settings_page.text and "Download my data" in settings_page.text
    )
    response = await post_form(
        client, "/settings/privacy", {"bio": "only_me", "communities": "members"}, "/settings"
    )
    assert response.status_code == 303
    privacy = await profiles.privacy_of(member["id"])
    assert privacy["bio"] == "only_me" and privacy["communities"] == "members"
    assert privacy["badges"] == "everyone"
    headers = await api_token(client, member)
    api = await client.patch("/api/v1/me/privacy", json={"activity": "members"}, headers=headers)
    assert api.json()["activity"] == "members" and api.json()["bio"] == "only_me"
    bad = await client.patch("/api/v1/me/privacy", json={"activity": "nobody"}, headers=headers)
    assert bad.status_code == 422


async def test_the_export_holds_everything_the_member_wrote_and_every_row_about_them(
    client,
    settings,
    admin,
    member,
    other_member,
    moderator,
    community,
    thread_factory,
    reply_factory,
):
    viewer = await viewer_of(member)
    await accounts.update_profile(viewer, bio="My bio.")
    thread = await thread_factory(community=community, author=member, title="My own question")
    others = await thread_factory(community=community, author=other_member)
    reply = await reply_factory(thread=others, author=member, body="My reply, my words.")
    await threads.edit_post(viewer, reply["id"], "My reply, edited.", settings=settings)
    await experience.declare(viewer, community["slug"], "patient", since=2004)
    await reactions.react(settings, viewer, others["post_id"], "support")
    await flags.flag_post(viewer, others["post_id"], "spam", "Looks like an advert")
    await clinicians.apply(
        viewer,
        clinicians.Application(
            profession="Dietitian",
            specialty="nutrition",
            license_region="UK",
            license_number="DT12345",
        ),
    )
    await profiles.set_privacy(viewer, {"bio": "members"})
    headers = await api_token(client, member)
    response = await client.get("/api/v1/me/export", headers=headers)
    assert response.status_code == 200
    data = response.json()
    assert data["format"] == "kindred-export-1"
    assert data["account"]["username"] == "maria" and data["account"]["bio"] == "My bio."
    assert "password_hash" not in response.text and "session_epoch" not in response.text
    tables = data["tables"]
    assert [row["id"] for row in tables["thread"]] == [thread["id"]]
    assert tables["thread"][0]["title"] == "My own question"
    bodies = {row["body"] for row in tables["post"]}
    assert "My reply, edited." in bodies and any("gluten free" in b for b in bodies)
    assert [row["body"] for row in tables["post_revision"]] == ["My reply, my words."]
    assert tables["experience_tag"][0]["since_year"] == 2004
    assert tables["reaction"][0]["kind"] == "support"
    assert tables["moderation_flag"][0]["note"] == "Looks like an advert"
    assert tables["clinician_application"][0]["license_number"] == "DT12345"
    assert {row["community"] for row in tables["membership"]} == {community["id"]}
    assert [row["badge"] for row in tables["badge_award"]] == ["first_post"]
    assert tables["profile_privacy"][0]["bio"] == "members"
    assert data["privacy"]["bio"] == "members"
    # Nobody else's words: the other member's thread is not in it.
    assert others["id"] not in {row["id"] for row in tables["thread"]}


async def test_the_export_downloads_from_settings(client, member):
    await sign_in(client, member)
    response = await client.get("/settings/export")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    assert json.loads(response.text)["account"]["username"] == "maria"
    client.cookies.clear()
    assert (await client.get("/settings/export")).status_code == 303


async def test_deleting_an_account_keeps_posts_as_a_former_members(
    app, client, settings, member, other_member, community, thread_factory, reply_factory
):
    thread = await thread_factory(community=community, author=member, title="Kept for others")
    reply = await reply_factory(thread=thread, author=other_member, body="Answering you.")
    await experience.declare(await viewer_of(member), community["slug"], "patient", since=2004)
    await reactions.react(settings, await viewer_of(member), reply["id"], "helpful")
    await accounts.update_profile(await viewer_of(member), bio="Private things about me.")
    await sign_in(client, member)
    question = await client.get("/settings/delete")
    assert question.status_code == 200 and "Delete your account?" in question.text
    wrong = await post_form(client, "/settings/delete", {"password": "not it"}, "/settings/delete")
    assert wrong.status_code == 422
    await SearchOutbox.delete(force=True)
    done = await post_form(client, "/settings/delete", {"password": PASSWORD}, "/settings/delete")
    assert done.status_code == 303
    row = await User.select().where(User.id == member["id"]).first()
    assert row["display_name"] == "Former member" and row["status"] == "deleted"
    assert row["email"] is None and row["bio"] == "" and row["username"] != "maria"
    assert (await client.get("/settings")).status_code in (302, 303)  # signed out
    page = await client.get(f"/t/{thread['id']}")
    assert "Kept for others" in page.text and "A former member" in page.text
    assert "Patient · since 2004" not in page.text and "Maria" not in page.text
    assert (await client.get("/u/maria")).status_code == 404
    summary = await reactions.summary(await viewer_of(other_member), reply["id"])
    assert summary["counts"]["helpful"] == 0
    assert await SearchOutbox.exists().where(SearchOutbox.object_id == thread["id"])
    with pytest.raises(Exception):  # noqa: B017 - the password no longer works
        await accounts.authenticate(settings, "maria", PASSWORD)
    assert await experience.ExperienceTag.count() == 0


async def test_deleting_an_account_can_remove_the_posts_too(
    client, settings, member, other_member, community, thread_factory, reply_factory
):
    alone = await thread_factory(community=community, author=member, title="Nobody answered")
    answered = await thread_factory(community=community, author=member, title="Others joined")
    await reply_factory(thread=answered, author=other_member, body="I joined in.")
    theirs = await thread_factory(community=community, author=other_member, title="Theirs")
    mine = await reply_factory(thread=theirs, author=member, body="My reply there.")
    headers = await api_token(client, member)
    response = await client.request(
        "DELETE",
        "/api/v1/me",
        json={"password": PASSWORD, "remove_posts": True},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    statuses = {row["id"]: row["status"] for row in await Thread.select(Thread.id, Thread.status)}
    assert statuses[alone["id"]] == "deleted" and statuses[answered["id"]] == "published"
    post = await Post.select(Post.status, Post.author).where(Post.id == mine["id"]).first()
    assert post == {"status": "deleted", "author": None}
    page = await client.get(f"/t/{answered['id']}")
    assert "This post was deleted by its author." in page.text and "I joined in." in page.text
    assert (await client.get(f"/t/{alone['id']}")).status_code == 404
    count = await Thread.select(Thread.reply_count).where(Thread.id == theirs["id"]).first()
    assert count["reply_count"] == 0
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401


async def test_a_clinicians_pending_application_is_withdrawn_with_the_account(
    client, member, moderator
):
    from moderation import queue

    await clinicians.apply(
        await viewer_of(member),
        clinicians.Application(
            profession="Nurse", specialty="cardiology", license_region="UK", license_number="123"
        ),
    )
    headers = await api_token(client, member)
    response = await client.request(
        "DELETE", "/api/v1/me", json={"password": PASSWORD}, headers=headers
    )
    assert response.status_code == 200
    assert (await queue.list_queue(await viewer_of(moderator))).total == 0


async def test_deleted_profiles_are_not_found(member):
    await profiles.delete_account(None, await viewer_of(member), PASSWORD)
    with pytest.raises(NotFound):
        await profiles.profile(VISITOR, "maria")


async def test_deleting_needs_the_password(client, member):
    headers = await api_token(client, member)
    for body in ({"password": "wrong"}, {}, {"password": PASSWORD, "remove_posts": "yes"}):
        response = await client.request("DELETE", "/api/v1/me", json=body, headers=headers)
        assert response.status_code == 422, body


@pytest.mark.parametrize("remove", [False, True])
async def test_other_features_content_follows_the_account_deletion(client, member, remove):
    """Tables added by other features (stories here) are handled through their foreign keys:
    a draft only its author saw goes, published content goes only if asked, the name goes."""
    from datetime import UTC, datetime

    from forum.tables import Story

    now = datetime.now(UTC)
    ids = {}
    for status in ("draft", "published"):
        rows = await Story.insert(
            Story(
                author=member["id"],
                title=f"A {status} story",
                body="Words.",
                body_html="<p>Words.</p>",
                policy_version=1,
                status=status,
                created_at=now,
                updated_at=now,
            )
        ).returning(Story.id)
        ids[status] = rows[0]["id"]
    await SearchOutbox.delete(force=True)
    await profiles.delete_account(None, await viewer_of(member), PASSWORD, remove_posts=remove)
    stories = {row["id"]: row for row in await Story.select(Story.id, Story.status, Story.author)}
    assert stories[ids["draft"]]["status"] == "deleted"
    assert stories[ids["published"]]["status"] == ("deleted" if remove else "published")
    assert all(row["author"] is None for row in stories.values())
    queued = await SearchOutbox.select(SearchOutbox.kind, SearchOutbox.object_id)
    assert {"kind": "story", "object_id": ids["published"]} in queued
