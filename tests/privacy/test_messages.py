"""Private conversations: who may write to whom, replying, the inbox and its unread counts,
leaving, muting, notifications, and that nobody outside a conversation can read it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from forum import accounts, blocks, communities, messages, notifications
from forum.errors import Forbidden, Invalid, NotFound
from forum.tables import ConversationMember, Notification
from tests.conftest import api_token, csrf_from, make_user, post_form, shows, sign_in, viewer_of
from tests.privacy.conftest import kinds_for, signed_in, trusted


async def unread_messages(user: dict[str, Any]) -> int:
    viewer = await accounts.load_viewer(user["id"], await accounts.session_epoch(user["id"]))
    assert viewer is not None
    return viewer.unread_messages


# Who may write to whom ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("audience", "shares_a_community", "allowed"),
    [
        ("anyone", True, True),
        ("anyone", False, True),
        ("communities", True, True),
        ("communities", False, False),
        ("nobody", True, False),
        ("nobody", False, False),
    ],
)
async def test_who_may_start_a_conversation_follows_the_recipients_setting(
    settings, sender, member, outsider, send, audience, shares_a_community, allowed
):
    recipient = member if shares_a_community else outsider
    await messages.set_audience(await viewer_of(recipient), audience)
    if allowed:
        sent = await send(sender, to=[recipient])
        assert sent["status"] == "published"
    else:
        with pytest.raises(Invalid) as refused:
            await send(sender, to=[recipient])
        assert f"@{recipient['username']}" in refused.value.fields["to"]


async def test_the_default_is_members_of_a_shared_community(sender, member, outsider, send):
    assert await messages.audience_of(member["id"]) == "communities"
    await send(sender, to=[member])
    with pytest.raises(Invalid):
        await send(sender, to=[outsider])


async def test_moderators_and_admins_can_reach_the_people_they_look_after(
    moderator, admin, member, send
):
    await messages.set_audience(await viewer_of(member), "nobody")
    assert (await send(moderator, to=[member]))["status"] == "published"
    assert (await send(admin, to=[member]))["status"] == "published"


async def test_new_members_cannot_start_conversations_but_can_reply(settings, member, sender, send):
    assert (await viewer_of(member)).trust_level == 0
    with pytest.raises(Forbidden) as refused:
        await send(member, to=[sender])
    assert "New members" in refused.value.message
    started = await send(sender, to=[member])
    reply = await send(member, "Of course, ask away.", conversation=started["conversation"])
    assert reply["status"] == "published"


async def test_unknown_people_and_oneself_are_refused_by_name(sender, send, member):
    with pytest.raises(Invalid) as refused:
        await send(sender, to=[{"username": "nobody-here"}])
    assert "@nobody-here" in refused.value.fields["to"]
    with pytest.raises(Invalid):
        await send(sender, to=[sender])


async def test_a_conversation_can_have_several_people(settings, sender, member, other_member, send):
    started = await send(sender, to=[member, other_member], subject="Parents' group")
    for person in (member, other_member):
        inbox = await messages.list_conversations(await viewer_of(person))
        assert [c["id"] for c in inbox.items] == [started["conversation"]]
        assert sorted(p["username"] for p in inbox.items[0]["people"]) == sorted(
            u["username"] for u in (sender, member, other_member) if u is not person
        )


# Reading, replying, unread counts -------------------------------------------------------------


async def test_the_inbox_counts_unread_messages_until_the_conversation_is_read(
    sender, member, send
):
    started = await send(sender, to=[member])
    await send(sender, "And one more thing.", conversation=started["conversation"])
    assert await unread_messages(member) == 2
    assert await unread_messages(sender) == 0  # not for their own messages
    inbox = await messages.list_conversations(await viewer_of(member))
    assert inbox.items[0]["unread"] == 2
    assert inbox.items[0]["preview"] == "And one more thing."
    await messages.get_conversation(await viewer_of(member), started["conversation"])
    assert await unread_messages(member) == 0
    assert (await messages.list_conversations(await viewer_of(member))).items[0]["unread"] == 0


async def test_a_new_message_notifies_once_until_read_and_never_carries_the_text(
    sender, member, send
):
    started = await send(sender, "My private words", to=[member])
    await send(sender, "More private words", conversation=started["conversation"])
    rows = await Notification.select().where(Notification.user == member["id"])
    assert [row["kind"] for row in rows] == ["message"]
    assert rows[0]["conversation_id"] == started["conversation"]
    await messages.get_conversation(await viewer_of(member), started["conversation"])
    await send(sender, "Third", conversation=started["conversation"])
    assert await kinds_for(member) == ["message", "message"]
    listing = await notifications.list_notifications(await viewer_of(member))
    assert listing.items[0]["text"] == "Sender_Sam sent you a private message"
    assert listing.items[0]["url"] == f"/messages/{started['conversation']}"
    assert all("private words" not in item["text"] for item in listing.items)


async def test_messages_go_through_the_content_pipeline(sender, member, send):
    started = await send(
        sender, "**Hi** <script>alert(1)</script> [link](javascript:alert(1))", to=[member]
    )
    data = await messages.get_conversation(await viewer_of(member), started["conversation"])
    html = data["messages"][0]["body_html"]
    assert "<strong>Hi</strong>" in html
    assert "<script" not in html and 'href="javascript' not in html


async def test_a_muted_conversation_neither_notifies_nor_counts(sender, member, send):
    started = await send(sender, to=[member])
    await messages.get_conversation(await viewer_of(member), started["conversation"])
    await messages.set_muted(await viewer_of(member), started["conversation"], True)
    await send(sender, "Still there?", conversation=started["conversation"])
    assert await kinds_for(member) == ["message"]  # only the first, already read
    assert await unread_messages(member) == 0
    inbox = await messages.list_conversations(await viewer_of(member))
    assert inbox.items[0]["muted"] and inbox.items[0]["unread"] == 1


async def test_leaving_takes_the_conversation_away_and_the_others_see_it(sender, member, send):
    started = await send(sender, to=[member])
    await messages.leave(await viewer_of(member), started["conversation"])
    assert (await messages.list_conversations(await viewer_of(member))).total == 0
    with pytest.raises(NotFound):
        await messages.get_conversation(await viewer_of(member), started["conversation"])
    data = await messages.get_conversation(await viewer_of(sender), started["conversation"])
    assert data["people"][0]["left_at"] is not None
    assert not data["can_reply"]
    with pytest.raises(Forbidden) as refused:
        await send(sender, "Hello?", conversation=started["conversation"])
    assert "left" in refused.value.message


async def test_nobody_outside_a_conversation_can_read_it_moderators_and_admins_included(
    client, make_client, sender, member, moderator, admin, outsider, send
):
    started = await send(sender, "Just between us", to=[member])
    conversation = started["conversation"]
    for person in (moderator, admin, outsider):
        with pytest.raises(NotFound):
            await messages.get_conversation(await viewer_of(person), conversation)
        browser = await signed_in(make_client, person)
        page = await browser.get(f"/messages/{conversation}")
        assert page.status_code == 404 and "Just between us" not in page.text
        headers = await api_token(browser, person)
        answer = await browser.get(f"/api/v1/conversations/{conversation}", headers=headers)
        assert answer.status_code == 404 and "Just between us" not in answer.text
        await browser.aclose()
    assert (await client.get(f"/messages/{conversation}")).status_code == 303  # visitor


# Pages -----------------------------------------------------------------------------------------


async def test_starting_from_a_profile_replying_and_the_header_count_on_the_web(
    client, make_client, sender, member
):
    await sign_in(client, sender)
    profile = await client.get(f"/u/{member['username']}")
    assert f'href="/messages/new?to={member["username"]}"' in profile.text
    new = await client.get(f"/messages/new?to={member['username']}")
    assert f'value="{member["username"]}"' in new.text
    sent = await post_form(
        client,
        "/messages/new",
        {"to": member["username"], "subject": "Telling the kids", "body": "How did you do it?"},
        "/messages/new",
    )
    assert sent.status_code == 303
    conversation_url = sent.headers["location"].split("#")[0]
    other = await signed_in(make_client, member)
    home = await other.get("/")
    assert 'Messages <span class="count" aria-label="1 unread">1</span>' in home.text
    inbox = await other.get("/messages")
    assert shows(inbox, "Telling the kids") and shows(inbox, "1 unread message")
    page = await other.get(conversation_url)
    assert shows(page, "How did you do it?")
    token = await csrf_from(other, conversation_url)
    replied = await other.post(
        conversation_url + "/reply", data={"body": "Slowly, and honestly.", "csrf_token": token}
    )
    assert replied.status_code == 303
    assert shows(await client.get(conversation_url), "Slowly, and honestly.")
    assert 'Messages <span class="count"' not in (await other.get("/messages")).text
    await other.aclose()


async def test_starting_from_a_post_fills_in_who_and_what_about(
    client, sender, member, community, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    await sign_in(client, sender)
    page = await client.get(f"/t/{thread['id']}")
    link = f"/messages/new?to={member['username']}&amp;post={thread['post_id']}"
    assert link in page.text
    form = await client.get(link.replace("&amp;", "&"))
    assert shows(form, f"About “{thread['title']}”")


async def test_mute_and_leave_buttons_work_without_javascript(
    client, make_client, sender, member, send
):
    started = await send(sender, to=[member])
    url = f"/messages/{started['conversation']}"
    await sign_in(client, member)
    muted = await post_form(client, url + "/mute", {"muted": "1"}, url)
    assert muted.status_code == 303
    assert (await ConversationMember.select().where(ConversationMember.user == member["id"]))[0][
        "muted"
    ]
    left = await post_form(client, url + "/leave", {}, url)
    assert left.status_code == 303 and left.headers["location"] == "/messages"
    assert (await client.get(url)).status_code == 404


async def test_the_api_covers_conversations_end_to_end(client, sender, member):
    sender_headers = await api_token(client, sender)
    member_headers = await api_token(client, member)
    created = await client.post(
        "/api/v1/conversations",
        json={"to": [member["username"]], "subject": "Hi", "body": "Hello there"},
        headers=sender_headers,
    )
    assert created.status_code == 201, created.text
    conversation = created.json()["conversation"]
    listing = await client.get("/api/v1/conversations", headers=member_headers)
    assert listing.json()["items"][0]["unread"] == 1
    read = await client.get(f"/api/v1/conversations/{conversation}", headers=member_headers)
    assert read.json()["messages"][0]["body_html"] == "<p>Hello there</p>"
    replied = await client.post(
        f"/api/v1/conversations/{conversation}/messages",
        json={"body": "Hi back"},
        headers=member_headers,
    )
    assert replied.status_code == 201
    muted = await client.post(
        f"/api/v1/conversations/{conversation}/mute", json={"muted": True}, headers=member_headers
    )
    assert muted.json() == {"id": conversation, "muted": True}
    settings_answer = await client.put(
        "/api/v1/me/message-settings", json={"audience": "nobody"}, headers=member_headers
    )
    assert settings_answer.json() == {"audience": "nobody"}
    refused = await client.post(
        "/api/v1/conversations",
        json={"to": member["username"], "body": "Again"},
        headers=sender_headers,
    )
    assert refused.status_code == 422 and "to" in refused.json()["error"]["fields"]
    left = await client.post(f"/api/v1/conversations/{conversation}/leave", headers=member_headers)
    assert left.json()["left"] is True
    bad = await client.post(
        "/api/v1/conversations", json={"to": 5, "body": ""}, headers=sender_headers
    )
    assert bad.status_code == 422


async def test_every_route_is_in_the_openapi_document(client):
    paths = (await client.get("/api/v1/openapi.json")).json()["paths"]
    for path in (
        "/api/v1/conversations",
        "/api/v1/conversations/{id}",
        "/api/v1/conversations/{id}/messages",
        "/api/v1/conversations/{id}/leave",
        "/api/v1/conversations/{id}/mute",
        "/api/v1/messages/{id}/report",
        "/api/v1/me/blocks",
        "/api/v1/me/blocks/{username}",
        "/api/v1/me/message-settings",
        "/api/v1/communities/{slug}/anonymous-posting",
        "/api/v1/communities/{slug}/my-name",
        "/api/v1/moderation/items/{id}/reveal",
    ):
        assert path in paths, path


async def test_a_deleted_account_leaves_its_conversations(settings, sender, member, send):
    from forum import profiles

    started = await send(sender, to=[member])
    await profiles.delete_account(settings, await viewer_of(member), member["password"])
    data = await messages.get_conversation(await viewer_of(sender), started["conversation"])
    assert not data["can_reply"]


async def test_members_who_share_a_private_community_may_write(
    settings, admin, private_community, send
):
    first = await trusted(await make_user(settings, "first_one"))
    second = await make_user(settings, "second_one")
    for person in (first, second):
        await communities.add_member(
            await viewer_of(admin), private_community["slug"], person["username"]
        )
    assert (await send(first, to=[second]))["status"] == "published"


async def test_unread_counts_are_counted_once_for_someone_with_several_blocks(
    sender, member, other_member, outsider, send
):
    for blocked in (other_member, outsider):  # with the membership: three rows of the join
        await blocks.block(await viewer_of(member), blocked["username"])
    started = await send(sender, to=[member])
    await send(sender, "And one more thing.", conversation=started["conversation"])
    viewer = await viewer_of(member)
    assert viewer.blocked == {other_member["id"], outsider["id"]}
    assert viewer.unread_messages == 2
    assert viewer.unread_notifications == 1


async def test_a_long_conversation_pages_back_to_its_first_message(
    client, sender, member, send, monkeypatch
):
    monkeypatch.setattr(messages, "MESSAGES_PER_PAGE", 3)
    started = await send(sender, "Message 1", to=[member])
    for number in range(2, 8):
        await send(sender, f"Message {number}", conversation=started["conversation"])
    await sign_in(client, member)
    path = f"/messages/{started['conversation']}"
    latest = await client.get(path)
    assert [n for n in range(1, 8) if f"Message {n}<" in latest.text] == [5, 6, 7]
    assert await unread_messages(member) == 0
    pages, url = [], path
    while True:
        found = re.search(
            r'href="(/messages/\d+\?before=\d+)">Earlier messages', (await client.get(url)).text
        )
        if not found:
            break
        url = found.group(1)
        page = await client.get(url)
        pages.append([n for n in range(1, 8) if f"Message {n}<" in page.text])
        assert "Back to the latest messages" in page.text
    assert pages == [[2, 3, 4], [1]]  # every message once, none lost
    headers = await api_token(client, member)
    answer = (
        await client.get(f"/api/v1/conversations/{started['conversation']}", headers=headers)
    ).json()
    assert len(answer["messages"]) == 3 and answer["earlier_before"] is not None
    earlier = await client.get(
        f"/api/v1/conversations/{started['conversation']}?before={answer['earlier_before']}",
        headers=headers,
    )
    assert [m["body_html"] for m in earlier.json()["messages"]] == [
        "<p>Message 2</p>",
        "<p>Message 3</p>",
        "<p>Message 4</p>",
    ]
    nonsense = await client.get(f"{path}?before=abc")
    assert nonsense.status_code == 200 and "Message 7<" in nonsense.text
    huge = await client.get(
        f"/api/v1/conversations/{started['conversation']}?before=2" + "0" * 13, headers=headers
    )
    assert huge.status_code == 200  # past PostgreSQL's integer ids: the latest page, not a 500
