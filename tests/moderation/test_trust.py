"""Trust levels: earned by published posts and time, lost by decisions upheld against you; and
the new-account limits as members meet them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum import threads
from forum.tables import User
from moderation.posting import ScreeningRejected
from moderation.rulebook import default_rules
from moderation.trust import compute_level
from tests.conftest import viewer_of


def test_levels_come_from_published_posts_days_and_decisions_against():
    rules = default_rules().trust
    assert compute_level(0, 0, 0, rules) == 0
    assert compute_level(3, 0.5, 0, rules) == 0  # not a day old yet
    assert compute_level(3, 1, 0, rules) == 1
    assert compute_level(20, 14, 0, rules) == 2
    assert compute_level(20, 14, 1, rules) == 1  # one upheld decision costs ten posts
    assert compute_level(12, 14, 1, rules) == 0
    assert compute_level(120, 90, 0, rules) == 3
    assert compute_level(120, 90, 1, rules) == 2


async def test_trust_grows_as_a_member_posts(settings, member, community, thread_factory):
    await User.update({User.created_at: datetime.now(UTC) - timedelta(days=3)}).where(
        User.id == member["id"]
    )
    for number in range(3):
        await thread_factory(community=community, author=member, title=f"Question number {number}")
    user = await User.select(User.trust_level).where(User.id == member["id"]).first()
    assert user["trust_level"] == 1


async def test_a_new_members_third_link_waits_for_review(strict_limits, member, community):
    links = " ".join(f"https://example.org/{n}" for n in range(3))
    created = await threads.start_thread(
        strict_limits,
        await viewer_of(member),
        community["slug"],
        threads.Draft(title="Useful links", body=links),
    )
    assert created["status"] == "held"
    assert created["moderation"]["reasons"][0]["rule"] == "new-member-links"


async def test_a_new_member_is_refused_after_the_daily_limit(strict_limits, member, community):
    viewer = await viewer_of(member)
    limit = default_rules().trust.limits_for(0).posts_per_day
    thread = await threads.start_thread(
        strict_limits, viewer, community["slug"], threads.Draft(title="Day one here", body="Hi!")
    )
    for number in range(limit - 1):
        await threads.post_reply(strict_limits, viewer, thread["id"], f"Reply {number}")
    with pytest.raises(ScreeningRejected) as error:
        await threads.post_reply(strict_limits, viewer, thread["id"], "One more")
    assert "tomorrow" in error.value.message
