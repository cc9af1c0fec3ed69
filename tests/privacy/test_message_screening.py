"""Screening on private messages: crisis language shows help at once, personal details warn
first, claims and links from new accounts are held until a moderator approves, and what a
moderator then sees is only that message, logged."""

from __future__ import annotations

import pytest

from forum import messages
from forum.errors import NotFound
from moderation import decisions, queue
from moderation.posting import ScreeningRejected
from moderation.tables import AuditEntry, ModerationItem
from tests.conftest import api_token, post_form, shows, sign_in, viewer_of
from tests.moderation.conftest import CLAIM, CRISIS, LABELLED_CLAIM, PHONE
from tests.privacy.conftest import kinds_for

HELD_WORDS = "Buy my miracle cure, only 99 dollars"


async def test_crisis_language_is_delivered_with_help_for_the_sender_and_no_queue_item(
    sender, member, send
):
    sent = await send(sender, CRISIS, to=[member])
    assert sent["status"] == "published"
    assert sent["moderation"]["action"] == "escalate"
    assert sent["moderation"]["resources"]
    assert await ModerationItem.count() == 0  # moderators don't read conversations
    data = await messages.get_conversation(await viewer_of(member), sent["conversation"])
    assert CRISIS in data["messages"][0]["body"]


async def test_the_crisis_panel_shows_on_the_next_page(client, sender, member):
    await sign_in(client, sender)
    sent = await post_form(
        client, "/messages/new", {"to": member["username"], "body": CRISIS}, "/messages/new"
    )
    assert sent.status_code == 303
    page = await client.get(sent.headers["location"])
    assert 'class="crisis-panel"' in page.text


async def test_personal_details_warn_first_and_are_delivered_if_the_sender_confirms(
    client, sender, member, send
):
    with pytest.raises(ScreeningRejected) as warned:
        await send(sender, PHONE, to=[member])
    assert warned.value.code == "phi_warning"
    sent = await send(sender, PHONE, to=[member], confirm_phi=True)
    assert sent["status"] == "published"  # to the person they chose, not to a moderator
    assert await ModerationItem.count() == 0
    await sign_in(client, sender)
    page = await post_form(
        client, "/messages/new", {"to": member["username"], "body": PHONE}, "/messages/new"
    )
    assert page.status_code == 422
    assert "Send it as it is" in page.text and "a moderator will review" not in page.text
    headers = await api_token(client, sender)
    api = await client.post(
        "/api/v1/conversations", json={"to": [member["username"]], "body": PHONE}, headers=headers
    )
    assert api.status_code == 422 and api.json()["error"]["code"] == "phi_warning"


async def test_a_labelled_claim_is_delivered_with_its_label(sender, member, send):
    sent = await send(sender, LABELLED_CLAIM, to=[member])
    assert sent["status"] == "published"
    data = await messages.get_conversation(await viewer_of(member), sent["conversation"])
    assert data["messages"][0]["label"]


@pytest.mark.parametrize("text", [CLAIM, HELD_WORDS])
async def test_what_screening_holds_waits_for_a_moderator_before_delivery(
    sender, member, moderator, send, text
):
    first = await send(sender, "Hello", to=[member])
    held = await send(sender, text, conversation=first["conversation"])
    assert held["status"] == "held"
    for_member = await messages.get_conversation(await viewer_of(member), first["conversation"])
    assert [m["id"] for m in for_member["messages"]] == [first["id"]]
    for_sender = await messages.get_conversation(await viewer_of(sender), first["conversation"])
    assert for_sender["messages"][-1]["status"] == "held"
    item = await ModerationItem.select().where(ModerationItem.kind == "message").first()
    assert item["object_id"] == held["id"] and item["community"] is None


async def test_links_from_a_new_account_are_held_and_delivered_once_approved(
    settings, sender, member, moderator, send
):
    started = await send(sender, "Have you seen anything useful?", to=[member])
    await messages.get_conversation(await viewer_of(member), started["conversation"])
    assert (await viewer_of(member)).trust_level == 0
    held = await send(
        member, "Try https://example.org/cure-shop", conversation=started["conversation"]
    )
    assert held["status"] == "held"
    assert any(r["rule"] == "new-member-message-links" for r in held["moderation"]["reasons"])
    assert "message" not in await kinds_for(sender)
    visible = await messages.get_conversation(await viewer_of(sender), started["conversation"])
    assert held["id"] not in [m["id"] for m in visible["messages"]]
    # The trusted sender's own links go straight through.
    assert (await send(sender, "See https://example.org/x", conversation=started["conversation"]))[
        "status"
    ] == "published"
    item = await ModerationItem.select().where(ModerationItem.object_id == held["id"]).first()
    detail = await queue.get_item(await viewer_of(moderator), item["id"])
    assert "example.org/cure-shop" in detail["message"]["body"]
    assert detail["message"]["reports"] == []
    assert await AuditEntry.count().where(AuditEntry.action == "read_message") == 1
    await decisions.decide(await viewer_of(moderator), item["id"], "approve", "")
    assert "message" in await kinds_for(sender)
    delivered = await messages.get_conversation(await viewer_of(sender), started["conversation"])
    assert held["id"] in [m["id"] for m in delivered["messages"]]


async def test_a_held_first_message_is_invisible_to_the_recipient(sender, member, send):
    held = await send(sender, HELD_WORDS, to=[member])
    assert held["status"] == "held"
    assert (await messages.list_conversations(await viewer_of(member))).total == 0
    with pytest.raises(NotFound):
        await messages.get_conversation(await viewer_of(member), held["conversation"])
    assert (await messages.list_conversations(await viewer_of(sender))).total == 1
    assert await kinds_for(member) == []


async def test_blocked_domains_are_refused_with_the_text_kept(client, sender, member):
    await sign_in(client, sender)
    text = "The real cure is on naturalnews.com/cure please read it"
    page = await post_form(
        client, "/messages/new", {"to": member["username"], "body": text}, "/messages/new"
    )
    assert page.status_code == 422
    assert "naturalnews.com" in page.text and shows(page, "aren't allowed here")
    assert (await messages.list_conversations(await viewer_of(member))).total == 0


async def test_link_shorteners_hold_even_from_trusted_members(sender, member, send):
    held = await send(sender, "Join us at t.me/curegroup", to=[member])
    assert held["status"] == "held"
    assert (await messages.list_conversations(await viewer_of(member))).total == 0
