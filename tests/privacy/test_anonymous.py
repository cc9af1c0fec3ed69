"""Anonymous posting: off unless a community's moderators allow it, stable pseudonyms per
thread, the author's own rights kept, rate limits and trust on the real account, and moderators
acting without knowing who wrote it unless they log a reason."""

from __future__ import annotations

import pytest

from forum import anonymity, communities, threads
from forum.errors import Conflict, Forbidden
from forum.tables import Post, RateLimitHit
from moderation import audit, decisions, flags, queue, reveal
from moderation.tables import AuditEntry
from tests.conftest import api_token, make_user, post_form, sign_in, viewer_of


@pytest.fixture
async def people(settings, stigma, moderator, admin):
    """Three members of the community that allows anonymity, and its moderator."""
    made = []
    for name in ("anon_author", "second_voice", "plain_reader"):
        user = await make_user(settings, name)
        await communities.join(await viewer_of(user), stigma["slug"])
        made.append(user)
    await communities.add_member(
        await viewer_of(admin), stigma["slug"], moderator["username"], role="moderator"
    )
    return made


async def test_anonymous_posting_is_off_by_default_and_moderators_turn_it_on(
    settings, client, member, moderator, community
):
    with pytest.raises(Forbidden):
        await threads.start_thread(
            settings,
            await viewer_of(member),
            community["slug"],
            threads.Draft(title="A hard question", body="Hello", anonymous=True),
        )
    with pytest.raises(Forbidden):
        await anonymity.set_allow_anonymous(await viewer_of(member), community["slug"], True)
    await sign_in(client, moderator)
    page = await client.get(f"/c/{community['slug']}/privacy")
    assert "Allow anonymous posting" in page.text
    turned = await post_form(
        client, f"/c/{community['slug']}/privacy/anonymous", {"allow": "1"}, page.url.path
    )
    assert turned.status_code == 303
    created = await threads.start_thread(
        settings,
        await viewer_of(member),
        community["slug"],
        threads.Draft(title="A hard question", body="Hello", anonymous=True),
    )
    assert created["anonymous"] and created["pseudonym"] == "Anonymous member 1"
    headers = await api_token(client, moderator)
    off = await client.put(
        f"/api/v1/communities/{community['slug']}/anonymous-posting",
        json={"allowed": False},
        headers=headers,
    )
    assert off.json() == {"community": community["slug"], "allow_anonymous": False}
    still = await threads.get_thread(await viewer_of(moderator), created["id"])
    assert still["posts"].items[0]["author_display_name"] == "Anonymous member 1"


async def test_pseudonyms_are_stable_per_thread_and_author(
    people, stigma, anonymous_thread, anonymous_reply, reply_factory
):
    author, second, reader = people
    thread = await anonymous_thread(community=stigma, author=author)
    await anonymous_reply(thread=thread, author=second)
    await anonymous_reply(thread=thread, author=author)
    await reply_factory(thread=thread, author=reader, body="Named reply.")
    await anonymous_reply(thread=thread, author=second)
    data = await threads.get_thread(await viewer_of(reader), thread["id"])
    assert [post["author_display_name"] for post in data["posts"].items] == [
        "Anonymous member 1",
        "Anonymous member 2",
        "Anonymous member 1",
        "Plain_Reader",
        "Anonymous member 2",
    ]
    other = await anonymous_thread(community=stigma, author=second)
    await anonymous_reply(thread=other, author=author)
    names = [
        post["author_display_name"]
        for post in (await threads.get_thread(await viewer_of(reader), other["id"]))["posts"].items
    ]
    assert names == ["Anonymous member 1", "Anonymous member 2"]  # numbered afresh per thread


async def test_once_anonymous_in_a_thread_replies_stay_so_and_named_cant_switch(
    settings, people, stigma, anonymous_thread, reply_factory
):
    author, second, _ = people
    thread = await anonymous_thread(community=stigma, author=author)
    reply = await reply_factory(thread=thread, author=author, body="Forgot to say…")
    assert reply["anonymous"] and reply["pseudonym"] == "Anonymous member 1"
    await reply_factory(thread=thread, author=second, body="Under my name.")
    with pytest.raises(Conflict):
        await threads.post_reply(
            settings, await viewer_of(second), thread["id"], "Now hidden", anonymous=True
        )


async def test_the_author_keeps_their_rights_and_alone_is_told_it_is_theirs(
    settings, client, people, stigma, anonymous_thread
):
    author, _, reader = people
    thread = await anonymous_thread(community=stigma, author=author)
    mine = (await threads.get_thread(await viewer_of(author), thread["id"]))["posts"].items[0]
    assert mine["mine"] and mine["can_edit"] and mine["can_delete"]
    theirs = (await threads.get_thread(await viewer_of(reader), thread["id"]))["posts"].items[0]
    assert not theirs["mine"] and not theirs["can_edit"] and not theirs["can_message"]
    await sign_in(client, author)
    page = await client.get(f"/t/{thread['id']}")
    assert "(you: only you see this)" in page.text
    assert 'name="anonymous" value="1"' in page.text  # their reply stays anonymous
    edited = await threads.edit_post(
        await viewer_of(author), thread["post_id"], "Edited, still anonymous.", settings=settings
    )
    assert edited["author_display_name"] == "Anonymous member 1"
    assert edited["author_username"] is None


async def test_rate_limits_and_suspensions_apply_to_the_real_account(
    settings, people, stigma, anonymous_thread, moderator
):
    author, _, _ = people
    await anonymous_thread(community=stigma, author=author)
    hits = await RateLimitHit.select().where(RateLimitHit.key == f"post:{author['id']}")
    assert hits and hits[0]["count"] == 1
    thread = await anonymous_thread(community=stigma, author=author, title="Second question")
    result = await flags.flag_thread(await viewer_of(people[2]), thread["id"], "harassment")
    await decisions.decide(
        await viewer_of(moderator),
        result["item_id"],
        "hide",
        "Please keep it kind.",
        member_action="suspend",
        days=3,
    )
    with pytest.raises(Forbidden):
        await anonymous_thread(community=stigma, author=author, title="Third question")


async def test_moderators_act_without_seeing_the_author_until_they_log_a_reason(
    client, make_client, settings, people, stigma, anonymous_thread, moderator, admin
):
    author, _, reader = people
    thread = await anonymous_thread(community=stigma, author=author)
    flagged = await flags.flag_thread(await viewer_of(reader), thread["id"], "harassment", "mean")
    item_id = flagged["item_id"]
    item = await queue.get_item(await viewer_of(moderator), item_id)
    assert item["anonymous"] and not item["revealed"]
    assert item["author_display_name"] == "Anonymous member 1"
    assert item["author_username"] is None and item["history"] is None
    await sign_in(client, moderator)
    page = await client.get(f"/mod/items/{item_id}")
    assert "Anonymous member 1" in page.text and "I need to know who wrote it" in page.text
    assert author["username"] not in page.text and "Anon_Author" not in page.text
    no_reason = await post_form(
        client, f"/mod/items/{item_id}/reveal", {"reason": ""}, f"/mod/items/{item_id}"
    )
    assert no_reason.status_code == 422
    assert await AuditEntry.count().where(AuditEntry.action == "reveal_author") == 0
    shown = await post_form(
        client,
        f"/mod/items/{item_id}/reveal",
        {"reason": "Threats against another member; checking for repeat accounts."},
        f"/mod/items/{item_id}",
    )
    assert shown.status_code == 303
    page = await client.get(f"/mod/items/{item_id}")
    assert f"@{author['username']}" in page.text
    entry = await AuditEntry.select().where(AuditEntry.action == "reveal_author").first()
    assert entry["actor_id"] == moderator["id"] and entry["target_user_id"] == author["id"]
    assert entry["target_name"] == "Anonymous member 1"
    assert "Threats against another member" in entry["note"]
    # Another moderator still sees only the pseudonym, and the log names nobody.
    other = await queue.get_item(await viewer_of(admin), item_id)
    assert other["author_username"] is None and not other["revealed"]
    log = await audit.list_entries(await viewer_of(admin))
    assert all(
        row["target_user_id"] is None for row in log.items if row["action"] == "reveal_author"
    )
    admin_browser = make_client()
    await sign_in(admin_browser, admin)
    log_page = await admin_browser.get("/mod/audit")
    assert author["username"] not in log_page.text
    api_log = await admin_browser.get(
        "/api/v1/moderation/audit", headers=await api_token(admin_browser, admin)
    )
    assert author["username"] not in api_log.text and "Anon_Author" not in api_log.text
    await admin_browser.aclose()


async def test_reveal_through_the_api_and_only_for_anonymous_items(
    client, settings, people, stigma, anonymous_thread, thread_factory, moderator
):
    author, _, reader = people
    thread = await anonymous_thread(community=stigma, author=author)
    flagged = await flags.flag_thread(await viewer_of(reader), thread["id"], "spam")
    headers = await api_token(client, moderator)
    masked = await client.get(f"/api/v1/moderation/items/{flagged['item_id']}", headers=headers)
    body = masked.json()
    assert body["content"]["author"] is None and "author" not in body
    assert "Anonymous member 1" in masked.text and author["username"] not in masked.text
    answer = await client.post(
        f"/api/v1/moderation/items/{flagged['item_id']}/reveal",
        json={"reason": "Spam from many accounts at once."},
        headers=headers,
    )
    assert answer.json()["author"]["username"] == author["username"]
    named = await thread_factory(community=stigma, author=reader, title="A named thread")
    other = await flags.flag_thread(await viewer_of(author), named["id"], "spam")
    with pytest.raises(Conflict):
        await reveal.reveal_author(
            await viewer_of(moderator), other["item_id"], "Just curious, really."
        )


async def test_decisions_on_anonymous_posts_are_logged_under_the_pseudonym(
    settings, people, stigma, anonymous_thread, moderator, admin
):
    author, _, reader = people
    thread = await anonymous_thread(community=stigma, author=author)
    flagged = await flags.flag_thread(await viewer_of(reader), thread["id"], "harassment")
    await decisions.decide(
        await viewer_of(moderator), flagged["item_id"], "hide", "Unkind.", member_action="warn"
    )
    entries = await audit.list_entries(await viewer_of(admin), item_id=flagged["item_id"])
    assert {row["target_name"] for row in entries.items} == {"Anonymous member 1"}
    assert all(row["target_user_id"] is None for row in entries.items)
    # The author's own record (an item about their named posts) never lists it.
    history = await audit.list_entries(await viewer_of(admin), target_user_id=author["id"])
    assert history.total == 0
    stored = await AuditEntry.select().where(AuditEntry.item_id == flagged["item_id"])
    assert all(row["target_user_id"] == author["id"] for row in stored)  # kept for the record


async def test_anonymous_posts_carry_no_credential_and_never_answer_as_a_clinician(
    settings, stigma, admin, anonymous_reply, thread_factory
):
    from tests.people.conftest import verify

    nurse = await make_user(settings, "nurse_nia")
    asker = await make_user(settings, "asker_ann")
    for person in (nurse, asker):
        await communities.join(await viewer_of(person), stigma["slug"])
    await verify(nurse, admin)
    question = await thread_factory(
        community=stigma, author=asker, title="Is this normal?", kind="ask_clinician"
    )
    reply = await anonymous_reply(thread=question, author=nurse)
    row = await Post.select().where(Post.id == reply["id"]).first()
    assert row["author_credential"] is None
    data = await threads.get_thread(await viewer_of(asker), question["id"])
    assert not data["thread"]["expert_answered"]
    from tests.privacy.conftest import kinds_for

    assert "clinician_answer" not in await kinds_for(asker)


async def test_the_web_forms_post_anonymously(client, people, stigma):
    author, _, _ = people
    await sign_in(client, author)
    form = await client.get(f"/c/{stigma['slug']}/new")
    assert "Post anonymously" in form.text
    made = await post_form(
        client,
        f"/c/{stigma['slug']}/new",
        {"title": "Telling my partner", "body": "How?", "kind": "discussion", "anonymous": "1"},
        f"/c/{stigma['slug']}/new",
    )
    assert made.status_code == 303
    thread_url = made.headers["location"]
    replied = await post_form(
        client,
        thread_url + "/reply",
        {"body": "Update: it went well.", "anonymous": "1"},
        thread_url,
    )
    assert replied.status_code == 303
    rows = await Post.select(Post.anonymous, Post.pseudonym).where(Post.author == author["id"])
    assert [(bool(r["anonymous"]), r["pseudonym"]) for r in rows] == [
        (True, "Anonymous member 1"),
        (True, "Anonymous member 1"),
    ]
