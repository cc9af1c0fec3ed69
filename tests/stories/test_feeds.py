"""Atom feeds of communities, story blogs and threads: valid by the Atom schema's required
elements, RFC 3339 dates, escaped text, absolute links, and public content only."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from forum import communities, stories, threads
from tests.conftest import viewer_of
from tests.moderation.conftest import CLAIM

ATOM = "{http://www.w3.org/2005/Atom}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
BASE = "http://127.0.0.1:8000"


def check_atom(text: bytes) -> ElementTree.Element:
    """Parse a feed and check what RFC 4287 requires of it and of each entry."""
    root = ElementTree.fromstring(text)  # noqa: S314 (our own feed, in a test)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert len(root.findall(f"{ATOM}{name}")) == 1, name
    assert RFC3339.match(root.findtext(f"{ATOM}updated") or "")
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links["self"].startswith(BASE) and links["alternate"].startswith(BASE)
    feed_has_author = root.find(f"{ATOM}author/{ATOM}name") is not None
    ids = set()
    for entry in root.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert len(entry.findall(f"{ATOM}{name}")) == 1, name
        assert RFC3339.match(entry.findtext(f"{ATOM}updated") or "")
        assert RFC3339.match(entry.findtext(f"{ATOM}published") or "")
        assert feed_has_author or entry.find(f"{ATOM}author/{ATOM}name") is not None
        link = entry.find(f"{ATOM}link[@rel='alternate']")
        assert link is not None and link.get("href", "").startswith(BASE)
        content = entry.find(f"{ATOM}content")
        # Without content an entry needs a summary (and an alternate link, checked above).
        assert content is not None or entry.find(f"{ATOM}summary") is not None
        ids.add(entry.findtext(f"{ATOM}id"))
    assert len(ids) == len(root.findall(f"{ATOM}entry")), "entry ids are unique"
    return root


def titles(root: ElementTree.Element) -> list[str]:
    return [entry.findtext(f"{ATOM}title") or "" for entry in root.findall(f"{ATOM}entry")]


async def test_a_community_feed_is_valid_atom_with_threads_and_stories(
    client, member, other_member, community, thread_factory, story_factory
):
    await thread_factory(
        community=community,
        author=member,
        title="Fish & chips: <safe> or not?",
        body="**Ask** first.",
    )
    await story_factory(author=other_member, community=community, title="Cooking for one")
    response = await client.get(f"/c/{community['slug']}/feed.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    root = check_atom(response.content)
    assert sorted(titles(root)) == ["Cooking for one", "Fish & chips: <safe> or not?"]
    assert b"Fish &amp; chips: &lt;safe&gt; or not?" in response.content
    content = root.find(f"{ATOM}entry/{ATOM}content[@type='html']")
    assert content is not None and "<strong>" in (content.text or "")
    assert root.findtext(f"{ATOM}id") == f"{BASE}/c/{community['slug']}"
    page = await client.get(f"/c/{community['slug']}")
    assert f'href="/c/{community["slug"]}/feed.atom"' in page.text


async def test_a_private_communitys_feed_does_not_exist(client, admin, member, private_community):
    await communities.add_member(
        await viewer_of(admin), private_community["slug"], member["username"]
    )
    assert (await client.get(f"/c/{private_community['slug']}/feed.atom")).status_code == 404
    assert (await client.get("/c/no-such-place/feed.atom")).status_code == 404


async def test_feeds_leave_out_held_removed_and_draft_content(
    client, settings, member, other_member, community, thread_factory, story_factory
):
    await thread_factory(community=community, author=member, title="A fine question")
    await threads.start_thread(
        settings,
        await viewer_of(other_member),
        community["slug"],
        threads.Draft(title="A held claim here", body=CLAIM),
    )
    await story_factory(author=member, community=community, title="Still a draft", publish=False)
    withdrawn = await story_factory(author=member, community=community, title="Taken back")
    await stories.withdraw_story(await viewer_of(member), withdrawn["id"])
    root = check_atom((await client.get(f"/c/{community['slug']}/feed.atom")).content)
    assert titles(root) == ["A fine question"]


async def test_a_blog_feed_has_only_public_stories(
    client, admin, member, community, private_community, story_factory
):
    await communities.add_member(
        await viewer_of(admin), private_community["slug"], member["username"]
    )
    await story_factory(author=member, community=community, title="In the open community")
    await story_factory(author=member, community=None, title="On my blog alone")
    await story_factory(author=member, community=private_community, title="Only for members")
    response = await client.get(f"/u/{member['username']}/feed.atom")
    assert response.status_code == 200
    root = check_atom(response.content)
    assert sorted(titles(root)) == ["In the open community", "On my blog alone"]
    assert b"Only for members" not in response.content
    assert (await client.get("/u/nobody-here/feed.atom")).status_code == 404


async def test_a_story_with_a_content_warning_is_in_the_feed_without_its_words(
    client, member, community, story_factory
):
    await story_factory(
        author=member,
        community=community,
        title="After the scan",
        body="The words behind the warning.",
        warnings=("pregnancy loss",),
    )
    response = await client.get(f"/u/{member['username']}/feed.atom")
    root = check_atom(response.content)
    entry = root.find(f"{ATOM}entry")
    assert entry is not None and entry.find(f"{ATOM}content") is None
    assert "Content warning: pregnancy loss" in (entry.findtext(f"{ATOM}summary") or "")
    assert b"The words behind the warning" not in response.content


async def test_a_thread_feed_has_its_published_posts(
    client, settings, admin, member, other_member, community, private_community,
    thread_factory, reply_factory,
):  # fmt: skip
    thread = await thread_factory(community=community, author=member, title="Gluten-free pasta")
    await reply_factory(thread=thread, author=other_member, body="Try the lentil kind.")
    await threads.post_reply(settings, await viewer_of(other_member), thread["id"], CLAIM)  # held
    response = await client.get(f"/t/{thread['id']}/feed.atom")
    assert response.status_code == 200
    root = check_atom(response.content)
    assert sorted(titles(root)) == ["Gluten-free pasta", "Reply to “Gluten-free pasta”"]
    assert b"cinnamon" not in response.content
    await communities.add_member(
        await viewer_of(admin), private_community["slug"], member["username"]
    )
    hidden = await threads.start_thread(
        settings,
        await viewer_of(member),
        private_community["slug"],
        threads.Draft(title="Members only please", body="Private."),
    )
    assert (await client.get(f"/t/{hidden['id']}/feed.atom")).status_code == 404
    assert (await client.get("/t/999999/feed.atom")).status_code == 404
