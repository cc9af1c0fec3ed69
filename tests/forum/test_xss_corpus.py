"""Every vector of the XSS corpus through the content pipeline, the search snippet and the
Atom writer: what comes out holds no markup that can run.

The fast half of the hostile-content tests (tests/e2e/test_xss.py loads the pages in
Chromium). Output is parsed with html.parser, as a browser would parse it, and checked
against the policy: only allowed tags and attributes, no event handlers, and only http,
https and mailto URLs. Pure functions, no database: they run on the SQLite pass only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree

import pytest

from forum import content, feeds
from search.text import snippet
from tests.e2e.xss_corpus import (
    CATEGORIES,
    TEMPLATE_PROBES,
    TEMPLATE_RESULTS,
    VECTORS,
    Vector,
    policy_problems,
)

pytestmark = pytest.mark.sqlite_only


def strip_emphasis(text: str) -> str:
    return text.replace("*", "").replace("_", "")


def test_corpus_has_150_distinct_vectors_in_every_category() -> None:
    assert len(VECTORS) >= 150
    assert len({v.payload for v in VECTORS}) == len(VECTORS)
    assert len({v.id for v in VECTORS}) == len(VECTORS)
    assert {v.category for v in VECTORS} == set(CATEGORIES)
    for category in CATEGORIES:
        assert sum(v.category == category for v in VECTORS) >= 5, category


def test_audit_catches_what_it_is_meant_to_catch() -> None:
    """The checker itself: a test that can't fail proves nothing."""
    assert policy_problems("<p>fine <a href='https://example.org/' rel='x'>x</a></p>") == []
    assert policy_problems("<script>x</script>")
    assert policy_problems('<img src="x" onerror="y">')
    assert policy_problems('<a href="&#x6A;ava&#9;script:x">x</a>')
    assert policy_problems('<a href=" \x01JAVASCRIPT:x">x</a>')
    assert policy_problems('<img src="data:image/png;base64,AAAA">')


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.id)
def test_rendered_markdown_of_each_vector_keeps_to_the_policy(vector: Vector) -> None:
    html = content.render(vector.payload).html
    assert policy_problems(html) == [], html


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.id)
def test_sanitized_html_of_each_vector_keeps_to_the_policy(vector: Vector) -> None:
    """sanitize() takes raw HTML (a highlighter's output, say): the vector as markup."""
    html = content.sanitize(vector.payload)
    assert policy_problems(html) == [], html
    # What bleach leaves must stay the same when parsed and cleaned again (no mutation).
    assert content.sanitize(html) == html


def test_whole_corpus_in_one_document_keeps_to_the_policy() -> None:
    """Vectors next to each other: one's unclosed construct becomes the next one's context."""
    for separator in ("\n\n", "\n", " ", "\n- ", "\n> ", " | "):
        source = separator.join(v.payload for v in VECTORS)
        assert policy_problems(content.render(source).html) == [], repr(separator)
        assert policy_problems(content.sanitize(source)) == [], repr(separator)


@pytest.mark.parametrize("vector", TEMPLATE_PROBES, ids=lambda v: v.id)
def test_template_probe_shows_as_typed(vector: Vector) -> None:
    text = content.to_text(vector.payload)
    # Markdown may turn pairs of * or _ into emphasis; every other character stays as typed.
    assert strip_emphasis(text) == strip_emphasis(" ".join(vector.payload.split())), text
    for result in TEMPLATE_RESULTS:
        assert result not in content.render(vector.payload).html


def test_search_snippets_of_the_corpus_hold_only_mark_tags() -> None:
    """The snippet is marked safe in the results page: only our own <mark> may be markup."""
    for vector in VECTORS:
        text = content.to_text(vector.payload) + " " + vector.payload
        for wanted in (["xss"], ["img"], ["script"], ["onerror"], []):
            html = snippet(text, wanted, size=400)
            assert policy_problems(html, tags=frozenset({"mark"}), attributes={}) == [], html


def test_atom_feed_of_hostile_titles_names_and_bodies_is_well_formed_and_escaped() -> None:
    now = datetime.now(UTC)
    entries = [
        feeds.Entry(
            id=f"https://kindred.example/t/{v.number}",
            title=v.payload,
            url=f"https://kindred.example/t/{v.number}",
            updated=now,
            published=now,
            author=v.payload,
            html=content.render(v.payload).html,
            summary=content.to_text(v.payload),
        )
        for v in VECTORS
    ]
    feed = feeds.Feed(
        id="https://kindred.example/c/x",
        title='"><script>__xss(0)</script>',
        url="https://kindred.example/c/x",
        self_url="https://kindred.example/c/x/feed.atom",
        updated=now,
        author="</name></author><entry>",
        entries=entries,
    )
    root = ElementTree.fromstring(feeds.render(feed))  # noqa: S314 (our own output)
    atom = "{http://www.w3.org/2005/Atom}"
    allowed = {
        f"{atom}{name}"
        for name in (
            "feed", "id", "title", "subtitle", "updated", "link", "author", "name", "generator",
            "entry", "published", "category", "summary", "content",
        )
    }  # fmt: skip
    assert {element.tag for element in root.iter()} <= allowed
    assert root.findtext(f"{atom}title") == feed.title
    for vector, entry in zip(VECTORS, root.findall(f"{atom}entry"), strict=True):
        # XML keeps the text exactly, save the characters XML forbids and \r (read as \n).
        expected = feeds._text(vector.payload).replace("\r", "\n")
        assert entry.findtext(f"{atom}title") == expected
        assert entry.findtext(f"{atom}author/{atom}name") == expected
        body = entry.find(f"{atom}content")
        assert body is not None and body.get("type") == "html"
        assert policy_problems(body.text or "") == [], vector.id
