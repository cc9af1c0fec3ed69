"""The Whoosh index's first build survives a kill -9: it is started again on the next open.

Creating the index writes its version file at once, so before this an index whose builder
died mid-build opened as "built" and stayed incomplete until someone ran `kindred reindex`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from search.index import Document
from search.whoosh_index import WhooshIndex
from tests.search.conftest import make_document

ROOT = Path(__file__).resolve().parents[2]
# Opens a fresh index, says so, and waits to be killed before building it.
OPEN_AND_WAIT = """
import asyncio, sys, time
from search.whoosh_index import WhooshIndex
fresh = asyncio.run(WhooshIndex(sys.argv[1]).open())
print(fresh, flush=True)
time.sleep(60)
"""


async def _build(index: WhooshIndex, documents: Sequence[Document]) -> None:
    async def batches() -> AsyncIterator[Sequence[Document]]:
        yield documents

    async with index.exclusive(wait=True):
        await index.rebuild(batches(), len(documents))


async def test_an_index_whose_builder_was_killed_is_built_again_on_the_next_open(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "index"
    builder = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        OPEN_AND_WAIT,
        str(folder),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert builder.stdout is not None
        assert (await builder.stdout.readline()).strip() == b"True"
        other = WhooshIndex(folder)
        assert await other.open() is False  # the builder is alive: it builds, not us
        await other.close()
    finally:
        os.killpg(builder.pid, signal.SIGKILL)
        await builder.wait()
    restarted = WhooshIndex(folder)
    assert await restarted.open() is True
    await restarted.close()


async def test_an_index_built_once_is_not_built_again(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    first = WhooshIndex(folder)
    assert await first.open() is True
    await _build(first, [make_document(1, "Asthma", "inhaler")])
    await first.close()
    again = WhooshIndex(folder)
    assert await again.open() is False
    assert (await again.stats()).documents == 1
    await again.close()
