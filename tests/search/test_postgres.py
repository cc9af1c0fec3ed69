"""The PostgreSQL backend's own choices: ranking a window of recent matches, then the rest."""

from __future__ import annotations

import pytest

from search import postgres_index
from search.index import Changes, SearchRequest
from tests.search.conftest import make_document as doc


@pytest.fixture
def postgres(index):
    if index.name != "postgres":
        pytest.skip("PostgreSQL only")
    return index


async def test_matches_past_the_ranked_window_follow_newest_first(postgres, monkeypatch):
    monkeypatch.setattr(postgres_index, "RANK_WINDOW", 3)
    # Older documents mention the word more often, so they would rank first without a window.
    await postgres.apply(
        Changes(
            upserts=tuple(doc(n, "Knee", "brace " * (8 - n) + "tips", days=n) for n in range(1, 8))
        )
    )
    seen = []
    for offset in range(0, 8, 2):
        page = await postgres.search(SearchRequest(terms=("brace",), offset=offset, limit=2))
        assert page.total == 7
        seen += [hit.id for hit in page.hits]
    assert seen[:3] == [5, 6, 7]  # the three most recent, ranked: more mentions first
    assert seen[3:] == [4, 3, 2, 1]  # then the rest, newest first
