"""The demo data: what a newcomer sees on the first `make run`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from markupsafe import escape

from forum import demo
from forum.errors import Conflict
from forum.settings import Settings
from forum.tables import Community, Post, Thread
from tests.conftest import sign_in


def _as_datetime(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def test_every_reply_comes_after_the_one_before_and_before_now() -> None:
    for conversation in demo.CONVERSATIONS:
        hours = [reply.hours for reply in conversation.replies]
        assert 2 <= len(hours) <= 6, conversation.title
        assert hours == sorted(set(hours)) and hours[0] > 0, conversation.title
        assert hours[-1] < conversation.days_ago * 24, conversation.title


def test_every_author_belongs_to_the_community_they_write_in() -> None:
    belongs = {p.username: {*p.joins, *p.moderates} for p in demo.PEOPLE}
    for conversation in demo.CONVERSATIONS:
        for author in (conversation.author, *(reply.author for reply in conversation.replies)):
            assert conversation.community in belongs[author], (author, conversation.title)


async def test_has_content_is_false_before_seeding_and_true_after(
    app: Any, settings: Settings
) -> None:
    assert await demo.has_content() is False
    await demo.seed(settings)
    assert await demo.has_content() is True


async def test_seed_summary_counts_what_it_added(app: Any, settings: Settings) -> None:
    summary = await demo.seed(settings)
    replies = sum(len(c.replies) for c in demo.CONVERSATIONS)
    assert summary.startswith(
        f"{len(demo.COMMUNITIES)} communities, {len(demo.PEOPLE)} people, "
        f"{len(demo.CONVERSATIONS)} conversations, {replies} replies"
    )
    assert await Community.count() == len(demo.COMMUNITIES)
    assert await Thread.count() == len(demo.CONVERSATIONS)
    assert await Post.count().where(Post.is_opening.eq(False)) == replies


async def test_home_page_shows_public_communities_and_recent_conversations(
    app: Any, settings: Settings, client: httpx.AsyncClient, demo_site: None
) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    for name in ("Heart failure", "Celiac disease", "Type 1 diabetes", "Long COVID"):
        assert name in response.text
    assert "Heart racing when I stand up" in response.text
    assert escape("Caregivers' circle") not in response.text
    assert "How do you get any sleep?" not in response.text


async def test_community_page_lists_its_conversations_most_recent_first(
    app: Any, settings: Settings, client: httpx.AsyncClient, demo_site: None
) -> None:
    response = await client.get("/c/celiac")
    assert response.status_code == 200
    celiac = [c for c in demo.CONVERSATIONS if c.community == "celiac"]
    newest_first = sorted(celiac, key=lambda c: c.days_ago * 24 - c.replies[-1].hours)
    positions = [response.text.index(escape(c.title)) for c in newest_first]
    assert positions == sorted(positions)
    others = [c for c in demo.CONVERSATIONS if c.community != "celiac"]
    assert not any(escape(c.title) in response.text for c in others)


async def test_thread_page_shows_the_clinicians_answer(
    app: Any, settings: Settings, client: httpx.AsyncClient, demo_site: None
) -> None:
    thread = await Thread.select(Thread.id).where(Thread.title.like("Does daily weighing%")).first()
    response = await client.get(f"/t/{thread['id']}")
    assert response.status_code == 200
    assert "Nurse Priya, cardiology" in response.text
    assert "<strong>before</strong>" in response.text


async def test_private_circle_is_hidden_from_visitors(
    app: Any, settings: Settings, client: httpx.AsyncClient, demo_site: None
) -> None:
    response = await client.get("/c/caregivers-circle")
    assert response.status_code == 404


async def test_each_thread_was_last_active_when_its_newest_post_was_written(
    app: Any, settings: Settings, demo_site: None
) -> None:
    now = datetime.now(UTC)
    for thread in await Thread.select(Thread.id, Thread.created_at, Thread.last_activity_at):
        posts = await Post.select(Post.created_at).where(Post.thread == thread["id"])
        times = [_as_datetime(post["created_at"]) for post in posts]
        assert _as_datetime(thread["last_activity_at"]) == max(times)
        assert _as_datetime(thread["created_at"]) == min(times)
        assert now - timedelta(days=61) < min(times) and max(times) < now


async def test_demo_members_sign_in_with_the_demo_password(
    app: Any, settings: Settings, client: httpx.AsyncClient, demo_site: None
) -> None:
    await sign_in(client, {"username": "maria_celiac", "password": demo.PASSWORD})
    response = await client.get("/c/celiac")
    assert "Leave this community" in response.text


async def test_seeding_twice_says_the_data_is_already_there(
    app: Any, settings: Settings, demo_site: None
) -> None:
    with pytest.raises(Conflict):
        await demo.seed(settings)
