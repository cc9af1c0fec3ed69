"""The SearchIndex contract: what every backend (Whoosh, PostgreSQL full text) must do.

Each test runs once per backend (PostgreSQL only in the PostgreSQL pass)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from search.backends import create_index
from search.index import Changes, SearchRequest
from tests.search.conftest import BASE
from tests.search.conftest import make_document as doc

EVERYONE = None  # visible_communities=None: an admin's view


async def put(index, *documents):
    await index.apply(Changes(upserts=tuple(documents)))


def ask(*terms, **options) -> SearchRequest:
    return SearchRequest(terms=tuple(terms), **options)


async def ids(index, request: SearchRequest) -> list[int]:
    return [hit.id for hit in (await index.search(request)).hits]


async def test_a_word_finds_documents_by_its_stem(index):
    await put(
        index,
        doc(1, "Travelling with celiac disease", "Restaurants abroad were hard."),
        doc(2, "Sleep and fatigue", "I nap every afternoon."),
    )
    assert await ids(index, ask("travel")) == [1]
    assert await ids(index, ask("restaurant")) == [1]
    assert await ids(index, ask("napping")) == [2]


async def test_every_word_must_match(index):
    await put(
        index,
        doc(1, "Gluten free bread", "Any good recipes?"),
        doc(2, "Bread machines", "Which one do you use?"),
    )
    assert await ids(index, ask("gluten", "bread")) == [1]
    assert await ids(index, ask("bread")) == [1, 2] or await ids(index, ask("bread")) == [2, 1]


async def test_a_title_match_ranks_above_a_body_match(index):
    await put(
        index,
        doc(1, "Questions about my appointment", "What should I ask about insulin pumps?"),
        doc(2, "Insulin pumps", "What should I ask about my appointment?"),
    )
    assert await ids(index, ask("insulin")) == [2, 1]


async def test_recent_activity_breaks_ties(index):
    await put(
        index,
        doc(1, "Oats and celiac", "Are oats safe?", days=0),
        doc(2, "Oats and celiac", "Are oats safe?", days=5),
        doc(3, "Oats and celiac", "Are oats safe?", days=2),
    )
    assert await ids(index, ask("oats")) == [2, 3, 1]


async def test_an_exact_phrase_matches_only_those_words_in_that_order(index):
    await put(
        index,
        doc(1, "Eating out", "Is this restaurant gluten free? Asking for my son."),
        doc(2, "Eating out", "Free bread at the table, full of gluten."),
        doc(3, "Labels", "The gluten-free label on oats"),
    )
    found = await ids(index, SearchRequest(phrases=(("gluten", "free"),)))
    assert sorted(found) == [1, 3]


async def test_a_three_word_phrase_must_appear_whole(index):
    await put(
        index,
        doc(1, "Checking", "I track my blood pressure readings daily."),
        doc(2, "Checking", "My blood tests and the pressure readings at home are fine."),
        doc(3, "Checking", "Readings of blood pressure, and other readings."),
    )
    found = await ids(index, SearchRequest(phrases=(("blood", "pressure", "readings"),)))
    assert found == [1]


async def test_excluded_words_and_phrases_leave_documents_out(index):
    await put(
        index,
        doc(1, "Bread", "Wheat bread makes me ill."),
        doc(2, "Bread", "Rice bread is fine."),
        doc(3, "Bread", "Sourdough bread, made with wheat flour."),
    )
    assert await ids(index, ask("bread", excluded_terms=("wheat",))) == [2]
    found = await ids(index, ask("bread", excluded_phrases=(("wheat", "bread"),)))
    assert sorted(found) == [2, 3]


async def test_filters_narrow_results(index):
    await put(
        index,
        doc(1, "Fatigue", "tired", community_id=1, author="maria", days=-40),
        doc(2, "Fatigue", "tired", community_id=2, author="dev", tags=("ask_clinician",)),
        doc(3, "Fatigue", "tired", community_id=1, author="dev", expert_answered=True, days=10),
        doc(4, "Fatigue", "tired", kind="story", community_id=1, author="maria", days=3),
    )
    assert sorted(await ids(index, ask("fatigue", community_id=1))) == [1, 3, 4]
    assert sorted(await ids(index, ask("fatigue", author="DEV"))) == [2, 3]
    assert await ids(index, ask("fatigue", kind="story")) == [4]
    assert await ids(index, ask("fatigue", tag="ask_clinician")) == [2]
    assert await ids(index, ask("fatigue", expert_answered=True)) == [3]
    after = BASE + timedelta(days=1)
    assert sorted(await ids(index, ask("fatigue", after=after))) == [3, 4]
    assert sorted(await ids(index, ask("fatigue", before=BASE))) == [1]


async def test_filters_alone_list_the_most_recently_active_first(index):
    await put(
        index,
        doc(1, "One", "apples", author="dev", days=1),
        doc(2, "Two", "bananas", author="dev", days=3),
        doc(3, "Three", "cherries", author="maria", days=2),
    )
    assert await ids(index, SearchRequest(author="dev")) == [2, 1]
    assert await ids(index, SearchRequest(excluded_terms=("banana",), author="dev")) == [1]


async def test_private_documents_are_found_only_by_those_who_may_see_them(index):
    await put(
        index,
        doc(1, "Medication side effects", "nausea", community_id=1),
        doc(2, "Medication side effects", "nausea", community_id=7, visibility="private"),
        doc(3, "Medication side effects", "nausea", community_id=8, visibility="private"),
    )
    assert await ids(index, ask("nausea", visible_communities=frozenset())) == [1]
    assert sorted(await ids(index, ask("nausea", visible_communities=frozenset({7})))) == [1, 2]
    assert sorted(await ids(index, ask("nausea", visible_communities=EVERYONE))) == [1, 2, 3]
    results = await index.search(ask("nausea", visible_communities=frozenset()))
    assert results.total == 1


async def test_an_upsert_replaces_and_a_delete_removes(index):
    await put(index, doc(1, "Old title", "about migraines"))
    await put(index, doc(1, "New title", "about headaches"))
    assert await ids(index, ask("migraines")) == []
    assert await ids(index, ask("headaches")) == [1]
    await index.apply(Changes(deletes=(("thread", 1),)))
    assert await ids(index, ask("headaches")) == []
    await index.apply(Changes(deletes=(("thread", 1),)))  # deleting twice is harmless
    assert (await index.stats()).documents == 0


async def test_purging_a_community_removes_its_documents_before_upserts_return(index):
    await put(
        index,
        doc(1, "Asthma inhaler", "x", community_id=3),
        doc(2, "Asthma inhaler", "x", community_id=3),
        doc(3, "Asthma inhaler", "x", community_id=4),
    )
    await index.apply(
        Changes(
            upserts=(doc(2, "Asthma inhaler", "x", community_id=3, visibility="private"),),
            purge_communities=(3,),
        )
    )
    assert await ids(index, ask("asthma", visible_communities=frozenset())) == [3]
    assert sorted(await ids(index, ask("asthma", visible_communities=EVERYONE))) == [2, 3]


async def test_pages_slice_the_results_and_total_counts_them_all(index):
    await put(index, *(doc(i, f"Thyroid question {i}", "levels", days=i) for i in range(1, 24)))
    first = await index.search(ask("thyroid", limit=10))
    third = await index.search(ask("thyroid", offset=20, limit=10))
    assert first.total == third.total == 23
    assert [h.id for h in first.hits] == list(range(23, 13, -1))
    assert [h.id for h in third.hits] == [3, 2, 1]
    beyond = await index.search(ask("thyroid", offset=40, limit=10))
    assert beyond.hits == () and beyond.total == 23


async def test_snippets_mark_the_matched_words_and_escape_everything_else(index):
    body = 'Doctor said <script>alert("x")</script> my thyroid levels are <b>fine</b> & stable.'
    await put(index, doc(1, "Results", body))
    [hit] = (await index.search(ask("thyroid"))).hits
    assert "<mark>thyroid</mark>" in hit.snippet_html
    assert "<script>" not in hit.snippet_html and "<b>" not in hit.snippet_html
    assert "&lt;" in hit.snippet_html or "alert" in hit.snippet_html  # shown as text, or dropped
    without_marks = hit.snippet_html.replace("<mark>", "").replace("</mark>", "")
    assert "<" not in without_marks and ">" not in without_marks


async def test_stop_words_alone_find_nothing_and_unknown_words_find_nothing(index):
    await put(index, doc(1, "The clinic", "and the nurse"))
    assert (await index.search(ask("the", "and"))).total == 0
    assert (await index.search(ask("zyxwvut"))).total == 0


async def test_a_rebuild_replaces_the_whole_index(index):
    await put(index, doc(1, "Stale", "gone soon"), doc(2, "Stale", "gone soon"))

    async def batches():
        yield [doc(3, "Fresh", "kept"), doc(4, "Fresh", "kept")]
        yield [doc(5, "Fresh", "kept")]

    async with index.exclusive(wait=True) as held:
        assert held
        count = await index.rebuild(batches(), 3)
    assert count == 3
    assert await ids(index, ask("stale")) == []
    assert sorted(await ids(index, ask("fresh"))) == [3, 4, 5]
    assert (await index.stats()).documents == 3


async def test_only_one_writer_holds_the_lock_at_a_time(index, settings):
    """A second index object on the same store (another worker, another instance) skips its
    turn while the first writes, and gets it afterwards."""
    other = create_index(settings.search_backend, settings.index_dir)
    await other.open()
    entered, release = asyncio.Event(), asyncio.Event()

    async def first_writer() -> bool:
        async with index.exclusive() as held:
            entered.set()
            await release.wait()
            return held

    async def second_writer() -> bool:
        async with other.exclusive() as held:
            return held

    first = asyncio.create_task(first_writer())
    await entered.wait()
    assert await asyncio.create_task(second_writer()) is False
    release.set()
    assert await first is True
    assert await asyncio.create_task(second_writer()) is True
    await other.close()
