"""Threads and replies: starting, replying, editing with history, deleting, lists and pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum import threads
from forum.errors import Forbidden, Invalid, NotFound
from forum.tables import Post, PostRevision, Thread
from search.tables import SearchOutbox
from tests.conftest import counting_queries, post_form, shows, sign_in, viewer_of


async def test_member_starts_a_thread_from_the_page_and_sees_it_rendered(client, member, community):
    await sign_in(client, member)
    response = await post_form(
        client,
        f"/c/{community['slug']}/new",
        {
            "title": "Gluten free restaurants when travelling?",
            "body": "Going to **Italy**:\n\n- pasta?\n- pizza?",
            "kind": "discussion",
        },
        f"/c/{community['slug']}/new",
    )
    assert response.status_code == 303
    page = await client.get(response.headers["location"])
    assert shows(page, "Gluten free restaurants when travelling?")
    assert "<strong>Italy</strong>" in page.text
    assert "<li>pasta?</li>" in page.text
    assert (await client.get("/")).text.count("Gluten free restaurants") == 1


async def test_new_thread_form_shows_errors_beside_fields_and_keeps_the_text(
    client, member, community
):
    await sign_in(client, member)
    response = await post_form(
        client,
        f"/c/{community['slug']}/new",
        {"title": "Hi", "body": "my long story " * 3, "kind": "discussion"},
        f"/c/{community['slug']}/new",
    )
    assert response.status_code == 422
    assert 'id="f-title-error"' in response.text
    assert "my long story my long story" in response.text


async def test_visitors_and_non_members_cannot_post(
    client, outsider, community, member, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    page = await client.get(f"/t/{thread['id']}")
    assert "Sign in" in page.text and "Post reply" not in page.text
    with pytest.raises(Forbidden):
        await threads.post_reply(
            client._transport.app.state.settings, await viewer_of(outsider), thread["id"], "hello"
        )


async def test_reply_appears_and_bumps_the_thread(
    client, settings, member, other_member, community, thread_factory
):
    first = await thread_factory(community=community, author=member, title="First thread here")
    await thread_factory(community=community, author=member, title="Second thread here")
    await sign_in(client, other_member)
    response = await post_form(
        client, f"/t/{first['id']}/reply", {"body": "Try *Coeliac UK*'s app."}, f"/t/{first['id']}"
    )
    assert response.status_code == 303
    page = await client.get(f"/t/{first['id']}")
    assert "<em>Coeliac UK</em>" in page.text
    listing = await client.get(f"/c/{community['slug']}")
    assert listing.text.index("First thread here") < listing.text.index("Second thread here")
    assert "1 reply" in listing.text


async def test_empty_or_oversized_reply_is_refused_and_the_text_kept(
    client, member, community, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    await sign_in(client, member)
    empty = await post_form(
        client, f"/t/{thread['id']}/reply", {"body": "   "}, f"/t/{thread['id']}"
    )
    assert empty.status_code == 422
    assert shows(empty, "Your message can't be empty")
    huge = "word " * 5000
    too_long = await post_form(
        client, f"/t/{thread['id']}/reply", {"body": huge}, f"/t/{thread['id']}"
    )
    assert too_long.status_code == 422
    assert "at most 20,000 characters" in too_long.text
    assert huge.strip()[:200] in too_long.text
    assert (await Post.count().where(Post.thread == thread["id"])) == 1


async def test_editing_keeps_the_previous_version(
    client, settings, member, community, thread_factory
):
    thread = await thread_factory(
        community=community, author=member, body="My phone number is in here"
    )
    await sign_in(client, member)
    response = await post_form(
        client,
        f"/p/{thread['post_id']}/edit",
        {"body": "Edited: no personal details"},
        f"/p/{thread['post_id']}/edit",
    )
    assert response.status_code == 303
    page = await client.get(f"/t/{thread['id']}")
    assert "Edited: no personal details" in page.text and "My phone number" not in page.text
    revisions = await PostRevision.select().where(PostRevision.post == thread["post_id"])
    assert [r["body"] for r in revisions] == ["My phone number is in here"]
    history = await client.get(f"/p/{thread['post_id']}/history")
    assert "My phone number is in here" in history.text


async def test_earlier_versions_are_private_to_the_author_and_moderators(
    client, member, other_member, moderator, community, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    await threads.edit_post(await viewer_of(member), thread["post_id"], "new text")
    with pytest.raises(NotFound):
        await threads.revisions(await viewer_of(other_member), thread["post_id"])
    assert len(await threads.revisions(await viewer_of(moderator), thread["post_id"])) == 1


async def test_only_the_author_or_a_moderator_edits(
    settings, member, other_member, moderator, community, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    with pytest.raises(Forbidden):
        await threads.edit_post(await viewer_of(other_member), thread["post_id"], "vandalism")
    edited = await threads.edit_post(
        await viewer_of(moderator), thread["post_id"], "removed a phone number"
    )
    assert edited["body"] == "removed a phone number"


async def test_deleting_the_opening_post_keeps_the_thread_readable(
    client, member, other_member, community, thread_factory, reply_factory
):
    thread = await thread_factory(community=community, author=member, body="Original question text")
    await reply_factory(thread=thread, author=other_member, body="A helpful answer")
    await sign_in(client, member)
    response = await post_form(client, f"/p/{thread['post_id']}/delete", {}, f"/t/{thread['id']}")
    assert response.status_code == 303
    page = await client.get(f"/t/{thread['id']}")
    assert page.status_code == 200
    assert "Original question text" not in page.text
    assert "deleted by its author" in page.text
    assert "A helpful answer" in page.text
    row = await Post.select(Post.body).where(Post.id == thread["post_id"]).first()
    assert row["body"] == "Original question text", (
        "deletion changes status; nothing is hard-deleted"
    )


async def test_deleted_reply_stops_counting_and_others_cannot_delete(
    settings, member, other_member, community, thread_factory, reply_factory
):
    thread = await thread_factory(community=community, author=member)
    reply = await reply_factory(thread=thread, author=other_member)
    with pytest.raises(Forbidden):
        await threads.delete_post(await viewer_of(member), reply["id"])
    await threads.delete_post(await viewer_of(other_member), reply["id"])
    row = await Thread.select(Thread.reply_count).where(Thread.id == thread["id"]).first()
    assert row["reply_count"] == 0
    with pytest.raises(NotFound):
        await threads.delete_post(await viewer_of(other_member), reply["id"])


async def test_every_thread_change_writes_a_search_outbox_row(
    settings, member, community, thread_factory, reply_factory
):
    thread = await thread_factory(community=community, author=member)
    reply = await reply_factory(thread=thread, author=member)
    await threads.edit_post(await viewer_of(member), reply["id"], "changed")
    await threads.delete_post(await viewer_of(member), reply["id"])
    rows = await SearchOutbox.select(SearchOutbox.kind, SearchOutbox.object_id)
    assert rows == [{"kind": "thread", "object_id": thread["id"]}] * 4


async def test_a_failed_write_leaves_no_half_thread_behind(
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
            threads.Draft(title="Will not land", body="x"),
        )
    assert await Thread.count() == 0
    assert await Post.count() == 0


async def test_thread_lists_are_paginated_by_last_activity(
    client, settings, member, community, thread_factory
):
    start = datetime.now(UTC) - timedelta(days=30)
    for number in range(25):
        thread = await thread_factory(
            community=community, author=member, title=f"Conversation number {number:02d}"
        )
        await Thread.update({Thread.last_activity_at: start + timedelta(hours=number)}).where(
            Thread.id == thread["id"]
        )
    first = await client.get(f"/c/{community['slug']}")
    assert "Conversation number 24" in first.text and "Conversation number 04" not in first.text
    assert "Page 1 of 2" in first.text
    second = await client.get(f"/c/{community['slug']}?page=2")
    assert "Conversation number 04" in second.text and "Conversation number 24" not in second.text
    api = await client.get(f"/api/v1/communities/{community['slug']}/threads?per_page=10&page=3")
    body = api.json()
    assert body["total"] == 25 and body["page"] == 3 and body["per_page"] == 10
    assert [item["title"] for item in body["items"]][-1] == "Conversation number 00"


@pytest.mark.parametrize("page", ["0", "-3", "abc", "99999999999999999999"])
async def test_nonsense_page_numbers_fall_back_gracefully(client, community, page):
    response = await client.get(f"/c/{community['slug']}?page={page}")
    assert response.status_code == 200


async def test_long_threads_are_paginated(
    client, settings, member, community, thread_factory, reply_factory
):
    thread = await thread_factory(community=community, author=member)
    for number in range(55):
        await reply_factory(thread=thread, author=member, body=f"Reply number {number:02d}")
    first = await client.get(f"/t/{thread['id']}")
    assert "Reply number 48" in first.text and "Reply number 49" not in first.text
    second = await client.get(f"/t/{thread['id']}?page=2")
    assert "Reply number 49" in second.text and "Reply number 54" in second.text


async def test_thread_page_costs_a_fixed_number_of_queries(
    app, client, settings, member, other_member, community, thread_factory, reply_factory
):
    """No N+1: a thread of 5 posts and one of 40 posts take the same number of queries."""
    short = await thread_factory(community=community, author=member)
    long = await thread_factory(community=community, author=member)
    for number in range(4):
        await reply_factory(thread=short, author=other_member if number % 2 else member)
    for number in range(39):
        await reply_factory(thread=long, author=other_member if number % 2 else member)
    await sign_in(client, member)
    counts = []
    for thread in (short, long):
        with counting_queries(app) as queries:
            response = await client.get(f"/t/{thread['id']}")
        assert response.status_code == 200
        counts.append(queries.count)
    assert counts[0] == counts[1]
    assert 0 < counts[0] <= 4, counts  # counted at all, and no more than four


async def test_unknown_threads_and_posts_are_friendly_404s(client):
    assert (await client.get("/t/999999")).status_code == 404
    assert (await client.get("/p/999999/edit")).status_code == 404
    assert (await client.get("/t/notanumber")).status_code == 404


async def test_title_rules_are_enforced_by_the_service(settings, member, community):
    with pytest.raises(Invalid) as error:
        await threads.start_thread(
            settings,
            await viewer_of(member),
            community["slug"],
            threads.Draft(title="x" * 201, body="hello"),
        )
    assert "title" in error.value.fields


async def test_delete_asks_first_and_only_the_author_gets_the_question(
    client, member, other_member, community, thread_factory
):
    thread = await thread_factory(
        community=community, author=member, body="Still here after asking"
    )
    await sign_in(client, member)
    question = await client.get(f"/p/{thread['post_id']}/delete")
    assert question.status_code == 200
    assert "Delete your post?" in question.text and "Still here after asking" in question.text
    assert "Still here after asking" in (await client.get(f"/t/{thread['id']}")).text
    await sign_in(client, other_member)
    assert (await client.get(f"/p/{thread['post_id']}/delete")).status_code == 403


async def test_form_fields_carry_required_length_and_autocomplete_attributes(client):
    page = await client.get("/register")
    assert 'required maxlength="32" autocomplete="username"' in page.text
    assert 'type="password" required autocomplete="new-password"' in page.text


async def test_only_the_author_or_a_moderator_gets_the_edit_form(
    client, member, other_member, moderator, community, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    await sign_in(client, other_member)
    assert (await client.get(f"/p/{thread['post_id']}/edit")).status_code == 403
    await sign_in(client, moderator)
    assert (await client.get(f"/p/{thread['post_id']}/edit")).status_code == 200
    await sign_in(client, member)
    assert (await client.get(f"/p/{thread['post_id']}/edit")).status_code == 200
