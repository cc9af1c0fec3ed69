"""The Whoosh backend's own machinery: pairs for phrases of common words, readers that follow
other processes' commits, and a schema change that starts the index afresh."""

from __future__ import annotations

import pytest

from search import whoosh_index
from search.index import Changes, SearchRequest
from search.whoosh_index import SCHEMA_VERSION, VERSION_FILE, WhooshIndex
from tests.search.conftest import make_document as doc

pytestmark = pytest.mark.usefixtures("backend")


@pytest.fixture
async def whoosh(settings):
    if settings.search_backend != "whoosh":
        pytest.skip("Whoosh only")
    index = WhooshIndex(settings.index_dir)
    await index.open()
    yield index
    await index.close()


async def _rebuild(index, documents):
    async def batches():
        yield documents

    async with index.exclusive(wait=True):
        return await index.rebuild(batches(), len(documents))


async def phrase_ids(index, *words):
    results = await index.search(SearchRequest(phrases=(words,), visible_communities=None))
    return sorted(hit.id for hit in results.hits)


async def test_phrases_of_common_words_use_pairs_and_stay_exact(whoosh, monkeypatch):
    monkeypatch.setattr(whoosh_index, "COMMON_DOCS", 1)
    documents = [
        doc(1, "Pressure", "my blood pressure is high"),
        doc(2, "Pressure", "blood tests and pressure checks"),
        doc(3, "Pressure", "pressure on the blood bank"),
        doc(4, "Pressure", "low blood pressure readings at night"),
    ]
    await _rebuild(whoosh, documents)
    state = whoosh._current()
    assert {"blood", "pressur"} <= state.common
    assert await phrase_ids(whoosh, "blood", "pressure") == [1, 4]
    assert await phrase_ids(whoosh, "blood", "pressure", "readings") == [4]
    # Documents written after the rebuild get the same pairs.
    await whoosh.apply(Changes(upserts=(doc(5, "New", "checking blood pressure daily"),)))
    assert await phrase_ids(whoosh, "blood", "pressure") == [1, 4, 5]


async def test_a_second_process_sees_commits_deletions_and_merges(whoosh, settings):
    other = WhooshIndex(settings.index_dir)
    await other.open()
    request = SearchRequest(terms=("asthma",), visible_communities=None)
    for n in range(1, 13):  # enough small commits for Whoosh to merge segments
        await whoosh.apply(Changes(upserts=(doc(n, f"Asthma {n}", "inhaler"),)))
        assert (await other.search(request)).total == n
    await whoosh.apply(Changes(deletes=(("thread", 3),), upserts=(doc(4, "Asthma 4", "x"),)))
    results = await other.search(request)
    assert results.total == 11 and 3 not in {hit.id for hit in results.hits}
    assert sorted(hit.id for hit in (await other.search(
        SearchRequest(terms=("asthma",), visible_communities=None, limit=50)
    )).hits) == [n for n in range(1, 13) if n != 3]  # fmt: skip
    await other.close()


async def test_an_index_from_another_schema_version_starts_afresh(whoosh, settings):
    await whoosh.apply(Changes(upserts=(doc(1, "Migraine", "aura"),)))
    await whoosh.close()
    (settings.index_dir / VERSION_FILE).write_text(str(SCHEMA_VERSION - 1))
    again = WhooshIndex(settings.index_dir)
    assert await again.open() is True  # the writer rebuilds it from the database
    assert (await again.stats()).documents == 0
    assert await WhooshIndex(settings.index_dir).open() is False
    await again.close()


async def test_small_commits_merge_among_themselves_and_leave_big_segments_alone(whoosh):
    await _rebuild(whoosh, [doc(n, "Sleep", "insomnia") for n in range(1, 121)])
    [big] = [s.segment_id() for s in whoosh._ix._read_toc().segments]
    for n in range(121, 146):
        await whoosh.apply(Changes(upserts=(doc(n, "Sleep", "insomnia"),)))
    segments = whoosh._ix._read_toc().segments
    assert big in {s.segment_id() for s in segments}  # never rewritten by a small commit
    assert len(segments) < 12
    results = await whoosh.search(SearchRequest(terms=("insomnia",), visible_communities=None))
    assert results.total == 145
