"""The review queue: crisis first, then severity and age; filters; each moderator's scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from forum.errors import Forbidden
from moderation import decisions, flags, queue
from moderation.tables import ModerationItem
from tests.conftest import api_token, viewer_of
from tests.moderation.conftest import CLAIM, CRISIS, LABELLED_CLAIM, open_item_for


async def _fill(settings, member, other_member, community, post_thread, thread_factory):
    """A labelled post (oldest), a spam flag, a held claim and a crisis post (newest)."""
    labelled = await post_thread(member, community, LABELLED_CLAIM, title="About statins")
    flagged = await thread_factory(community=community, author=member, title="Selling things")
    await flags.flag_post(await viewer_of(other_member), flagged["post_id"], "spam")
    held = await post_thread(member, community, CLAIM, title="What worked for me")
    crisis = await post_thread(member, community, CRISIS, title="Tonight")
    start = datetime.now(UTC) - timedelta(hours=10)
    for hours, thread in enumerate((labelled, flagged, held, crisis)):
        await ModerationItem.update(
            {ModerationItem.created_at: start + timedelta(hours=hours)}
        ).where(ModerationItem.object_id == thread["id"])
    return labelled, flagged, held, crisis


async def test_crisis_comes_first_then_severity_then_age(
    settings, member, other_member, moderator, community, post_thread, thread_factory
):
    labelled, flagged, held, crisis = await _fill(
        settings, member, other_member, community, post_thread, thread_factory
    )
    listing = await queue.list_queue(await viewer_of(moderator))
    assert [item["object_id"] for item in listing.items] == [
        crisis["id"],
        held["id"],
        labelled["id"],
        flagged["id"],
    ]
    assert listing.items[0]["priority"] is True


async def test_same_severity_is_oldest_first(settings, member, moderator, community, post_thread):
    first = await post_thread(member, community, CLAIM, title="First of two")
    second = await post_thread(member, community, CLAIM, title="Second of two")
    await ModerationItem.update(
        {ModerationItem.created_at: datetime.now(UTC) - timedelta(days=1)}
    ).where(ModerationItem.object_id == first["id"])
    listing = await queue.list_queue(await viewer_of(moderator))
    assert [item["object_id"] for item in listing.items] == [first["id"], second["id"]]


async def test_filters_by_reason_community_and_state(
    settings,
    member,
    other_member,
    moderator,
    admin,
    community,
    other_community,
    post_thread,
    thread_factory,
):
    _, flagged, held, crisis = await _fill(
        settings, member, other_member, community, post_thread, thread_factory
    )
    viewer = await viewer_of(moderator)
    only_crisis = await queue.list_queue(viewer, reason="crisis")
    assert [item["object_id"] for item in only_crisis.items] == [crisis["id"]]
    spam = await queue.list_queue(viewer, reason="spam")
    assert [item["object_id"] for item in spam.items] == [flagged["id"]]
    item = await open_item_for("thread", held["id"])
    await decisions.decide(viewer, item["id"], "remove", "Unsafe advice.")
    resolved = await queue.list_queue(viewer, state="resolved")
    assert [i["object_id"] for i in resolved.items] == [held["id"]]
    assert held["id"] not in [i["object_id"] for i in (await queue.list_queue(viewer)).items]
    admin_viewer = await viewer_of(admin)
    assert (await queue.list_queue(admin_viewer, community=other_community["slug"])).total == 0
    assert (await queue.list_queue(admin_viewer, community=community["slug"])).total == 3


async def test_moderators_see_only_the_communities_they_moderate(
    settings,
    member,
    admin,
    moderator,
    other_moderator,
    community,
    other_community,
    post_thread,
):
    from forum import communities

    await communities.join(await viewer_of(member), other_community["slug"])
    here = await post_thread(member, community, CLAIM, title="In celiac")
    there = await post_thread(member, other_community, CLAIM, title="In long covid")
    mine = await queue.list_queue(await viewer_of(moderator))
    assert [i["object_id"] for i in mine.items] == [here["id"]]
    theirs = await queue.list_queue(await viewer_of(other_moderator))
    assert [i["object_id"] for i in theirs.items] == [there["id"]]
    everything = await queue.list_queue(await viewer_of(admin))
    assert everything.total == 2
    outside = await queue.list_queue(await viewer_of(other_moderator), community=community["slug"])
    assert outside.total == 0


async def test_members_have_no_queue(client, member):
    with pytest.raises(Forbidden):
        await queue.list_queue(await viewer_of(member))
    headers = await api_token(client, member)
    assert (await client.get("/api/v1/moderation/queue", headers=headers)).status_code == 403
    assert (await client.get("/api/v1/moderation/queue")).status_code == 401


async def test_the_api_queue_has_content_reasons_rule_hits_and_flags(
    client, settings, member, other_member, moderator, community, post_thread
):
    held = await post_thread(member, community, CLAIM)
    headers = await api_token(client, moderator)
    body = (
        await client.get("/api/v1/moderation/queue?reason=misinformation", headers=headers)
    ).json()
    assert body["total"] == 1
    item = body["items"][0]
    assert item["object_id"] == held["id"] and item["content"]["body"] == CLAIM
    assert item["content"]["author"] == member["username"]
    hit = next(h for h in item["hits"] if h["rule"] == "stop-insulin-natural-cure")
    assert hit["explanation"] and hit["source_url"].startswith("https://")
    assert item["flags"] == []


async def test_an_appeal_is_hidden_from_the_moderator_who_decided(
    settings, member, moderator, second_moderator, community, post_thread
):
    held = await post_thread(member, community, CLAIM)
    item = await open_item_for("thread", held["id"])
    await decisions.decide(await viewer_of(moderator), item["id"], "remove", "Unsafe.")
    await decisions.appeal(await viewer_of(member), item["id"], "Please read it again, kindly.")
    assert (await queue.list_queue(await viewer_of(moderator))).total == 0
    others = await queue.list_queue(await viewer_of(second_moderator))
    assert [i["id"] for i in others.items] == [item["id"]] and others.items[0]["appealed"]
    detail = await queue.get_item(await viewer_of(second_moderator), item["id"])
    assert detail["may_decide"] and detail["appeal"]["reason"] == "Please read it again, kindly."


async def test_the_item_shows_the_authors_history_only_from_communities_moderated(
    settings, member, admin, moderator, private_community, community, post_thread, thread_factory
):
    from forum import communities

    await communities.add_member(
        await viewer_of(admin), private_community["slug"], member["username"]
    )
    secret = await thread_factory(
        community=private_community, author=member, title="Private matter", body="Only here."
    )
    held = await post_thread(member, community, CLAIM)
    item = await open_item_for("thread", held["id"])
    detail = await queue.get_item(await viewer_of(moderator), item["id"])
    titles = [post["title"] for post in detail["history"]["recent_posts"]]
    assert "Private matter" not in titles and held["title"] in titles
    admin_detail = await queue.get_item(await viewer_of(admin), item["id"])
    assert secret["title"] in [post["title"] for post in admin_detail["history"]["recent_posts"]]
