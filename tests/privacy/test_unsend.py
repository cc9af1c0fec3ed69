"""Unsending a private message: a sender takes back what they sent by mistake, for everyone in
the conversation, unless the moderators already have it."""

from __future__ import annotations

from typing import Any

import pytest

from forum import messages
from forum.errors import Conflict, NotFound
from forum.tables import Notification, PrivateMessage
from tests.conftest import api_token, csrf_from, shows, sign_in, viewer_of
from tests.privacy.test_messages import unread_messages

PRIVATE = "My HIV clinic is on Tuesdays at 9, room 4"


async def stored(message_id: int) -> dict[str, Any]:
    row = await PrivateMessage.select().where(PrivateMessage.id == message_id).first()
    assert row is not None
    return row


async def test_an_unsent_message_is_a_placeholder_for_everyone_and_its_words_are_erased(
    sender, member, send
):
    sent = await send(sender, PRIVATE, to=[member])
    unsent = await messages.unsend_message(await viewer_of(sender), sent["id"])
    assert unsent["status"] == "unsent" and unsent["body_html"] == ""
    row = await stored(sent["id"])
    assert (row["status"], row["body"], row["body_html"]) == ("unsent", "", "")
    for person in (member, sender):
        shown = await messages.get_conversation(await viewer_of(person), sent["conversation"])
        assert shown["messages"][0]["placeholder"] == messages.PLACEHOLDERS["unsent"]
        assert shown["messages"][0]["body_html"] == ""
    inbox = await messages.list_conversations(await viewer_of(member))
    assert PRIVATE not in str(inbox.items[0]["preview"])


async def test_unsending_takes_back_the_unread_count_and_the_notification(sender, member, send):
    sent = await send(sender, PRIVATE, to=[member])
    assert await unread_messages(member) == 1
    await messages.unsend_message(await viewer_of(sender), sent["id"])
    assert await unread_messages(member) == 0
    assert await Notification.count().where(Notification.user == member["id"]) == 0


async def test_a_later_message_keeps_the_notification_that_announces_it(sender, member, send):
    first = await send(sender, PRIVATE, to=[member])
    await send(sender, "Sorry, wrong person!", conversation=first["conversation"])
    await messages.unsend_message(await viewer_of(sender), first["id"])
    assert await unread_messages(member) == 1
    assert await Notification.count().where(Notification.user == member["id"]) == 1


async def test_only_the_sender_may_unsend_and_twice_is_no_error(sender, member, outsider, send):
    sent = await send(sender, PRIVATE, to=[member])
    for someone in (member, outsider):
        with pytest.raises(NotFound):
            await messages.unsend_message(await viewer_of(someone), sent["id"])
    assert (await stored(sent["id"]))["body"] == PRIVATE
    for _ in range(2):
        again = await messages.unsend_message(await viewer_of(sender), sent["id"])
        assert again["status"] == "unsent"
    with pytest.raises(NotFound):
        await messages.unsend_message(await viewer_of(sender), 10**12)


async def test_a_reported_message_stays_for_the_moderators(settings, sender, member, send):
    sent = await send(sender, "You are pathetic", to=[member])
    await messages.report_message(settings, await viewer_of(member), sent["id"], "harassment")
    with pytest.raises(Conflict) as refused:
        await messages.unsend_message(await viewer_of(sender), sent["id"])
    assert "with the moderators" in refused.value.message
    row = await stored(sent["id"])
    assert (row["status"], row["body"]) == ("published", "You are pathetic")


async def test_unsending_on_the_web_asks_first_and_needs_the_forms_token(
    client, make_client, sender, member, send
):
    sent = await send(sender, PRIVATE, to=[member])
    conversation = f"/messages/{sent['conversation']}"
    await sign_in(client, sender)
    assert f'href="/messages/unsend/{sent["id"]}"' in (await client.get(conversation)).text
    asked = await client.get(f"/messages/unsend/{sent['id']}")
    assert asked.status_code == 200 and "Unsend your message?" in asked.text
    assert shows(asked, PRIVATE)  # the sender sees what they are taking back
    forged = await client.post(f"/messages/unsend/{sent['id']}", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert (await stored(sent["id"]))["body"] == PRIVATE
    done = await client.post(
        f"/messages/unsend/{sent['id']}", data={"csrf_token": await csrf_from(client, conversation)}
    )
    assert done.status_code == 303
    after = await client.get(done.headers["location"])
    assert "Your message is unsent" in after.text and not shows(after, PRIVATE)
    async with make_client() as reading:
        await sign_in(reading, member)
        page = await reading.get(conversation)
        assert not shows(page, PRIVATE) and shows(page, messages.PLACEHOLDERS["unsent"])
        assert "/messages/unsend/" not in page.text  # not theirs to unsend
        assert (await reading.get(f"/messages/unsend/{sent['id']}")).status_code == 303


async def test_a_reported_message_shows_why_it_cannot_be_unsent_on_the_web(
    client, settings, sender, member, send
):
    sent = await send(sender, "You are pathetic", to=[member])
    await messages.report_message(settings, await viewer_of(member), sent["id"], "harassment")
    await sign_in(client, sender)
    token = await csrf_from(client, f"/messages/{sent['conversation']}")
    refused = await client.post(f"/messages/unsend/{sent['id']}", data={"csrf_token": token})
    assert refused.status_code == 409 and "with the moderators" in refused.text


async def test_the_api_unsends_for_the_sender_alone(client, sender, member, send):
    sent = await send(sender, PRIVATE, to=[member])
    path = f"/api/v1/messages/{sent['id']}/unsend"
    refused = await client.post(path, headers=await api_token(client, member))
    assert refused.status_code == 404
    answer = await client.post(path, headers=await api_token(client, sender))
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "unsent" and answer.json()["body_html"] == ""
    assert (await client.post(path)).status_code == 401


async def test_unsending_an_earlier_message_goes_back_to_the_page_that_shows_it(
    client, sender, member, send, monkeypatch
):
    monkeypatch.setattr(messages, "MESSAGES_PER_PAGE", 3)
    first = await send(sender, PRIVATE, to=[member])
    for number in range(2, 6):
        await send(sender, f"Message {number}", conversation=first["conversation"])
    await sign_in(client, sender)
    asked = await client.get(f"/messages/unsend/{first['id']}")
    back = f"/messages/{first['conversation']}?before={first['id'] + 1}#message-{first['id']}"
    assert f'href="{back}"' in asked.text  # "Back to the conversation" and "Keep it"
    done = await client.post(
        f"/messages/unsend/{first['id']}",
        data={"csrf_token": await csrf_from(client, f"/messages/{first['conversation']}")},
    )
    assert done.headers["location"] == back
    shown = await client.get(back)
    assert f'id="message-{first["id"]}"' in shown.text
    assert shows(shown, messages.PLACEHOLDERS["unsent"]) and not shows(shown, PRIVATE)
    latest = (await send(sender, "Message 6", conversation=first["conversation"]))["id"]
    asked = await client.get(f"/messages/unsend/{latest}")  # on the latest page: no ?before=
    assert f'href="/messages/{first["conversation"]}#message-{latest}"' in asked.text
