"""A thread page's list of posts is rendered once for all readers shown it the same way
(forum.web.post_list) and is never another reader's, nor out of date: each test compares what
the kept rendering gives with what a fresh one gives, reader after reader."""

import re
from pathlib import Path
from typing import Any

import httpx
import jinja2.meta
import pytest

from forum import blocks, communities, page_cache, reactions
from forum.web import post_list, render
from tests.conftest import sign_in, viewer_of

POSTS = re.compile(r'<ol class="posts">.*?</ol>', re.S)
TOKENS = re.compile(r'name="csrf_token" value="([^"]*)"')


def post_list_of(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text[:300]
    found = POSTS.search(response.text)
    assert found, "no list of posts on the page"
    return found.group(0)


def test_the_list_reads_only_what_its_kept_rendering_is_keyed_by() -> None:
    """What the template reads besides these would differ between readers who share it."""
    source = Path(render.TEMPLATES_DIR, post_list.TEMPLATE).read_text()
    environment = render.create_templates().env
    read = jinja2.meta.find_undeclared_variables(environment.parse(source))
    assert read <= {"posts", "thread", "can_accept", "csrf_token"}, read


async def test_every_reader_gets_the_list_a_fresh_rendering_would_give_them(
    conversation_with_readers: dict[str, Any],
) -> None:
    readers = conversation_with_readers["readers"]
    path = conversation_with_readers["path"]
    for _ in range(2):  # the second time round, every list may come from memory
        for name, client in readers.items():
            kept = await client.get(path)
            page_cache.RENDERED.clear()
            fresh = await client.get(path)
            assert post_list_of(kept) == post_list_of(fresh), name
            assert len(set(TOKENS.findall(kept.text))) <= 1, name  # the reader's token only


async def test_each_reader_acts_with_their_own_token_from_a_shared_list(
    app: Any, conversation_with_readers: dict[str, Any]
) -> None:
    first, second = (conversation_with_readers["readers"][n] for n in ("joined", "joined too"))
    path = conversation_with_readers["path"]
    reply_id = conversation_with_readers["reply"]["id"]
    await first.get(path)
    shared = await second.get(path)
    tokens = set(TOKENS.findall(post_list_of(shared)))
    assert len(tokens) == 1
    assert tokens != set(TOKENS.findall(post_list_of(await first.get(path))))
    reacted = await second.post(
        f"/p/{reply_id}/react", data={"kind": "support", "csrf_token": tokens.pop()}
    )
    assert reacted.status_code == 303, reacted.text[:300]


class Clock:
    """Stands in for the time module where pages read the time, so a test can move it on."""

    def __init__(self) -> None:
        import time

        self.now = time.time()

    def time(self) -> float:
        return self.now


async def test_a_kept_list_says_how_long_ago_as_the_time_passes(
    conversation_with_readers: dict[str, Any], monkeypatch: Any
) -> None:
    clock = Clock()
    monkeypatch.setattr(render, "time", clock)
    monkeypatch.setattr(post_list, "time", clock)
    reader = conversation_with_readers["readers"]["joined"]
    path = conversation_with_readers["path"]
    assert ">just now<" in post_list_of(await reader.get(path))
    clock.now += 30
    assert ">just now<" in post_list_of(await reader.get(path))  # from memory, still true
    clock.now += 31
    later = post_list_of(await reader.get(path))
    assert ">just now<" not in later and ">1 minute ago<" in later
    clock.now += 3 * 86400
    assert ">3 days ago<" in post_list_of(await reader.get(path))


@pytest.fixture
async def conversation_with_readers(
    app: Any,
    settings: Any,
    make_client: Any,
    thread_factory: Any,
    reply_factory: Any,
    user_factory: Any,
    community: dict[str, Any],
    member: dict[str, Any],
    other_member: dict[str, Any],
    moderator: dict[str, Any],
) -> Any:
    """A thread with a reply, and readers of every standing, each signed in in their own
    browser: a visitor, the two authors, a moderator, two members who wrote nothing, one who
    reacted and one who blocked an author."""
    thread = await thread_factory(community=community, author=member, body="Opening words")
    reply = await reply_factory(thread=thread, author=other_member, body="First reply")
    people = {
        "author": member,
        "replier": other_member,
        "moderator": moderator,
        "joined": await user_factory(username="jonas"),
        "joined too": await user_factory(username="ines"),
        "reacted": await user_factory(username="tomas"),
        "blocker": await user_factory(username="wen"),
    }
    for name in ("joined", "joined too", "reacted", "blocker"):
        await communities.join(await viewer_of(people[name]), community["slug"])
    await reactions.react(settings, await viewer_of(people["reacted"]), reply["id"], "support")
    await blocks.block(await viewer_of(people["blocker"]), other_member["username"])
    readers = {"visitor": make_client()}
    for name, person in people.items():
        readers[name] = make_client()
        await sign_in(readers[name], person)
    yield {"path": f"/t/{thread['id']}", "reply": reply, "readers": readers}
    for client in readers.values():
        await client.aclose()
