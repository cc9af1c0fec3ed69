"""Community guidelines: versioned, accepted on joining, asked again when they change; and the
orientation a new member sees on their first visit."""

from __future__ import annotations

import pytest

from forum import communities, guidelines, stories, threads
from forum.errors import Forbidden
from forum.guidelines import GuidelinesNotAccepted
from forum.tables import MemberOnboarding
from moderation.tables import AuditEntry
from tests.conftest import api_token, post_form, shows, sign_in, viewer_of

RULES = "Be kind. **No medical advice without sources.**"


async def publish(moderator, slug="celiac", body=RULES, note="First version"):
    return await guidelines.publish(await viewer_of(moderator), slug, body, note)


async def test_a_community_without_guidelines_needs_no_acceptance(outsider, community):
    joined = await communities.join(await viewer_of(outsider), community["slug"])
    assert joined["slug"] == "celiac"


async def test_joining_asks_for_the_current_version(outsider, moderator, community):
    await publish(moderator)
    viewer = await viewer_of(outsider)
    with pytest.raises(GuidelinesNotAccepted) as missing:
        await communities.join(viewer, "celiac")
    assert missing.value.status == 422 and missing.value.extra["guidelines"]["version"] == 1
    await publish(moderator, body=RULES + " Be patient.", note="Patience")
    with pytest.raises(GuidelinesNotAccepted) as stale:
        await communities.join(viewer, "celiac", accepted_version=1)
    assert stale.value.status == 409
    await communities.join(viewer, "celiac", accepted_version=2)
    row = await MemberOnboarding.select().where(MemberOnboarding.user == outsider["id"]).first()
    assert row["accepted_version"] == 2
    assert community["id"] in (await viewer_of(outsider)).member_of


async def test_the_join_page_shows_the_guidelines_with_an_accept_box(client, outsider, moderator):
    await publish(moderator)
    await sign_in(client, outsider)
    community_page = await client.get("/c/celiac")
    assert 'href="/c/celiac/join"' in community_page.text
    page = await client.get("/c/celiac/join")
    assert "<strong>No medical advice without sources.</strong>" in page.text
    assert 'name="accept_guidelines_version" value="1"' in page.text
    refused = await post_form(client, "/c/celiac/join", {}, "/c/celiac/join")
    assert refused.status_code == 422 and shows(refused, "tick “I accept”")
    joined = await post_form(
        client, "/c/celiac/join", {"accept_guidelines_version": "1"}, "/c/celiac/join"
    )
    assert joined.status_code == 303


async def test_the_api_join_takes_the_accepted_version(client, outsider, moderator):
    await publish(moderator)
    headers = await api_token(client, outsider)
    info = await client.get("/api/v1/communities/celiac/guidelines", headers=headers)
    assert info.json()["version"] == 1 and info.json()["accepted_version"] == 0
    refused = await client.post("/api/v1/communities/celiac/join", headers=headers)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "guidelines_not_accepted" and error["guidelines"]["version"] == 1
    stale = await client.post(
        "/api/v1/communities/celiac/join", json={"accept_guidelines_version": 7}, headers=headers
    )
    assert stale.status_code == 409
    joined = await client.post(
        "/api/v1/communities/celiac/join", json={"accept_guidelines_version": 1}, headers=headers
    )
    assert joined.status_code == 200 and joined.json()["joined"] is True
    document = (await client.get("/api/v1/openapi.json")).json()
    join_body = document["paths"]["/api/v1/communities/{slug}/join"]["post"]["requestBody"]
    assert "accept_guidelines_version" in str(join_body)


async def test_a_new_version_asks_members_again_before_they_post(
    client, settings, member, moderator, community, thread_factory
):
    thread = await thread_factory(community=community, author=member)  # joined without any
    await publish(moderator)
    await sign_in(client, member)
    page = await client.get("/c/celiac")
    assert "has updated its guidelines" in page.text
    assert 'action="/c/celiac/guidelines/accept"' in page.text
    # Posting waits, gently: the text is kept and the way to accept is linked.
    reply = await post_form(
        client, f"/t/{thread['id']}/reply", {"body": "My words, kept."}, f"/t/{thread['id']}"
    )
    assert reply.status_code == 409
    assert "My words, kept." in reply.text and 'href="/c/celiac/guidelines"' in reply.text
    with pytest.raises(GuidelinesNotAccepted):
        await threads.start_thread(
            settings,
            await viewer_of(member),
            "celiac",
            threads.Draft(title="A new question", body="Hello"),
        )
    headers = await api_token(client, member)
    api_reply = await client.post(
        f"/api/v1/threads/{thread['id']}/posts", json={"body": "Hello"}, headers=headers
    )
    assert api_reply.status_code == 409
    assert api_reply.json()["error"]["code"] == "guidelines_not_accepted"
    accepted = await post_form(
        client,
        "/c/celiac/guidelines/accept",
        {"accept_guidelines_version": "1", "next": "/c/celiac"},
        "/c/celiac",
    )
    assert accepted.status_code == 303
    page = await client.get("/c/celiac")
    assert "has updated its guidelines" not in page.text
    assert "The guidelines of Celiac disease (version 1)" in page.text  # shown on its page
    again = await post_form(
        client, f"/t/{thread['id']}/reply", {"body": "My words, kept."}, f"/t/{thread['id']}"
    )
    assert again.status_code == 303


async def test_stories_and_comments_in_the_community_wait_too(
    settings, member, other_member, moderator
):
    def draft(title: str) -> stories.StoryDraft:
        return stories.StoryDraft(
            title=title, body="It was hard, then it got better.", community="celiac"
        )

    theirs = await stories.create_story(
        settings, await viewer_of(other_member), draft("Dev's year"), publish=True,
        confirm_consent=True,
    )  # fmt: skip
    mine = await stories.create_story(settings, await viewer_of(member), draft("My first year"))
    await publish(moderator)
    with pytest.raises(GuidelinesNotAccepted):
        await stories.publish_story(
            settings, await viewer_of(member), mine["id"], confirm_consent=True
        )
    with pytest.raises(GuidelinesNotAccepted):
        await stories.post_comment(settings, await viewer_of(member), theirs["id"], "Thank you")


async def test_moderators_write_versions_and_each_is_logged(client, moderator, member):
    await sign_in(client, moderator)
    edit = await client.get("/c/celiac/guidelines/edit")
    assert edit.status_code == 200
    saved = await post_form(
        client,
        "/c/celiac/guidelines/edit",
        {"body": RULES, "note": "First version"},
        "/c/celiac/guidelines/edit",
    )
    assert saved.status_code == 303
    await post_form(
        client,
        "/c/celiac/guidelines/edit",
        {"body": RULES + " Cite sources.", "note": "Sources"},
        "/c/celiac/guidelines/edit",
    )
    page = await client.get("/c/celiac/guidelines")
    assert "Cite sources." in page.text and "Version 2" in page.text
    old = await client.get("/c/celiac/guidelines?version=1")
    assert "An earlier version" in old.text and "Cite sources." not in old.text
    entries = await AuditEntry.select().where(AuditEntry.action == "edit_guidelines")
    assert [(e["before"], e["after"]) for e in entries] == [
        ('{"version": 0}', '{"version": 1}'),
        ('{"version": 1}', '{"version": 2}'),
    ]
    with pytest.raises(Forbidden):
        await guidelines.publish(await viewer_of(member), "celiac", "Mine now", "")
    empty = await post_form(
        client, "/c/celiac/guidelines/edit", {"body": " "}, "/c/celiac/guidelines/edit"
    )
    assert empty.status_code == 422


async def test_the_orientation_shows_on_the_first_visit_until_dismissed(
    client, outsider, community
):
    await sign_in(client, outsider)
    await post_form(client, "/c/celiac/join", {}, "/c/celiac")
    first = await client.get("/c/celiac")
    assert "how it works here" in first.text and 'href="/crisis"' in first.text
    assert "Ask a clinician" in first.text and "Flag what worries you" in first.text
    dismissed = await post_form(client, "/c/celiac/welcome/dismiss", {}, "/c/celiac")
    assert dismissed.status_code == 303
    assert "how it works here" not in (await client.get("/c/celiac")).text
    welcome = await client.get("/c/celiac/welcome")
    assert welcome.status_code == 200 and "Flag what worries you" in welcome.text
