"""Stories: drafts, the consent gate, publishing, content warnings, editing with history,
withdrawing, comments, and who sees what."""

from __future__ import annotations

import pytest

from forum import stories
from forum.errors import Conflict, Forbidden, Invalid, NotFound
from forum.tables import Story, StoryRevision
from moderation.tables import ModerationItem
from search import outbox
from tests.conftest import api_token, post_form, shows, sign_in, viewer_of
from tests.moderation.conftest import CLAIM
from tests.stories.conftest import STORY_BODY


async def test_a_draft_is_seen_by_its_author_alone(
    client, make_client, member, other_member, community, story_factory
):
    draft = await story_factory(author=member, community=community, publish=False)
    assert draft["status"] == "draft"
    with pytest.raises(NotFound):
        await stories.get_story(await viewer_of(other_member), draft["id"])
    assert (await client.get(f"/s/{draft['id']}")).status_code == 404
    await sign_in(client, member)
    page = await client.get(f"/s/{draft['id']}")
    assert page.status_code == 200 and "Draft: only you can see it" in page.text
    assert "Publish your story" in page.text
    listed = await client.get("/stories")
    assert draft["title"] not in listed.text


async def test_publishing_needs_consent_the_first_time(settings, member, community, story_factory):
    draft = await story_factory(author=member, community=community, publish=False)
    viewer = await viewer_of(member)
    with pytest.raises(Invalid) as error:
        await stories.publish_story(settings, viewer, draft["id"])
    assert "confirm_consent" in error.value.fields
    assert (await Story.select(Story.status).where(Story.id == draft["id"]).first())[
        "status"
    ] == "draft"
    published = await stories.publish_story(settings, viewer, draft["id"], confirm_consent=True)
    assert published["status"] == "published"
    row = await Story.select().where(Story.id == draft["id"]).first()
    assert row["consent_confirmed_by"] == member["id"] and row["consent_confirmed_at"] is not None
    assert row["published_at"] is not None


async def test_creating_and_publishing_at_once_without_consent_stores_nothing(
    settings, member, community
):
    with pytest.raises(Invalid) as error:
        await stories.create_story(
            settings,
            await viewer_of(member),
            stories.StoryDraft(title="My story so far", body="Some words."),
            publish=True,
        )
    assert "confirm_consent" in error.value.fields
    assert await Story.count() == 0


async def test_the_consent_box_is_on_the_form_and_enforced(client, member, community):
    await sign_in(client, member)
    form = await client.get("/s/new")
    assert form.status_code == 200 and 'name="confirm_consent"' in form.text
    refused = await post_form(
        client,
        "/s/new",
        {"title": "Discharge day", "body": "It was a long day.", "action": "publish"},
        "/s/new",
    )
    assert refused.status_code == 422
    assert shows(refused, stories.CONSENT_MESSAGE)
    assert shows(refused, "It was a long day.")  # the text is kept
    done = await post_form(
        client,
        "/s/new",
        {
            "title": "Discharge day",
            "body": "It was a long day.",
            "action": "publish",
            "confirm_consent": "1",
            "community": community["slug"],
            "warning": "graphic medical images",
        },
        "/s/new",
    )
    assert done.status_code == 303
    story_id = int(done.headers["location"].rsplit("/", 1)[1])
    row = await Story.select().where(Story.id == story_id).first()
    assert row["status"] == "published" and row["community"] == community["id"]
    assert stories.warnings_of(row) == ["graphic medical images"]


async def test_a_published_story_is_on_its_page_the_list_and_the_community(
    client, member, community, story_factory
):
    story = await story_factory(author=member, community=community)
    page = await client.get(f"/s/{story['id']}")
    assert page.status_code == 200
    assert "<h3>The first weeks</h3>" in page.text  # headings start below the page's h1
    assert "<blockquote>" in page.text and 'href="https://example.org/kitchen.jpg"' in page.text
    assert story["title"] in (await client.get("/stories")).text
    community_page = await client.get(f"/c/{community['slug']}")
    assert "Stories from this community" in community_page.text
    assert story["title"] in community_page.text


async def test_a_content_warning_hides_the_story_until_the_reader_clicks_through(
    client, member, other_member, community, story_factory
):
    story = await story_factory(
        author=member,
        community=community,
        body="The scan showed *no heartbeat*.",
        warnings=("pregnancy loss",),
    )
    gate = await client.get(f"/s/{story['id']}")
    assert gate.status_code == 200
    assert "pregnancy loss" in gate.text and "Show the story" in gate.text
    assert f'href="/s/{story["id"]}?show=1"' in gate.text
    assert "no heartbeat" not in gate.text
    shown = await client.get(f"/s/{story['id']}?show=1")
    assert "<em>no heartbeat</em>" in shown.text
    # Lists never show the words of a story with a warning either.
    for path in ("/stories", f"/c/{community['slug']}", f"/u/{member['username']}/stories"):
        listed = await client.get(path)
        assert story["title"] in listed.text and "no heartbeat" not in listed.text, path


async def test_editing_a_published_story_keeps_the_earlier_version(
    client, settings, member, other_member, community, story_factory
):
    story = await story_factory(author=member, community=community)
    viewer = await viewer_of(member)
    with pytest.raises(Forbidden):
        await stories.edit_story(
            settings,
            await viewer_of(other_member),
            story["id"],
            stories.StoryDraft(title="Not mine to change", body="x"),
        )
    await stories.edit_story(
        settings,
        viewer,
        story["id"],
        stories.StoryDraft(
            title="The first year, looking back",
            body="A new ending.",
            summary="",
            community=community["slug"],
        ),
    )
    row = await Story.select().where(Story.id == story["id"]).first()
    assert row["title"] == "The first year, looking back" and row["edited_at"] is not None
    revisions = await StoryRevision.select().where(StoryRevision.story == story["id"])
    assert len(revisions) == 1 and revisions[0]["body"] == STORY_BODY
    await sign_in(client, member)
    history = await client.get(f"/s/{story['id']}/history")
    assert history.status_code == 200 and "The first weeks" in history.text


async def test_a_published_story_stays_in_its_community(settings, member, community, story_factory):
    story = await story_factory(author=member, community=community)
    with pytest.raises(Invalid) as error:
        await stories.edit_story(
            settings,
            await viewer_of(member),
            story["id"],
            stories.StoryDraft(title="Moving it elsewhere", body="text", community="other"),
        )
    assert "community" in error.value.fields


async def test_an_edit_that_screening_holds_takes_the_story_down_for_review(
    settings, member, community, story_factory
):
    story = await story_factory(author=member, community=community)
    result = await stories.edit_story(
        settings,
        await viewer_of(member),
        story["id"],
        stories.StoryDraft(title="What helped me", body=CLAIM, community=community["slug"]),
    )
    assert result["status"] == "held"
    item = await ModerationItem.select().where(ModerationItem.kind == "story").first()
    assert item["object_id"] == story["id"] and item["community"] == community["id"]


async def test_withdrawing_takes_a_story_down_for_everyone_but_its_author(
    client, make_client, settings, member, other_member, community, story_factory
):
    story = await story_factory(author=member, community=community)
    with pytest.raises(Forbidden):
        await stories.withdraw_story(await viewer_of(other_member), story["id"])
    await sign_in(client, member)
    confirm = await client.get(f"/s/{story['id']}/withdraw")
    assert confirm.status_code == 200 and "Withdraw my story" in confirm.text
    done = await post_form(client, f"/s/{story['id']}/withdraw", {}, f"/s/{story['id']}")
    assert done.status_code == 303
    assert "Withdrawn: only you can see it" in (await client.get(f"/s/{story['id']}")).text
    async with make_client() as visitor:
        assert (await visitor.get(f"/s/{story['id']}")).status_code == 404
        assert story["title"] not in (await visitor.get("/stories")).text
    with pytest.raises(Conflict):
        await stories.withdraw_story(await viewer_of(member), story["id"])
    with pytest.raises(Forbidden):
        await stories.edit_story(
            settings,
            await viewer_of(member),
            story["id"],
            stories.StoryDraft(title="Back again please", body="x"),
        )
    assert ("story", story["id"]) in [(e.kind, e.object_id) for e in await outbox.read(100)]


async def test_a_story_outside_any_community_is_public_and_on_the_blog(
    client, member, story_factory
):
    story = await story_factory(author=member, community=None)
    assert story["community"] is None
    assert (await client.get(f"/s/{story['id']}")).status_code == 200
    blog = await client.get(f"/u/{member['username']}/stories")
    assert blog.status_code == 200 and story["title"] in blog.text


async def test_a_private_communitys_story_is_invisible_to_outsiders(
    client, settings, admin, member, outsider, private_community, story_factory
):
    from forum import communities

    await communities.add_member(
        await viewer_of(admin), private_community["slug"], member["username"]
    )
    story = await story_factory(author=member, community=private_community)
    with pytest.raises(NotFound):
        await stories.get_story(await viewer_of(outsider), story["id"])
    assert (await client.get(f"/s/{story['id']}")).status_code == 404
    assert story["title"] not in (await client.get("/stories")).text
    assert story["title"] not in (await client.get(f"/u/{member['username']}/stories")).text
    _, listing = await stories.list_stories(await viewer_of(member))
    assert [s["id"] for s in listing.items] == [story["id"]]


async def test_only_a_communitys_members_share_stories_in_it(
    settings, outsider, community, story_factory
):
    with pytest.raises(Invalid) as error:
        await story_factory(author=outsider, community=community)
    assert "community" in error.value.fields


async def test_comments_are_screened_like_replies(
    settings, member, other_member, moderator, community, story_factory
):
    story = await story_factory(author=member, community=community)
    kind = await stories.post_comment(
        settings, await viewer_of(other_member), story["id"], "Thank you for writing this."
    )
    assert kind["status"] == "published"
    held = await stories.post_comment(settings, await viewer_of(other_member), story["id"], CLAIM)
    assert held["status"] == "held"
    item = await ModerationItem.select().where(ModerationItem.kind == "comment").first()
    assert item["object_id"] == held["id"] and item["post_id"] is None
    # Held: its author and the moderators see it, others don't.
    for who, sees in ((other_member, True), (moderator, True), (member, False)):
        data = await stories.get_story(await viewer_of(who), story["id"])
        assert (held["id"] in [c["id"] for c in data["comments"]]) is sees
    assert (await Story.select().where(Story.id == story["id"]).first())["comment_count"] == 1


async def test_a_comment_can_be_flagged_and_a_moderator_decides_it(
    client, settings, member, other_member, moderator, community, story_factory
):
    from moderation import decisions, flags

    story = await story_factory(author=member, community=community)
    comment = await stories.post_comment(
        settings, await viewer_of(other_member), story["id"], "Rude words here."
    )
    flagged = await flags.flag_content(
        await viewer_of(member), "comment", comment["id"], "harassment"
    )
    queue = await client.get("/mod")  # a visitor is sent to sign in
    assert queue.status_code in (303, 307)
    await sign_in(client, moderator)
    item_page = await client.get(f"/mod/items/{flagged['item_id']}")
    assert item_page.status_code == 200 and "Rude words here." in item_page.text
    assert f"/s/{story['id']}#comment-{comment['id']}" in item_page.text
    await decisions.decide(await viewer_of(moderator), flagged["item_id"], "remove", "Unkind.")
    data = await stories.get_story(await viewer_of(other_member), story["id"])
    shown = next(c for c in data["comments"] if c["id"] == comment["id"])
    assert shown["placeholder"] == stories.COMMENT_PLACEHOLDERS["removed"]


async def test_a_held_story_is_approved_by_a_moderator_and_goes_up(
    settings, member, moderator, community
):
    from moderation import decisions

    held = await stories.create_story(
        settings,
        await viewer_of(member),
        stories.StoryDraft(title="What cured me", body=CLAIM, community=community["slug"]),
        publish=True,
        confirm_consent=True,
    )
    assert held["status"] == "held"
    item = await ModerationItem.select().where(ModerationItem.kind == "story").first()
    await decisions.decide(await viewer_of(moderator), item["id"], "approve", "")
    row = await Story.select().where(Story.id == held["id"]).first()
    assert row["status"] == "published" and row["published_at"] is not None


async def test_a_moderator_cannot_bring_back_a_withdrawn_story(
    settings, member, other_member, moderator, community, story_factory
):
    from moderation import decisions, flags

    story = await story_factory(author=member, community=community)
    flagged = await flags.flag_content(await viewer_of(other_member), "story", story["id"], "spam")
    await stories.withdraw_story(await viewer_of(member), story["id"])
    with pytest.raises(Conflict):
        await decisions.decide(await viewer_of(moderator), flagged["item_id"], "approve", "")


async def test_the_story_api_follows_the_contract(client, member, other_member, community):
    headers = await api_token(client, member)
    created = await client.post(
        "/api/v1/stories",
        json={"title": "Learning to cook again", "body": "It took a while.", "community": "celiac"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "draft" and created.json()["moderation"] is None
    story_id = created.json()["id"]
    refused = await client.post(f"/api/v1/stories/{story_id}/publish", json={}, headers=headers)
    assert refused.status_code == 422
    assert "confirm_consent" in refused.json()["error"]["fields"]
    published = await client.post(
        f"/api/v1/stories/{story_id}/publish", json={"confirm_consent": True}, headers=headers
    )
    assert published.status_code == 200 and published.json()["status"] == "published"
    other = await api_token(client, other_member)
    commented = await client.post(
        f"/api/v1/stories/{story_id}/comments", json={"body": "Same here!"}, headers=other
    )
    assert commented.status_code == 201 and commented.json()["moderation"]["action"] == "publish"
    read = await client.get(f"/api/v1/stories/{story_id}")
    assert read.status_code == 200
    body = read.json()
    assert body["author"] == member["username"] and body["community"] == "celiac"
    assert [c["body_html"] for c in body["comments"]] == ["<p>Same here!</p>"]
    patched = await client.patch(
        f"/api/v1/stories/{story_id}",
        json={"content_warnings": ["eating disorders"]},
        headers=headers,
    )
    assert patched.status_code == 200, patched.text
    assert (await client.get(f"/api/v1/stories/{story_id}")).json()["content_warnings"] == [
        "eating disorders"
    ]
    bad = await client.post("/api/v1/stories", json={"title": "Hi", "body": 5}, headers=headers)
    assert bad.status_code == 422 and {"title", "body"} <= set(bad.json()["error"]["fields"])
    withdrawn = await client.post(f"/api/v1/stories/{story_id}/withdraw", headers=headers)
    assert withdrawn.json()["status"] == "withdrawn"
    assert (await client.get(f"/api/v1/stories/{story_id}")).status_code == 404
    spec = (await client.get("/api/v1/openapi.json")).json()
    assert "/api/v1/stories/{id}/comments" in spec["paths"]


async def test_a_story_published_through_the_api_with_consent_goes_up_at_once(
    client, member, other_member, community
):
    headers = await api_token(client, member)
    created = await client.post(
        "/api/v1/stories",
        json={
            "title": "Two years of pacing",
            "body": "Slowly, then better.",
            "confirm_consent": True,
            "content_warnings": ["long hospital stays"],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "published"
    assert created.json()["moderation"]["action"] == "publish"
    story_id = created.json()["id"]
    other = await api_token(client, other_member)
    flagged = await client.post(
        f"/api/v1/stories/{story_id}/flags", json={"reason": "spam"}, headers=other
    )
    assert flagged.status_code == 201, flagged.text
    own = await client.post(
        f"/api/v1/stories/{story_id}/flags", json={"reason": "spam"}, headers=headers
    )
    assert own.status_code == 403
    comment = await client.post(
        f"/api/v1/stories/{story_id}/comments", json={"body": "Thank you"}, headers=other
    )
    comment_id = comment.json()["id"]
    assert (
        await client.post(
            f"/api/v1/comments/{comment_id}/flags", json={"reason": "x"}, headers=headers
        )
    ).status_code == 422
    assert (
        await client.delete(f"/api/v1/comments/{comment_id}", headers=headers)
    ).status_code == 403
    assert (await client.delete(f"/api/v1/comments/{comment_id}", headers=other)).json()[
        "status"
    ] == "deleted"


async def test_comments_are_written_flagged_and_deleted_from_the_story_page(
    client, make_client, member, other_member, community, story_factory
):
    story = await story_factory(author=member, community=community)
    await sign_in(client, other_member)
    posted = await post_form(
        client, f"/s/{story['id']}/comments", {"body": "So good to read."}, f"/s/{story['id']}"
    )
    assert posted.status_code == 303 and "#comment-" in posted.headers["location"]
    comment_id = int(posted.headers["location"].rsplit("-", 1)[1])
    async with make_client() as author:
        await sign_in(author, member)
        page = await author.get(f"/s/{story['id']}")
        assert "So good to read." in page.text and f"/comments/{comment_id}/flag" in page.text
        flagged = await post_form(
            author, f"/comments/{comment_id}/flag", {"reason": "spam"}, f"/s/{story['id']}"
        )
        assert flagged.status_code == 303
    confirm = await client.get(f"/comments/{comment_id}/delete")
    assert confirm.status_code == 200 and "Delete my comment" in confirm.text
    deleted = await post_form(client, f"/comments/{comment_id}/delete", {}, f"/s/{story['id']}")
    assert deleted.status_code == 303
    page = await client.get(f"/s/{story['id']}")
    assert stories.COMMENT_PLACEHOLDERS["deleted"] in page.text
