"""Badges earned automatically: first post, helper, storyteller, anniversary, mentor-eligible."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum import badges, communities, reactions
from forum.tables import BadgeAward, User
from tests.conftest import make_user, viewer_of


async def earned(user) -> list[str]:
    return [badge["id"] for badge in await badges.badges_of(user["id"])]


async def test_a_first_published_post_earns_the_first_post_badge(
    client, member, community, thread_factory
):
    assert await earned(member) == []
    await thread_factory(community=community, author=member)
    assert await earned(member) == ["first_post"]
    profile = await client.get(f"/u/{member['username']}")
    assert "First post" in profile.text


async def test_a_held_post_earns_nothing_until_published(settings, member, community):
    from forum import threads

    await threads.start_thread(
        settings,
        await viewer_of(member),
        community["slug"],
        threads.Draft(title="About insulin", body="Stop your insulin, cinnamon cured me."),
    )
    assert await earned(member) == []


async def test_ten_helpful_reactions_make_a_helper(
    settings, member, other_member, community, thread_factory, reply_factory
):
    thread = await thread_factory(community=community, author=member)
    answer = await reply_factory(thread=thread, author=other_member)
    for number in range(10):
        person = await make_user(settings, f"reader{number:02d}")
        await communities.join(await viewer_of(person), community["slug"])
        await reactions.react(settings, await viewer_of(person), answer["id"], "helpful")
        if number == 8:
            assert "helper" not in await earned(other_member)
    assert await earned(other_member) == ["first_post", "helper"]


async def test_other_reactions_do_not_count_towards_helper(
    settings, member, other_member, community, thread_factory, reply_factory
):
    thread = await thread_factory(community=community, author=member)
    answer = await reply_factory(thread=thread, author=other_member)
    for number in range(10):
        person = await make_user(settings, f"hugger{number:02d}")
        await communities.join(await viewer_of(person), community["slug"])
        await reactions.react(settings, await viewer_of(person), answer["id"], "support")
    assert "helper" not in await earned(other_member)


async def test_the_stories_code_awards_storyteller_once(member):
    assert await badges.award_storyteller(member["id"]) is True
    assert await badges.award_storyteller(member["id"]) is False
    assert await earned(member) == ["storyteller"]
    assert await BadgeAward.count().where(BadgeAward.user == member["id"]) == 1


async def test_a_year_on_kindred_earns_the_anniversary_when_someone_looks(client, member):
    await User.update({User.created_at: datetime.now(UTC) - timedelta(days=366)}).where(
        User.id == member["id"]
    )
    page = await client.get(f"/u/{member['username']}")
    assert "One year on Kindred" in page.text
    assert await earned(member) == ["anniversary"]


@pytest.mark.parametrize(
    ("record", "eligible"),
    [
        ({"published_posts": 60, "helpful_received": 30, "days": 200, "trust_level": 2,
          "upheld_against": 0}, True),
        ({"published_posts": 60, "helpful_received": 30, "days": 200, "trust_level": 2,
          "upheld_against": 1}, False),
        ({"published_posts": 60, "helpful_received": 10, "days": 200, "trust_level": 2,
          "upheld_against": 0}, False),
        ({"published_posts": 60, "helpful_received": 30, "days": 90, "trust_level": 2,
          "upheld_against": 0}, False),
        ({"published_posts": 60, "helpful_received": 30, "days": 200, "trust_level": 1,
          "upheld_against": 0}, False),
    ],
)  # fmt: skip
def test_mentor_eligibility_needs_experience_help_time_trust_and_a_clean_record(record, eligible):
    assert badges.earned(badges.BY_ID["mentor_eligible"], record) is eligible


async def test_mentor_eligible_is_awarded_from_the_record(monkeypatch, member):
    from moderation import trust

    async def record(user_id):
        return {
            "created_at": datetime.now(UTC) - timedelta(days=400),
            "published_posts": 80,
            "helpful_received": 40,
            "days": 400,
            "trust_level": 3,
            "upheld_against": 0,
        }

    monkeypatch.setattr(trust, "member_record", record)
    new = await badges.check(member["id"])
    assert set(new) == {"first_post", "helper", "anniversary", "mentor_eligible"}
    assert await badges.check(member["id"]) == []  # never twice


async def test_badges_are_in_the_public_profile_api(client, member, community, thread_factory):
    await thread_factory(community=community, author=member)
    profile = (await client.get(f"/api/v1/users/{member['username']}")).json()
    assert [b["id"] for b in profile["badges"]] == ["first_post"]
    assert profile["badges"][0]["awarded_at"].endswith("Z")
