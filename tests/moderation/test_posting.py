"""Screening on the path of a post: what the author sees, what is stored, and in one transaction."""

from __future__ import annotations

import pytest

from forum import threads
from forum.errors import Forbidden
from forum.tables import Post, Thread
from moderation.posting import ScreeningRejected
from moderation.tables import AuditEntry, ModerationItem
from search.tables import SearchOutbox
from tests.conftest import api_token, post_form, shows, sign_in, viewer_of
from tests.moderation.conftest import CLAIM, CRISIS, LABELLED_CLAIM, PHONE, open_item_for


async def test_a_clean_post_is_published_with_an_empty_moderation_object(client, member, community):
    headers = await api_token(client, member)
    created = await client.post(
        f"/api/v1/communities/{community['slug']}/threads",
        json={"title": "Travelling gluten free?", "body": "Any tips for Italy?"},
        headers=headers,
    )
    assert created.status_code == 201
    assert created.json()["status"] == "published"
    assert created.json()["moderation"] == {"action": "publish", "reasons": []}
    assert await ModerationItem.count() == 0


async def test_a_dangerous_claim_is_held_and_says_why(client, member, community):
    headers = await api_token(client, member)
    created = await client.post(
        f"/api/v1/communities/{community['slug']}/threads",
        json={"title": "What worked for me", "body": CLAIM},
        headers=headers,
    )
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "held" and body["moderation"]["action"] == "hold"
    rules = {(r["family"], r["rule"]) for r in body["moderation"]["reasons"]}
    assert ("misinformation", "stop-insulin-natural-cure") in rules
    assert all(r["message"] for r in body["moderation"]["reasons"])
    item = await open_item_for("thread", body["id"])
    assert item is not None and item["reason"] == "misinformation"
    assert "source_url" in item["hits"] and "explanation" in item["hits"]
    assert await AuditEntry.count().where(AuditEntry.action == "hold") == 1


async def test_a_labelled_post_is_published_with_a_label_readers_see(
    client, member, other_member, community
):
    headers = await api_token(client, member)
    created = (
        await client.post(
            f"/api/v1/communities/{community['slug']}/threads",
            json={"title": "My cholesterol story", "body": LABELLED_CLAIM},
            headers=headers,
        )
    ).json()
    assert created["status"] == "published" and created["moderation"]["action"] == "label"
    assert "moderator will review" in created["moderation"]["label"]
    thread = (await client.get(f"/api/v1/threads/{created['id']}")).json()
    assert "moderator will review" in thread["posts"][0]["label"]
    await sign_in(client, other_member)
    page = await client.get(f"/t/{created['id']}")
    assert 'class="post-label"' in page.text and shows(page, "moderator will review")
    assert await open_item_for("thread", created["id"]) is not None


async def test_personal_details_get_a_warning_over_the_api_and_nothing_is_stored(
    client, member, community
):
    headers = await api_token(client, member)
    response = await client.post(
        f"/api/v1/communities/{community['slug']}/threads",
        json={"title": "Local meetup?", "body": PHONE},
        headers=headers,
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "phi_warning"
    assert error["moderation"]["action"] == "reject"
    assert error["moderation"]["reasons"][0]["family"] == "phi"
    assert "07700 900123" in error["fields"]["body"]
    assert await Thread.count() == 0


async def test_posting_anyway_after_the_warning_holds_the_post(client, member, community):
    headers = await api_token(client, member)
    response = await client.post(
        f"/api/v1/communities/{community['slug']}/threads",
        json={"title": "Local meetup?", "body": PHONE, "confirm_phi": True},
        headers=headers,
    )
    assert response.status_code == 201
    assert response.json()["status"] == "held"
    item = await open_item_for("thread", response.json()["id"])
    assert item["reason"] == "privacy"


async def test_the_form_shows_what_was_found_and_offers_to_remove_it(client, member, community):
    await sign_in(client, member)
    path = f"/c/{community['slug']}/new"
    warned = await post_form(client, path, {"title": "Local meetup?", "body": PHONE}, path)
    assert warned.status_code == 422
    assert "<mark>07700 900123</mark>" in warned.text
    assert "Remove it for me" in warned.text and 'name="confirm_phi"' in warned.text
    assert "07700 900123 if you want to talk" in warned.text  # the text is kept
    redacted = await post_form(
        client, path, {"title": "Local meetup?", "body": PHONE, "phi_action": "redact"}, path
    )
    assert redacted.status_code == 200
    assert "Call me on [removed] if you want to talk." in redacted.text
    assert await Thread.count() == 0
    posted = await post_form(
        client,
        path,
        {"title": "Local meetup?", "body": "Call me on [removed] if you want to talk."},
        path,
    )
    assert posted.status_code == 303


async def test_insisting_from_the_form_holds_the_reply(client, member, community, thread_factory):
    thread = await thread_factory(community=community, author=member)
    await sign_in(client, member)
    response = await post_form(
        client,
        f"/t/{thread['id']}/reply",
        {"body": PHONE, "confirm_phi": "1"},
        f"/t/{thread['id']}",
    )
    assert response.status_code == 303
    page = await client.get(response.headers["location"])
    assert shows(page, "waiting for a moderator's review")
    row = await Post.select(Post.status).where(Post.body == PHONE).first()
    assert row["status"] == "held"
    counts = await Thread.select(Thread.reply_count).where(Thread.id == thread["id"]).first()
    assert counts["reply_count"] == 0


async def test_crisis_language_is_never_blocked_and_shows_resources_at_once(
    client, member, community, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    headers = await api_token(client, member)
    response = await client.post(
        f"/api/v1/threads/{thread['id']}/posts", json={"body": CRISIS}, headers=headers
    )
    assert response.status_code == 201
    moderation = response.json()["moderation"]
    assert response.json()["status"] == "published"
    assert moderation["action"] == "escalate"
    assert any("988" in r["contact"] for r in moderation["resources"])
    item = await open_item_for("post", response.json()["id"])
    assert item["reason"] == "crisis" and item["severity"] == 100


async def test_crisis_resources_appear_on_the_page_after_posting(
    client, member, community, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    await sign_in(client, member)
    response = await post_form(
        client, f"/t/{thread['id']}/reply", {"body": CRISIS}, f"/t/{thread['id']}"
    )
    assert response.status_code == 303
    page = await client.get(response.headers["location"])
    assert 'class="crisis-panel"' in page.text and "988" in page.text
    assert "Everyone would be better off without me" in page.text  # the post is up
    again = await client.get(response.headers["location"])
    assert 'class="crisis-panel"' not in again.text


async def test_crisis_with_a_blocked_word_is_kept_not_refused(client, member, community):
    headers = await api_token(client, member)
    response = await client.post(
        f"/api/v1/communities/{community['slug']}/threads",
        json={"title": "I need to say this", "body": f"{CRISIS} kys"},
        headers=headers,
    )
    assert response.status_code == 201
    assert response.json()["status"] == "held"
    assert response.json()["moderation"]["resources"]


async def test_a_blocked_word_is_refused_with_what_to_change_and_the_text_kept(
    client, member, community
):
    await sign_in(client, member)
    path = f"/c/{community['slug']}/new"
    body = "Buy cheap oxycodone online, message me."
    response = await post_form(client, path, {"title": "Pain relief", "body": body}, path)
    assert response.status_code == 422
    assert shows(response, "Please take out") and shows(response, body)
    headers = await api_token(client, member)
    api = await client.post(
        f"/api/v1/communities/{community['slug']}/threads",
        json={"title": "Pain relief", "body": body},
        headers=headers,
    )
    assert api.status_code == 422 and api.json()["error"]["code"] == "rejected"
    assert api.json()["error"]["moderation"]["reasons"][0]["family"] == "watched_word"
    assert await Thread.count() == 0


async def test_censored_words_are_starred_and_the_post_published(
    settings, member, community, post_thread
):
    created = await post_thread(member, community, "This diet is shit but I'm managing.")
    assert created["status"] == "published"
    row = await Post.select(Post.body).where(Post.id == created["post_id"]).first()
    assert row["body"] == "This diet is s*** but I'm managing."


async def test_an_edit_that_adds_a_dangerous_claim_holds_the_post(
    settings, member, other_member, community, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    edited = await threads.edit_post(
        await viewer_of(member), thread["post_id"], CLAIM, settings=settings
    )
    assert edited["status"] == "held" and edited["moderation"]["action"] == "hold"
    status = await Thread.select(Thread.status).where(Thread.id == thread["id"]).first()
    assert status["status"] == "held"
    assert await open_item_for("thread", thread["id"]) is not None


async def test_the_post_its_review_item_and_outbox_row_land_together_or_not_at_all(
    settings, member, community, monkeypatch
):
    async def broken(*args, **kwargs):
        raise RuntimeError("index queue unavailable")

    monkeypatch.setattr("search.outbox.enqueue", broken)
    with pytest.raises(RuntimeError):
        await threads.start_thread(
            settings,
            await viewer_of(member),
            community["slug"],
            threads.Draft(title="Will not land", body=CLAIM),
        )
    assert await Thread.count() == 0 and await ModerationItem.count() == 0
    assert await AuditEntry.count() == 0 and await SearchOutbox.count() == 0


async def test_moderators_and_admins_are_never_held(
    settings, moderator, admin, community, post_thread
):
    by_moderator = await post_thread(moderator, community, CLAIM)
    assert by_moderator["status"] == "published"
    by_admin = await post_thread(admin, community, PHONE, confirm_phi=True)
    assert by_admin["status"] == "published"


async def test_suspended_members_cannot_post(client, settings, member, community, thread_factory):
    from datetime import UTC, datetime, timedelta

    from forum.tables import User

    thread = await thread_factory(community=community, author=member)
    await User.update(
        {User.status: "suspended", User.suspended_until: datetime.now(UTC) + timedelta(days=3)}
    ).where(User.id == member["id"])
    with pytest.raises(Forbidden):
        await threads.post_reply(settings, await viewer_of(member), thread["id"], "Hello again")
    headers = await api_token(client, member)
    response = await client.post(
        f"/api/v1/threads/{thread['id']}/posts", json={"body": "Hello"}, headers=headers
    )
    assert response.status_code == 403


async def test_screening_rejection_is_a_422_whatever_the_channel(settings, member, community):
    with pytest.raises(ScreeningRejected) as error:
        await threads.start_thread(
            settings,
            await viewer_of(member),
            community["slug"],
            threads.Draft(title="Contact", body=PHONE),
        )
    assert error.value.status == 422 and error.value.code == "phi_warning"
