"""Reporting a message: the moderators see that message and only what the reporter chose to
share, every look is in the audit log, and their decision reaches the conversation."""

from __future__ import annotations

import pytest

from forum import messages
from forum.errors import Conflict, Forbidden, NotFound
from moderation import audit, decisions, queue
from moderation.tables import AuditEntry, ModerationItem
from tests.conftest import api_token, post_form, sign_in, viewer_of
from tests.privacy.conftest import signed_in

EARLIER = ["first private words", "second private words", "third private words"]
REPORTED = "You will regret ignoring me, I know where you live"


async def conversation_with_a_bad_message(sender, member, send):
    started = await send(sender, EARLIER[0], to=[member])
    conversation = started["conversation"]
    await send(member, EARLIER[1], conversation=conversation)
    await send(sender, EARLIER[2], conversation=conversation)
    bad = await send(sender, REPORTED, conversation=conversation)
    await send(sender, "a later private message", conversation=conversation)
    return conversation, bad["id"]


async def test_a_report_shows_moderators_only_the_message_and_what_was_shared(
    settings, sender, member, moderator, send
):
    _, bad = await conversation_with_a_bad_message(sender, member, send)
    report = await messages.report_message(
        settings, await viewer_of(member), bad, "spam", "He's selling this", include_previous=1
    )
    assert report["shared"] == 1
    item = await queue.get_item(await viewer_of(moderator), report["item_id"])
    shown = item["message"]
    assert shown["body"] == REPORTED
    assert [c["body_html"] for c in shown["reports"][0]["context"]] == [f"<p>{EARLIER[2]}</p>"]
    everything = repr(item)
    for text in (EARLIER[0], EARLIER[1], "a later private message"):
        assert text not in everything
    assert "conversation" not in shown  # nothing leads into the conversation


async def test_sharing_nothing_is_the_default(settings, sender, member, moderator, send):
    _, bad = await conversation_with_a_bad_message(sender, member, send)
    report = await messages.report_message(settings, await viewer_of(member), bad, "spam")
    item = await queue.get_item(await viewer_of(moderator), report["item_id"])
    assert item["message"]["reports"][0]["context"] == []
    assert all(text not in repr(item) for text in EARLIER)


async def test_the_queue_lists_a_reported_message_without_its_words(
    client, settings, sender, member, moderator, send
):
    _, bad = await conversation_with_a_bad_message(sender, member, send)
    await messages.report_message(settings, await viewer_of(member), bad, "spam")
    listing = await queue.list_queue(await viewer_of(moderator))
    assert [item["kind"] for item in listing.items] == ["message"]
    assert REPORTED not in repr(listing.items)
    await sign_in(client, moderator)
    page = await client.get("/mod")
    assert "A private message" in page.text and REPORTED not in page.text
    api = await client.get("/api/v1/moderation/queue", headers=await api_token(client, moderator))
    assert REPORTED not in api.text


async def test_every_look_at_a_reported_message_is_audited(
    client, settings, sender, member, moderator, admin, send
):
    _, bad = await conversation_with_a_bad_message(sender, member, send)
    report = await messages.report_message(
        settings, await viewer_of(member), bad, "harassment", include_previous=2
    )
    assert await AuditEntry.count().where(AuditEntry.action == "read_message") == 0
    await sign_in(client, moderator)
    page = await client.get(f"/mod/items/{report['item_id']}")
    assert REPORTED in page.text and EARLIER[1] in page.text and EARLIER[0] not in page.text
    await queue.get_item(await viewer_of(admin), report["item_id"])
    entries = await AuditEntry.select().where(AuditEntry.action == "read_message")
    assert sorted(entry["actor_id"] for entry in entries) == sorted([moderator["id"], admin["id"]])
    assert all(entry["object_id"] == bad and entry["kind"] == "message" for entry in entries)
    assert "2 earlier message(s)" in entries[0]["note"]
    log = await audit.list_entries(await viewer_of(moderator))
    assert any(entry["action"] == "read_message" for entry in log.items)


async def test_only_people_in_the_conversation_can_report_and_not_their_own(
    settings, sender, member, outsider, moderator, send
):
    _, bad = await conversation_with_a_bad_message(sender, member, send)
    for person in (outsider, moderator):
        with pytest.raises(NotFound):
            await messages.report_message(settings, await viewer_of(person), bad, "spam")
    with pytest.raises(Forbidden):
        await messages.report_message(settings, await viewer_of(sender), bad, "spam")
    await messages.report_message(settings, await viewer_of(member), bad, "spam")
    with pytest.raises(Conflict):
        await messages.report_message(settings, await viewer_of(member), bad, "spam")


async def test_removing_a_reported_message_takes_it_out_of_the_conversation(
    settings, sender, member, moderator, send
):
    conversation, bad = await conversation_with_a_bad_message(sender, member, send)
    report = await messages.report_message(settings, await viewer_of(member), bad, "spam")
    await decisions.decide(
        await viewer_of(moderator), report["item_id"], "remove", "No selling cures here."
    )
    data = await messages.get_conversation(await viewer_of(member), conversation)
    removed = next(m for m in data["messages"] if m["id"] == bad)
    assert removed["placeholder"] == "This message was removed by a moderator."
    assert REPORTED not in repr(data["messages"])
    item = await ModerationItem.select().where(ModerationItem.id == report["item_id"]).first()
    assert item["state"] == "resolved"
    with pytest.raises(Conflict):
        await decisions.decide(
            await viewer_of(moderator), report["item_id"], "edit", "Tidying", body="x"
        )


async def test_reporting_from_the_page_can_block_the_sender_too(
    client, make_client, settings, sender, member, send
):
    conversation, bad = await conversation_with_a_bad_message(sender, member, send)
    await sign_in(client, member)
    page = await client.get(f"/messages/{conversation}")
    assert f'href="/messages/report/{bad}"' in page.text
    form = await client.get(f"/messages/report/{bad}")
    assert REPORTED in form.text
    sent = await post_form(
        client,
        f"/messages/report/{bad}",
        {"reason": "spam", "include_previous": "2", "block": "1", "note": ""},
        f"/messages/report/{bad}",
    )
    assert sent.status_code == 303
    assert bad and (await viewer_of(member)).blocked == frozenset({sender["id"]})
    other = await signed_in(make_client, sender)
    # The sender is told nothing, and can't report their own message.
    assert (await other.get(f"/messages/report/{bad}")).status_code == 200
    refused = await post_form(other, f"/messages/report/{bad}", {"reason": "spam"}, "/")
    assert refused.status_code == 403
    await other.aclose()


async def test_reporting_through_the_api(client, settings, sender, member, send):
    _, bad = await conversation_with_a_bad_message(sender, member, send)
    headers = await api_token(client, member)
    answer = await client.post(
        f"/api/v1/messages/{bad}/report",
        json={"reason": "spam", "include_previous": 3},
        headers=headers,
    )
    assert answer.status_code == 201 and answer.json()["shared"] == 3
    wrong = await client.post(
        f"/api/v1/messages/{bad}/report",
        json={"reason": "spam", "include_previous": 99},
        headers=headers,
    )
    assert wrong.status_code == 422


async def test_a_burst_of_reports_sent_at_once_stops_at_the_hourly_limit(
    settings, sender, member, send
):
    import asyncio

    from forum.errors import RateLimited
    from forum.tables import MessageReport

    started = await send(sender, "message 0", to=[member])
    ids = [started["id"]]
    for number in range(1, messages.REPORTS_PER_HOUR + 5):
        sent = await send(sender, f"message {number}", conversation=started["conversation"])
        ids.append(sent["id"])
    reporter = await viewer_of(member)
    results = await asyncio.gather(
        *(messages.report_message(settings, reporter, i, "spam") for i in ids),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, RateLimited)]
    assert len(refused) == 5 and all(r.retry_after > 0 for r in refused)
    assert [r for r in results if isinstance(r, Exception) and r not in refused] == []
    assert await MessageReport.count() == messages.REPORTS_PER_HOUR
