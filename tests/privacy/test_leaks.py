"""Anonymous posts leak their author nowhere: a table of every page, API answer, feed, search,
notification, e-mail and error another member, a visitor, a clinician or a moderator (before
revealing) can reach, each searched for the author's username, display name and account id.
And the other way round: the author's own profile, feed and API profile never show what they
wrote anonymously."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from forum import communities, follows, reactions, threads
from forum.auth import hash_password
from forum.tables import User
from moderation import flags
from tests.conftest import PASSWORD, api_token, make_user, post_form, sign_in, viewer_of
from tests.people.conftest import verify
from tests.privacy.conftest import trusted
from tests.stories.conftest import mails_in, set_email

SECRET_USERNAME = "zqxhidden"
SECRET_NAME = "Quintessa Zephyrine"
SECRET_ID = 864213  # distinctive, so any number that gives it away is found
ANON_TITLE = "Disclosure question xyzzy"
ANON_BODY = "Nobody at work knows about my diagnosis plugh"
ANON_REPLY = "Speaking from experience frobnicate"
ASK_TITLE = "Anonymous ask about medication timing"
# Where the anonymous content is, and what gives the author away.
IDENTITY = (SECRET_USERNAME, SECRET_NAME, str(SECRET_ID), "Quintessa", "Zephyrine")
ANONYMOUS_WORDS = (ANON_TITLE, ANON_BODY, ANON_REPLY, ASK_TITLE, "xyzzy", "plugh", "frobnicate")
_TOKENS = re.compile(r'(name="csrf_token" value=")[^"]*(")')


def clean(text: str) -> str:
    """The body without CSRF tokens (random text that could contain digits by chance)."""
    return _TOKENS.sub(r"\1\2", text)


async def _make_author(settings: Any) -> dict[str, Any]:
    await User.insert(
        User(
            id=SECRET_ID,
            username=SECRET_USERNAME,
            display_name=SECRET_NAME,
            password_hash=await hash_password(PASSWORD, settings.password_cost),
            created_at=datetime.now(UTC),
        )
    )
    return {"id": SECRET_ID, "username": SECRET_USERNAME, "password": PASSWORD}


@pytest.fixture
async def scene(app, settings, stigma, community, admin, moderator, clinician):
    author = await _make_author(settings)
    watcher = await trusted(await make_user(settings, "watcher_wes"))
    for person in (author, watcher, clinician):
        for place in (stigma, community):
            await communities.join(await viewer_of(person), place["slug"])
    await communities.add_member(
        await viewer_of(admin), stigma["slug"], moderator["username"], role="moderator"
    )
    as_author = await viewer_of(author)
    named = await threads.start_thread(
        settings,
        as_author,
        community["slug"],
        threads.Draft(title="Gluten free bread that works", body="Try the seeded loaf."),
    )
    # Following the author by name, and the community: from here on, only anonymous posts.
    watching = await viewer_of(watcher)
    await follows.change(watching, "member", SECRET_USERNAME, "follow")
    await follows.change(watching, "blog", SECRET_USERNAME, "follow")
    await follows.change(watching, "community", stigma["slug"], "follow")
    await set_email(watcher, "immediate")
    await verify(clinician, admin)
    anonymous = await threads.start_thread(
        settings,
        as_author,
        stigma["slug"],
        threads.Draft(
            title=ANON_TITLE, body=f"{ANON_BODY}. What do you think, @watcher_wes?", anonymous=True
        ),
    )
    watchers_thread = await threads.start_thread(
        settings,
        watching,
        stigma["slug"],
        threads.Draft(title="Telling my manager", body="Did anyone tell their manager?"),
    )
    reply = await threads.post_reply(
        settings, as_author, watchers_thread["id"], ANON_REPLY, anonymous=True
    )
    ask = await threads.start_thread(
        settings,
        as_author,
        stigma["slug"],
        threads.Draft(
            title=ASK_TITLE, body="Morning or evening?", kind="ask_clinician", anonymous=True
        ),
    )
    await reactions.react(settings, watching, anonymous["post_id"], "support")
    flagged = await flags.flag_thread(watching, anonymous["id"], "other", "just checking")
    await app.state.search_writer.drain_all()
    await app.state.mailer.run_once()
    return {
        "author": author,
        "watcher": watcher,
        "named": named,
        "anonymous": anonymous,
        "watchers_thread": watchers_thread,
        "reply": reply,
        "ask": ask,
        "item": flagged["item_id"],
        "stigma": stigma,
    }


def _anonymous_pages(s: dict[str, Any]) -> list[str]:
    """Pages and API answers that show the anonymous content: never its author."""
    slug = s["stigma"]["slug"]
    ids = (s["anonymous"]["id"], s["watchers_thread"]["id"], s["ask"]["id"])
    return [
        "/",
        f"/c/{slug}",
        f"/c/{slug}?kind=ask_clinician",
        *(f"/t/{thread}" for thread in ids),
        *(f"/t/{thread}/feed.atom" for thread in ids),
        f"/c/{slug}/feed.atom",
        "/search?q=xyzzy",
        "/search?q=frobnicate",
        "/stories",
        *(f"/api/v1/threads/{thread}" for thread in ids),
        f"/api/v1/communities/{slug}/threads",
        f"/api/v1/communities/{slug}",
        f"/api/v1/posts/{s['anonymous']['post_id']}",
        f"/api/v1/posts/{s['reply']['id']}",
        "/api/v1/search?q=xyzzy",
        "/api/v1/search?q=frobnicate",
    ]


def _identity_pages(s: dict[str, Any]) -> list[str]:
    """Pages about the author: never what they wrote anonymously."""
    return [
        f"/u/{SECRET_USERNAME}",
        f"/u/{SECRET_USERNAME}/feed.atom",
        f"/u/{SECRET_USERNAME}/stories",
        f"/api/v1/users/{SECRET_USERNAME}",
        f"/search?q=author:{SECRET_USERNAME}",
        f"/api/v1/search?q=author:{SECRET_USERNAME}",
    ]


async def _get(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> httpx.Response:
    return await client.get(path, headers=headers if path.startswith("/api/") else {})


def _assert_no_identity(path: str, response: httpx.Response) -> None:
    assert response.status_code < 500, path
    body = clean(response.text)
    for secret in IDENTITY:
        assert secret.lower() not in body.lower(), f"{secret!r} leaks on {path}"


def _assert_no_anonymous_content(path: str, response: httpx.Response) -> None:
    assert response.status_code < 500, path
    for words in ANONYMOUS_WORDS:
        assert words not in response.text, f"{words!r} shows on {path}"


@pytest.mark.parametrize("who", ["visitor", "member", "clinician"])
async def test_no_page_api_feed_or_search_names_the_author(
    client, make_client, scene, clinician, who
):
    browser = client
    headers: dict[str, str] = {}
    if who != "visitor":
        person = scene["watcher"] if who == "member" else clinician
        browser = make_client()
        await sign_in(browser, person)
        headers = await api_token(browser, person)
    checked = 0
    for path in _anonymous_pages(scene):
        response = await _get(browser, path, headers)
        _assert_no_identity(path, response)
        checked += 1
    for path in _identity_pages(scene):
        response = await _get(browser, path, headers)
        _assert_no_anonymous_content(path, response)
        checked += 1
    # The thread pages do show the anonymous words (the check above is not vacuous).
    page = await browser.get(f"/t/{scene['anonymous']['id']}")
    assert ANON_TITLE in page.text and "Anonymous member 1" in page.text
    feed = await browser.get(f"/t/{scene['watchers_thread']['id']}/feed.atom")
    assert "<name>Anonymous member 1</name>" in feed.text
    if who == "clinician":
        for path in ("/clinicians/unanswered", "/api/v1/clinicians/unanswered"):
            response = await _get(browser, path, headers)
            assert ASK_TITLE in response.text, path
            _assert_no_identity(path, response)
    assert checked == len(_anonymous_pages(scene)) + len(_identity_pages(scene))
    if browser is not client:
        await browser.aclose()


async def test_search_by_author_never_finds_anonymous_threads(client, scene):
    named = await client.get("/api/v1/search", params={"q": f"author:{SECRET_USERNAME}"})
    titles = [item["title"] for item in named.json()["items"]]
    assert titles == ["Gluten free bread that works"]
    both = await client.get("/api/v1/search", params={"q": f"author:{SECRET_USERNAME} xyzzy"})
    assert both.json()["total"] == 0
    words = await client.get("/api/v1/search", params={"q": "xyzzy"})
    assert [item["title"] for item in words.json()["items"]] == [ANON_TITLE]


async def test_notifications_and_email_name_the_pseudonym_only(client, settings, scene):
    watcher = scene["watcher"]
    await sign_in(client, watcher)
    page = await client.get("/notifications")
    _assert_no_identity("/notifications", page)
    assert "Anonymous member 1 mentioned you" in page.text
    assert "Anonymous member 1 replied in" in page.text
    api = await client.get("/api/v1/notifications", headers=await api_token(client, watcher))
    _assert_no_identity("/api/v1/notifications", api)
    actors = {item["actor"] for item in api.json()["items"]}
    assert actors == {None}
    # Following the author by name never tells the follower about their anonymous threads.
    assert "new_thread" in {item["kind"] for item in api.json()["items"]}  # via the community
    texts = [item["text"] for item in api.json()["items"] if item["kind"] == "new_thread"]
    assert all("Anonymous member 1" in text for text in texts)
    mails = mails_in(settings)
    assert mails
    for message in mails:
        _assert_no_identity("e-mail", httpx.Response(200, text=message.as_string()))


async def test_errors_name_nobody(client, scene):
    watcher = scene["watcher"]
    await sign_in(client, watcher)
    post_id = scene["anonymous"]["post_id"]
    headers = await api_token(client, watcher)
    attempts = [
        await client.get(f"/p/{post_id}/edit"),
        await client.get(f"/p/{post_id}/history"),
        await client.get(f"/p/{post_id}/delete"),
        await post_form(
            client, f"/p/{post_id}/flag", {"reason": "other"}, f"/t/{scene['anonymous']['id']}"
        ),
        await client.patch(f"/api/v1/posts/{post_id}", json={"body": "x"}, headers=headers),
        await client.delete(f"/api/v1/posts/{post_id}", headers=headers),
        await client.post(
            f"/api/v1/posts/{post_id}/flags", json={"reason": "other"}, headers=headers
        ),
        await client.post(
            f"/api/v1/threads/{scene['anonymous']['id']}/posts",
            json={"body": "named now", "anonymous": False},
            headers=headers,
        ),
        await client.post(
            "/api/v1/conversations",
            json={"to": ["anonymous-member-1"], "body": "who are you?"},
            headers=headers,
        ),
    ]
    for response in attempts:
        _assert_no_identity(str(response.request.url), response)
    assert [r.status_code for r in attempts[1:3]] == [404, 403]


async def test_the_moderators_queue_and_log_name_nobody_until_revealed(
    make_client, scene, moderator
):
    browser = make_client()
    await sign_in(browser, moderator)
    headers = await api_token(browser, moderator)
    for path in (
        "/mod",
        f"/mod/items/{scene['item']}",
        "/mod/audit",
        "/api/v1/moderation/queue",
        f"/api/v1/moderation/items/{scene['item']}",
        "/api/v1/moderation/audit",
    ):
        response = await _get(browser, path, headers)
        assert response.status_code == 200, path
        _assert_no_identity(path, response)
    await browser.aclose()


async def test_the_html_carries_no_hidden_trace_of_the_author(client, scene):
    page = await client.get(f"/t/{scene['anonymous']['id']}")
    assert f"/u/{SECRET_USERNAME}" not in page.text
    assert not re.search(rf'data-[a-z-]+="{SECRET_ID}"', page.text)
    assert not re.search(rf'value="{SECRET_ID}"', page.text)
    assert 'class="tag experience' not in page.text
