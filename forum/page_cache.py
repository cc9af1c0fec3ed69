"""Thread pages' posts and reactions, kept in memory by each process until they move.

A thread page reads the same 50 posts and their reactions for every reader; only who is reading
changes what is shown of them (forum.threads presents each post for its viewer). Each entry is
keyed by the thread's `page_version` and the site's `people` version, which database triggers
bump in the same transaction as any change the rows show (the migration page_cache). A request
reads both versions with the thread itself, so a process never serves rows older than the
versions it just read, and several processes need no messages between them.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

# 128 pages of at most 100 posts: a few tens of MB at worst, the busiest threads in practice.
MAX_ENTRIES = 128


class PageCache:
    """A small least-recently-used map; one per process (PAGES)."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable) -> Any | None:
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, key: Hashable, value: Any) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget everything: an app starting over a database that may have been replaced."""
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


PAGES = PageCache()

# Pages' posts as presented for one standing of reader (forum.threads._standing): visitors,
# members who neither wrote nor reacted on the page, its moderators, and each reader whose own
# posts or reactions are on it. Keyed by the page's key too, so they move with it; each entry
# is about 100 KB of dicts over the kept rows' values.
PRESENTED_ENTRIES = 64
PRESENTED = PageCache(PRESENTED_ENTRIES)


# Those presentations rendered to HTML (forum.web.post_list), about 70 KB each.
RENDERED_ENTRIES = 64
RENDERED = PageCache(RENDERED_ENTRIES)


def clear() -> None:
    """Forget every kept page, presentation and rendering (an app starting over another
    database)."""
    PAGES.clear()
    PRESENTED.clear()
    RENDERED.clear()
