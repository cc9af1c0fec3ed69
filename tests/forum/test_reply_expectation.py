"""What a new thread's author is told to expect: the community's real reply times, or no
promise at all while it has too few to say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum import insights
from forum.tables import Post, Thread
from tests.conftest import post_form, sign_in

QUESTION = {"title": "Is oat milk safe for us?", "body": "Labels confuse me.", "kind": "discussion"}


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (20 * 60, "an hour"),
        (5 * 3600 + 1200, "about 5 hours"),
        (26 * 3600, "about a day"),
        (3.2 * 86400, "about 3 days"),
    ],
)
def test_a_wait_is_said_in_plain_words(seconds: float, words: str) -> None:
    assert insights._about(seconds) == words


async def start_from_the_page(client, community) -> str:
    response = await post_form(client, f"/c/{community['slug']}/new", QUESTION)
    assert response.status_code == 303
    return (await client.get(response.headers["location"])).text


async def test_a_quiet_community_promises_no_hours(client, member, community):
    await sign_in(client, member)
    page = await start_from_the_page(client, community)
    assert "Your post is up. We'll let you know in your notifications when someone replies." in (
        page.replace("&#39;", "'")
    )
    assert "usually reply within" not in page


async def test_an_active_community_says_how_soon_its_questions_are_answered(
    client, member, other_member, community, thread_factory, reply_factory
):
    start = datetime.now(UTC) - timedelta(days=10)
    for number in range(insights.TYPICAL_AFTER):
        thread = await thread_factory(
            community=community, author=member, title=f"Question {number}"
        )
        reply = await reply_factory(thread=thread, author=other_member)
        asked = start + timedelta(days=number)
        await Thread.update({Thread.created_at: asked}).where(Thread.id == thread["id"])
        await Post.update({Post.created_at: asked + timedelta(hours=3)}).where(
            Post.id == reply["id"]
        )
    await sign_in(client, member)
    page = await start_from_the_page(client, community)
    assert "Your post is up. People here usually reply within about 3 hours." in page
