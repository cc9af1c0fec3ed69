"""Consistency: the outbox drained by one writer; nothing lost or doubled by a crash at any
moment; a rebuild from the database; posts findable within a second."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from forum import threads
from forum.app import create_app
from search import outbox, writer
from search.index import SearchRequest
from search.tables import SearchOutbox
from tests.conftest import viewer_of
from tests.search.conftest import found_ids

KINDRED = Path(sys.executable).parent / "kindred"


class Crash(Exception):
    """Stands in for a kill: the process stops where this is raised."""


async def test_the_writer_applies_outbox_rows_then_removes_exactly_those(
    member, community, thread_factory, reply_factory, drain, find
):
    thread = await thread_factory(community=community, author=member, title="Pacing with ME/CFS")
    await reply_factory(thread=thread, author=member, body="Heart rate monitor helped.")
    assert await outbox.pending_count() == 2
    assert await drain() == 2
    assert await outbox.pending_count() == 0
    assert await found_ids(find, None, "monitor") == [thread["id"]]


async def test_a_crash_after_the_index_commit_reapplies_without_duplicates(
    app, member, community, thread_factory, drain, find, index, monkeypatch
):
    thread = await thread_factory(community=community, author=member, title="Iron infusions")
    real_remove = outbox.remove

    async def crash(ids):
        raise Crash

    monkeypatch.setattr(outbox, "remove", crash)
    with pytest.raises(Crash):
        await app.state.search_writer.drain()
    assert await outbox.pending_count() == 1  # the index committed, the rows are still there
    monkeypatch.setattr(outbox, "remove", real_remove)
    await drain()
    page = await find(None, "iron")
    assert [item.id for item in page.items] == [thread["id"]] and page.total == 1
    assert (await index.stats()).documents == 1


async def test_a_crash_before_the_index_commit_loses_nothing(
    app, member, community, thread_factory, drain, find, index, monkeypatch
):
    thread = await thread_factory(community=community, author=member, title="Anemia and diet")

    async def crash(changes):
        raise Crash

    monkeypatch.setattr(index, "apply", crash)
    with pytest.raises(Crash):
        await app.state.search_writer.drain()
    monkeypatch.undo()
    assert await outbox.pending_count() == 1
    assert await found_ids(find, None, "anemia") == []
    await drain()
    assert await found_ids(find, None, "anemia") == [thread["id"]]


async def test_a_restart_catches_up_on_what_was_committed_but_never_indexed(
    settings, member, community, find
):
    """Kill between the content's commit and the indexing: the next process indexes it."""
    first = create_app(settings)
    async with first.router.lifespan_context(first):
        created = await threads.start_thread(
            settings,
            await viewer_of(member),
            community["slug"],
            threads.Draft(title="Compression stockings", body="Do they help with swelling?"),
        )
        # The process "dies" here: its writer never ran.
    assert await SearchOutbox.count() == 1
    second = create_app(settings, search_writer=True)
    async with second.router.lifespan_context(second):
        for _ in range(100):  # the background writer empties the outbox within 5 s
            if not await SearchOutbox.count():
                break
            await asyncio.sleep(0.05)
        request = SearchRequest(terms=("swelling",), visible_communities=None)
        results = await second.state.search_index.search(request)
        assert [hit.id for hit in results.hits] == [created["id"]]


async def test_posts_are_findable_within_a_second_with_the_background_writer(
    settings, member, community
):
    app = create_app(settings, search_writer=True)
    async with app.router.lifespan_context(app):
        viewer = await viewer_of(member)
        index = app.state.search_index
        for n in range(3):
            started = time.monotonic()
            created = await threads.start_thread(
                settings,
                viewer,
                community["slug"],
                threads.Draft(title=f"Question number {n}", body=f"About hydroxychloroquine{n}"),
            )
            request = SearchRequest(terms=(f"hydroxychloroquine{n}",))
            while not (await index.search(request)).hits:
                assert time.monotonic() - started < 1.0, "not findable within a second"
                await asyncio.sleep(0.01)
            assert (await index.search(request)).hits[0].id == created["id"]


async def test_post_community_and_unknown_rows_are_understood(
    member, community, thread_factory, reply_factory, drain, find, index
):
    thread = await thread_factory(community=community, author=member, title="Scans and MRI")
    await drain()
    await outbox.enqueue("post", 999_999)  # a post that no longer exists
    await outbox.enqueue("story", 1)  # reserved for stories: nothing to index yet
    await outbox.enqueue("community", community["id"])
    await drain()
    assert await outbox.pending_count() == 0
    assert await found_ids(find, None, "mri") == [thread["id"]]
    assert (await index.stats()).documents == 1


async def test_a_rebuild_restores_the_index_from_the_database(
    member, community, thread_factory, drain, find, index
):
    made = [
        await thread_factory(community=community, author=member, title=f"Dialysis diary {n}")
        for n in range(3)
    ]
    # The outbox rows pending now are covered by the rebuild, which removes them.
    seen = []
    count = await writer.rebuild(index, progress=seen.append)
    assert count == 3 and seen[-1] == 3
    assert await outbox.pending_count() == 0
    assert sorted(await found_ids(find, None, "dialysis")) == sorted(t["id"] for t in made)


async def test_a_missing_index_is_rebuilt_when_the_app_starts(
    settings, member, community, thread_factory, drain
):
    thread = await thread_factory(community=community, author=member, title="Hearing aids")
    await drain()
    if settings.search_backend == "whoosh":
        for path in settings.index_dir.iterdir():
            path.unlink()
    else:
        from forum.tables import Thread

        await Thread.raw('DELETE FROM "search_document"')
    app = create_app(settings, search_writer=True)
    async with app.router.lifespan_context(app):
        request = SearchRequest(terms=("hearing",))
        deadline = time.monotonic() + 5
        while not (await app.state.search_index.search(request)).hits:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        assert (await app.state.search_index.search(request)).hits[0].id == thread["id"]


def _cli(settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KINDRED_DATA_DIR": str(settings.data_dir),
        "KINDRED_DATABASE_URL": settings.database_url,
        "KINDRED_SEARCH": settings.search_backend,
        "KINDRED_SECRET_KEY": "test-secret-key-not-for-production",
    }
    return subprocess.run(
        [str(KINDRED), *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


async def test_the_reindex_and_search_status_commands(settings, member, community, thread_factory):
    await thread_factory(community=community, author=member, title="Knee replacement recovery")
    status = await asyncio.to_thread(_cli, settings, "search-status")
    assert status.returncode == 0, status.stderr
    assert "Pending outbox rows: 1" in status.stdout
    done = await asyncio.to_thread(_cli, settings, "reindex")
    assert done.returncode == 0, done.stderr
    assert "[" in done.stderr and "1/1 documents (100%)" in done.stderr
    assert "Search index rebuilt" in done.stdout and "1 documents" in done.stdout
    status = await asyncio.to_thread(_cli, settings, "search-status")
    assert "Pending outbox rows: 0" in status.stdout
    assert "Indexed documents: 1;" in status.stdout
