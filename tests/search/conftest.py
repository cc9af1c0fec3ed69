"""Search fixtures: every search test runs on Whoosh, and on PostgreSQL full text as well in the
PostgreSQL pass (KINDRED_TEST_DB=postgres)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from forum import db
from forum.permissions import VISITOR
from search import service, suggest
from search.backends import create_index
from search.index import Document, SearchIndex
from tests.conftest import ENGINE, viewer_of

BACKENDS = ["whoosh", "postgres"]
# The PostgreSQL pass runs Whoosh only where the database and the index meet in new ways
# (several workers, the writer and its recovery); the SQLite pass covers the rest of Whoosh.
WHOOSH_ON_POSTGRES = {"test_workers", "test_writer"}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and ENGINE != "postgres":
        pytest.skip("PostgreSQL full text runs in the PostgreSQL pass")
    module = request.module.__name__.rsplit(".", 1)[-1]
    if request.param == "whoosh" and ENGINE == "postgres" and module not in WHOOSH_ON_POSTGRES:
        pytest.skip("Whoosh with this test runs in the SQLite pass")
    return request.param


async def _clear_search_documents(settings: Any) -> None:
    engine = db.create_engine(settings)
    await engine.run_ddl('DELETE FROM "search_document"')


@pytest.fixture
def settings(settings: Any, backend: str) -> Any:
    """The shared settings with this test's search backend, an empty PostgreSQL index table
    (the suite's truncation doesn't know it) and a fresh vocabulary cache."""
    suggest._known.clear()
    if backend == "postgres":
        asyncio.run(_clear_search_documents(settings))
    return settings.with_changes(search_backend=backend)


@pytest.fixture
def index(app: Any) -> SearchIndex:
    return app.state.search_index


@pytest.fixture
def drain(app: Any) -> Callable[[], Awaitable[int]]:
    """Run the writer until the outbox is empty, as the background task would."""

    async def run() -> int:
        return await app.state.search_writer.drain_all()

    return run


@pytest.fixture
def find(app: Any) -> Callable[..., Awaitable[Any]]:
    """Search as a person would (None: a visitor), through the service the page and API use."""

    async def run(user: dict[str, Any] | None, text: str, **options: Any) -> Any:
        viewer = await viewer_of(user) if user else VISITOR
        return await service.search(app.state.search_index, viewer, text, **options)

    return run


async def found_ids(find: Callable[..., Awaitable[Any]], user: Any, text: str, **options: Any):
    return [item.id for item in (await find(user, text, **options)).items]


BASE = datetime(2026, 3, 1, tzinfo=UTC)


def make_document(
    id: int,
    title: str = "A conversation",
    body: str = "",
    *,
    kind: str = "thread",
    community_id: int = 1,
    visibility: str = "public",
    author: str | None = "maria",
    days: float = 0,
    tags: tuple[str, ...] = ("discussion",),
    expert_answered: bool = False,
) -> Document:
    moment = BASE + timedelta(days=days)
    return Document(
        kind=kind,
        id=id,
        title=title,
        body=body,
        community_id=community_id,
        visibility=visibility,
        author=author,
        created_at=moment,
        activity_at=moment,
        tags=tags,
        expert_answered=expert_answered,
    )


__all__ = ["create_index", "make_document"]
