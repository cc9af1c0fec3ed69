"""The search page, the per-community search box, /api/v1/search, "did you mean", recorded
misses, and snippets that cannot carry markup from what members wrote."""

from __future__ import annotations

import re

from search.service import normalize
from search.tables import SearchMiss
from search.text import snippet
from tests.conftest import api_token, shows, sign_in

ATTACKS = [
    "<script>alert('owned')</script> lupus flare",
    '<img src=x onerror="alert(1)"> lupus flare',
    'lupus flare <a href="javascript:alert(1)">click</a>',
    "lupus flare &lt;script&gt;alert(2)&lt;/script&gt;",
    "lupus <mark onclick=alert(3)>flare</mark> <svg/onload=alert(4)>",
]
ONLY_MARKS = re.compile(r"<(?!/?mark>)")


def assert_only_marks(fragment: str) -> None:
    """No tag but a bare <mark>/</mark>: whatever else was written shows as escaped text."""
    assert not ONLY_MARKS.search(fragment), fragment
    assert ">" not in ONLY_MARKS.sub("", fragment.replace("<mark>", "").replace("</mark>", ""))


def test_snippets_escape_text_and_mark_stems():
    html = snippet("Travelling <b>abroad</b> & eating out", {"travel", "eat"})
    assert html == "<mark>Travelling</mark> &lt;b&gt;abroad&lt;/b&gt; &amp; <mark>eating</mark> out"


def test_a_long_text_is_cut_around_the_matches():
    text = "filler words here. " * 40 + "the rheumatologist said methotrexate" + " more." * 50
    html = snippet(text, {"methotrex"})
    assert "<mark>methotrexate</mark>" in html and html.startswith("…") and html.endswith("…")
    assert len(html) < 300


async def test_snippets_never_carry_markup_from_post_text(
    client, member, community, thread_factory, reply_factory, drain
):
    thread = await thread_factory(community=community, author=member, title="Lupus questions")
    for attack in ATTACKS:
        await reply_factory(thread=thread, author=member, body=attack)
    await drain()
    body = (await client.get("/api/v1/search", params={"q": "lupus flare"})).json()
    [item] = body["items"]
    assert "<mark>" in item["snippet_html"]
    assert_only_marks(item["snippet_html"])
    assert "<script" not in item["snippet_html"] and "<img" not in item["snippet_html"]
    page = await client.get("/search", params={"q": "lupus flare"})
    [shown] = re.findall(r'<p class="snippet">(.*?)</p>', page.text, re.S)
    assert_only_marks(shown)
    assert "&lt;" in shown  # what was written shows as harmless text (or is dropped)


async def test_the_search_page_lists_results_with_links_and_snippets(
    client, member, community, thread_factory, drain
):
    thread = await thread_factory(
        community=community, author=member, title="Gluten free travel", body="Pack **snacks**."
    )
    await drain()
    page = await client.get("/search", params={"q": "snacks"})
    assert page.status_code == 200
    assert f'href="/t/{thread["id"]}"' in page.text and shows(page, "Gluten free travel")
    assert "<mark>snacks</mark>" in page.text and 'href="/c/celiac"' in page.text
    assert 'value="snacks"' in page.text  # the box at the top keeps the query


async def test_an_empty_search_shows_the_form_and_records_nothing(client):
    page = await client.get("/search")
    assert page.status_code == 200 and 'name="q"' in page.text
    await client.get("/search", params={"q": "   "})
    assert await SearchMiss.count() == 0


async def test_pages_link_to_each_other(client, member, community, thread_factory, drain):
    for n in range(12):
        await thread_factory(community=community, author=member, title=f"Eczema cream {n:02}")
    await drain()
    first = await client.get("/search", params={"q": "eczema"})
    assert 'href="/search?q=eczema&amp;page=2"' in first.text
    second = await client.get("/search", params={"q": "eczema", "page": "2"})
    assert second.text.count('class="search-result"') == 2
    api = (await client.get("/api/v1/search", params={"q": "eczema", "page": 2})).json()
    assert api["total"] == 12 and api["page"] == 2 and len(api["items"]) == 2


async def test_the_community_page_has_its_own_search_box(
    client, member, community, thread_factory, drain
):
    page = await client.get("/c/celiac")
    assert 'action="/search"' in page.text and 'name="community" value="celiac"' in page.text
    thread = await thread_factory(community=community, author=member, title="Oats in celiac")
    await drain()
    within = await client.get("/search", params={"q": "oats", "community": "celiac"})
    assert f'href="/t/{thread["id"]}"' in within.text and "in Celiac disease" in within.text
    assert 'type="hidden" name="community" value="celiac"' in within.text


async def test_did_you_mean_offers_a_correction_that_finds_something(
    client, member, community, thread_factory, drain
):
    await thread_factory(community=community, author=member, title="Gluten and restaurants")
    await drain()
    body = (await client.get("/api/v1/search", params={"q": "glutne resturants"})).json()
    assert body["items"] == [] and body["suggestion"] == "gluten restaurants"
    page = await client.get("/search", params={"q": "glutne"})
    assert "Did you mean" in page.text and 'href="/search?q=gluten"' in page.text


async def test_did_you_mean_never_suggests_a_word_only_private_content_holds(
    client, admin, member, private_community, thread_factory, drain
):
    from forum import communities
    from tests.conftest import viewer_of

    await communities.add_member(
        await viewer_of(admin), private_community["slug"], member["username"]
    )
    await thread_factory(community=private_community, author=member, title="Zoledronate infusions")
    await drain()
    visitor = (await client.get("/api/v1/search", params={"q": "zoledronte"})).json()
    assert visitor["suggestion"] is None
    headers = await api_token(client, member)
    mine = await client.get("/api/v1/search", params={"q": "zoledronte"}, headers=headers)
    assert mine.json()["suggestion"] == "zoledronate"


async def test_searches_that_found_nothing_are_recorded_without_who_asked(
    client, member, community, thread_factory, drain
):
    await thread_factory(community=community, author=member, title="Thyroid levels")
    await drain()
    await sign_in(client, member)
    await client.get("/search", params={"q": "  Wheelchair   RAMPS "})
    await client.get("/search", params={"q": "parking", "community": "celiac"})
    await client.get("/search", params={"q": "thyroid"})  # found: not recorded
    rows = await SearchMiss.select(SearchMiss.query, SearchMiss.community).order_by(SearchMiss.id)
    assert rows == [
        {"query": "wheelchair ramps", "community": None},
        {"query": "parking", "community": community["id"]},
    ]
    assert normalize("  A  b ") == "a b"


async def test_the_api_answers_in_the_documented_shape(
    client, member, community, thread_factory, drain
):
    thread = await thread_factory(community=community, author=member, title="Asthma inhalers")
    await drain()
    response = await client.get(
        "/api/v1/search", params={"q": "asthma", "community": "celiac", "kind": "thread"}
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"items", "total", "page", "per_page"}
    [item] = body["items"]
    assert item["kind"] == "thread" and item["id"] == thread["id"]
    assert item["title"] == "Asthma inhalers" and item["url"] == f"/t/{thread['id']}"
    assert item["community"] == "celiac" and isinstance(item["score"], float)
    assert body["total"] == 1 and body["page"] == 1
    stories = (await client.get("/api/v1/search", params={"q": "asthma", "kind": "story"})).json()
    assert stories["items"] == [] and stories["total"] == 0
    spec = (await client.get("/api/v1/openapi.json")).json()
    assert "get" in spec["paths"]["/api/v1/search"]


async def test_the_api_bounds_its_inputs_instead_of_failing(client):
    for params in (
        {"q": "x" * 5000},
        {"q": "a", "page": "-3", "per_page": "100000"},
        {"q": '"', "kind": "video"},
        {"q": "after:2099-99-99 before:nope"},
        {"q": "", "community": "../../etc"},
    ):
        response = await client.get("/api/v1/search", params=params)
        assert response.status_code == 200, params
        assert response.json()["per_page"] <= 50


async def test_a_community_filter_that_cannot_be_a_slug_is_unknown_without_a_query(find):
    """PostgreSQL refuses to compare text holding NUL: such a name never reaches it."""
    page = await find(None, "oats", community="celiac\x00")
    assert page.items == [] and "There is no community called" in page.notes[-1]
