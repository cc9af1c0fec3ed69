"""Moderators' decisions, what they change, who is told, the audit trail, and appeals."""

from __future__ import annotations

import json

import pytest

from forum import accounts, threads
from forum.errors import Conflict, Forbidden, Invalid, NotFound
from forum.tables import Post, PostRevision, Thread, User
from moderation import audit, decisions, flags
from moderation.tables import AuditEntry, Flag, ModerationItem, Notice
from search.tables import SearchOutbox
from tests.conftest import api_token, viewer_of
from tests.moderation.conftest import CLAIM, LABELLED_CLAIM, open_item_for


async def _held_reply(settings, member, community, thread_factory, body=CLAIM):
    thread = await thread_factory(community=community, author=member)
    reply = await threads.post_reply(settings, await viewer_of(member), thread["id"], body)
    item = await open_item_for("post", reply["id"])
    return thread, reply, item


async def _entries(action):
    rows = await AuditEntry.select().where(AuditEntry.action == action)
    return [
        {**row, "before": json.loads(row["before"]), "after": json.loads(row["after"])}
        for row in rows
    ]


async def test_approving_a_held_reply_publishes_it_counts_it_and_tells_the_author(
    settings, member, moderator, community, thread_factory
):
    thread, reply, item = await _held_reply(settings, member, community, thread_factory)
    outbox_before = await SearchOutbox.count()
    result = await decisions.decide(await viewer_of(moderator), item["id"], "approve")
    assert result["status"] == "published" and result["state"] == "resolved"
    post = await Post.select(Post.status).where(Post.id == reply["id"]).first()
    assert post["status"] == "published"
    counts = await Thread.select(Thread.reply_count).where(Thread.id == thread["id"]).first()
    assert counts["reply_count"] == 1
    assert await SearchOutbox.count() == outbox_before + 1
    [entry] = await _entries("approve")
    assert entry["actor_name"] == "grace_mod" and entry["target_name"] == "maria"
    assert entry["before"]["status"] == "held" and entry["after"]["status"] == "published"
    notice = await Notice.select().where(Notice.user == member["id"]).first()
    assert "visible to everyone" in notice["message"]
    assert (await accounts.load_viewer(member["id"], 0)).unread_notices == 1


async def test_removing_with_a_note_tells_the_author_why_and_upholds_the_flags(
    settings, member, other_member, moderator, community, thread_factory
):
    thread = await thread_factory(community=community, author=member, body=LABELLED_CLAIM)
    await flags.flag_post(await viewer_of(other_member), thread["post_id"], "misinformation")
    item = await open_item_for("thread", thread["id"])
    await decisions.decide(
        await viewer_of(moderator),
        item["id"],
        "remove",
        "Statins are not poison; see the NHS page.",
    )
    status = await Thread.select(Thread.status).where(Thread.id == thread["id"]).first()
    assert status["status"] == "removed"
    flag = await Flag.select(Flag.state).first()
    assert flag["state"] == "upheld"
    notice = await Notice.select().where(Notice.user == member["id"]).first()
    assert "removed your post" in notice["message"] and "see the NHS page" in notice["message"]
    assert notice["can_appeal"] is True
    [entry] = await _entries("remove")
    assert entry["note"] == "Statins are not poison; see the NHS page."
    assert entry["before"]["status"] == "published" and entry["after"]["status"] == "removed"


async def test_hide_then_restore(
    settings, member, other_member, moderator, community, thread_factory, reply_factory
):
    thread = await thread_factory(community=community, author=member)
    reply = await reply_factory(thread=thread, author=member, body="A rude reply")
    await flags.flag_post(await viewer_of(other_member), reply["id"], "harassment")
    item = await open_item_for("post", reply["id"])
    moderator_viewer = await viewer_of(moderator)
    await decisions.decide(moderator_viewer, item["id"], "hide", "Please keep it kind.")
    counts = await Thread.select(Thread.reply_count).where(Thread.id == thread["id"]).first()
    assert counts["reply_count"] == 0
    await decisions.decide(moderator_viewer, item["id"], "restore")
    post = await Post.select(Post.status).where(Post.id == reply["id"]).first()
    assert post["status"] == "published"
    counts = await Thread.select(Thread.reply_count).where(Thread.id == thread["id"]).first()
    assert counts["reply_count"] == 1
    with pytest.raises(Conflict):
        await decisions.decide(moderator_viewer, item["id"], "restore")


async def test_a_moderator_edits_out_a_phone_number(
    settings, member, moderator, community, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    reply = await threads.post_reply(
        settings,
        await viewer_of(member),
        thread["id"],
        "Text me on 07700 900123 anytime.",
        confirm_phi=True,
    )
    item = await open_item_for("post", reply["id"])
    await decisions.decide(
        await viewer_of(moderator),
        item["id"],
        "edit",
        "I took your number out: anyone can read this page.",
        body="Text me anytime (send a private message).",
    )
    post = await Post.select(Post.body, Post.status).where(Post.id == reply["id"]).first()
    assert post == {"body": "Text me anytime (send a private message).", "status": "published"}
    revision = await PostRevision.select().where(PostRevision.post == reply["id"]).first()
    assert "07700 900123" in revision["body"] and revision["edited_by"] == moderator["id"]
    [entry] = await _entries("edit")
    assert "07700 900123" in entry["before"]["body"]
    assert entry["after"]["body"] == "Text me anytime (send a private message)."


async def test_notes_are_required_for_decisions_against_the_author(
    settings, member, moderator, community, thread_factory
):
    _, _, item = await _held_reply(settings, member, community, thread_factory)
    with pytest.raises(Invalid) as error:
        await decisions.decide(await viewer_of(moderator), item["id"], "remove", "")
    assert "note" in error.value.fields
    with pytest.raises(Invalid):
        await decisions.decide(await viewer_of(moderator), item["id"], "obliterate", "x")


async def test_warning_a_member_sends_them_a_notice(
    settings, member, moderator, community, thread_factory
):
    _, _, item = await _held_reply(settings, member, community, thread_factory)
    await decisions.decide(
        await viewer_of(moderator), item["id"], "remove", "Unsafe advice.", member_action="warn"
    )
    notice = await Notice.select().where(Notice.user == member["id"]).first()
    assert "warning" in notice["message"] and "Unsafe advice." in notice["message"]
    assert await AuditEntry.count().where(AuditEntry.action == "warn") == 1


async def test_a_suspended_member_cannot_post_until_the_suspension_ends(
    client, settings, member, moderator, community, thread_factory
):
    thread, _, item = await _held_reply(settings, member, community, thread_factory)
    await decisions.decide(
        await viewer_of(moderator), item["id"], "suspend", "Repeated unsafe advice.", days=3
    )
    user = (
        await User.select(User.status, User.suspended_until).where(User.id == member["id"]).first()
    )
    assert user["status"] == "suspended" and user["suspended_until"] is not None
    viewer = await viewer_of(member)
    assert viewer.is_suspended
    with pytest.raises(Forbidden):
        await threads.post_reply(settings, viewer, thread["id"], "Let me explain")
    headers = await api_token(client, member)
    response = await client.post(
        f"/api/v1/threads/{thread['id']}/posts", json={"body": "Hello"}, headers=headers
    )
    assert response.status_code == 403


async def test_a_ban_ends_every_session_and_token(
    client, settings, member, moderator, community, thread_factory
):
    _, _, item = await _held_reply(settings, member, community, thread_factory)
    headers = await api_token(client, member)
    await decisions.decide(await viewer_of(moderator), item["id"], "ban", "Spam account.")
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 401
    user = await User.select(User.status).where(User.id == member["id"]).first()
    assert user["status"] == "banned"


async def test_moderators_cannot_act_outside_their_communities(
    client, settings, member, moderator, other_moderator, community, thread_factory
):
    _, _, item = await _held_reply(settings, member, community, thread_factory)
    with pytest.raises(NotFound):
        await decisions.decide(await viewer_of(other_moderator), item["id"], "approve")
    headers = await api_token(client, other_moderator)
    response = await client.post(
        f"/api/v1/moderation/items/{item['id']}/decision",
        json={"action": "remove", "note": "not mine to decide"},
        headers=headers,
    )
    assert response.status_code == 404
    assert (
        await client.get(f"/api/v1/moderation/items/{item['id']}", headers=headers)
    ).status_code == 404
    still = (
        await ModerationItem.select(ModerationItem.state)
        .where(ModerationItem.id == item["id"])
        .first()
    )
    assert still["state"] == "open"


async def test_members_cannot_decide_anything(
    client, settings, member, other_member, community, thread_factory
):
    _, _, item = await _held_reply(settings, member, community, thread_factory)
    with pytest.raises(NotFound):
        await decisions.decide(await viewer_of(other_member), item["id"], "approve")


async def test_moderators_do_not_decide_about_their_own_posts(
    settings, moderator, other_member, community, thread_factory
):
    thread = await thread_factory(community=community, author=moderator)
    await flags.flag_post(await viewer_of(other_member), thread["post_id"], "spam")
    item = await open_item_for("thread", thread["id"])
    with pytest.raises(Forbidden):
        await decisions.decide(await viewer_of(moderator), item["id"], "approve")


async def test_only_admins_suspend_moderators(
    settings, moderator, second_moderator, admin, other_member, community, thread_factory
):
    thread = await thread_factory(community=community, author=second_moderator)
    await flags.flag_post(await viewer_of(other_member), thread["post_id"], "harassment")
    item = await open_item_for("thread", thread["id"])
    with pytest.raises(Forbidden):
        await decisions.decide(await viewer_of(moderator), item["id"], "suspend", "No.", days=2)
    await decisions.decide(await viewer_of(admin), item["id"], "suspend", "Cooling off.", days=2)


async def test_an_appeal_goes_to_a_different_moderator_once(
    settings, member, moderator, second_moderator, community, thread_factory
):
    _, reply, item = await _held_reply(settings, member, community, thread_factory)
    await decisions.decide(await viewer_of(moderator), item["id"], "remove", "Unsafe.")
    author = await viewer_of(member)
    appeal = await decisions.appeal(
        author, item["id"], "I was quoting my aunt, not advising anyone."
    )
    assert appeal["state"] == "open"
    with pytest.raises(Conflict):
        await decisions.appeal(author, item["id"], "Please look again, I insist on it.")
    with pytest.raises(Forbidden):
        await decisions.decide(await viewer_of(moderator), item["id"], "approve")
    result = await decisions.decide(await viewer_of(second_moderator), item["id"], "restore")
    assert result["appeal"] == "granted"
    post = await Post.select(Post.status).where(Post.id == reply["id"]).first()
    assert post["status"] == "published"
    notices = await Notice.select().where(Notice.user == member["id"]).order_by(Notice.id)
    assert "different moderator" in notices[-1]["message"]
    assert await AuditEntry.count().where(AuditEntry.action == "appeal") == 1


async def test_only_the_author_appeals_and_only_decisions_against_them(
    settings, member, other_member, moderator, community, thread_factory
):
    _, _, item = await _held_reply(settings, member, community, thread_factory)
    await decisions.decide(await viewer_of(moderator), item["id"], "approve")
    with pytest.raises(NotFound):
        await decisions.appeal(
            await viewer_of(other_member), item["id"], "Not my post at all, but still."
        )
    with pytest.raises(Conflict):
        await decisions.appeal(
            await viewer_of(member), item["id"], "Nothing to appeal here really."
        )


async def test_suspended_members_can_still_appeal(
    settings, member, moderator, community, thread_factory
):
    _, _, item = await _held_reply(settings, member, community, thread_factory)
    await decisions.decide(await viewer_of(moderator), item["id"], "suspend", "Too far.", days=7)
    appeal = await decisions.appeal(
        await viewer_of(member), item["id"], "I'm sorry, it won't happen again."
    )
    assert appeal["state"] == "open"


async def test_the_audit_log_cannot_be_changed(
    settings, member, moderator, community, thread_factory
):
    _, _, item = await _held_reply(settings, member, community, thread_factory)
    await decisions.decide(await viewer_of(moderator), item["id"], "approve")
    assert not hasattr(audit, "update") and not hasattr(audit, "delete")
    with pytest.raises(Exception, match="append-only"):
        await AuditEntry.update({AuditEntry.note: "nothing happened"}).where(AuditEntry.id > 0)
    with pytest.raises(Exception, match="append-only"):
        await AuditEntry.delete().where(AuditEntry.id > 0)
    assert await AuditEntry.count() >= 2


async def test_the_audit_log_is_for_moderators_of_each_community(
    client, settings, member, moderator, other_moderator, admin, community, thread_factory
):
    _, _, item = await _held_reply(settings, member, community, thread_factory)
    await decisions.decide(await viewer_of(moderator), item["id"], "approve")
    mine = await audit.list_entries(await viewer_of(moderator))
    assert {entry["action"] for entry in mine.items} >= {"hold", "approve"}
    assert (await audit.list_entries(await viewer_of(other_moderator))).total == 0
    assert (await audit.list_entries(await viewer_of(admin))).total == mine.total
    with pytest.raises(Forbidden):
        await audit.list_entries(await viewer_of(member))
    headers = await api_token(client, moderator)
    api = await client.get("/api/v1/moderation/audit", headers=headers)
    assert api.status_code == 200 and api.json()["total"] == mine.total
    assert api.json()["items"][0]["before"] is not None
    member_headers = await api_token(client, member)
    assert (await client.get("/api/v1/moderation/audit", headers=member_headers)).status_code == 403


async def test_trust_falls_after_decisions_against_a_member(
    settings, member, moderator, community, thread_factory
):
    from datetime import UTC, datetime, timedelta

    await User.update(
        {User.created_at: datetime.now(UTC) - timedelta(days=30), User.trust_level: 1}
    ).where(User.id == member["id"])
    _, _, item = await _held_reply(settings, member, community, thread_factory)
    await decisions.decide(await viewer_of(moderator), item["id"], "remove", "Unsafe.")
    user = await User.select(User.trust_level).where(User.id == member["id"]).first()
    assert user["trust_level"] == 0


async def test_an_appeal_waits_while_the_post_is_back_in_the_queue(
    settings, member, other_member, moderator, community, thread_factory
):
    thread = await thread_factory(
        community=community, author=member, body="Call my GP, she's great."
    )
    await flags.flag_post(await viewer_of(other_member), thread["post_id"], "privacy")
    item = await open_item_for("thread", thread["id"])
    await decisions.decide(
        await viewer_of(moderator), item["id"], "edit", "Trimmed.", body="My GP is great."
    )
    await flags.flag_post(await viewer_of(other_member), thread["post_id"], "spam")
    with pytest.raises(Conflict):
        await decisions.appeal(await viewer_of(member), item["id"], "The edit changed my meaning.")
