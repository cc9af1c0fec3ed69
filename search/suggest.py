"""'Did you mean': typo corrections from the words of indexed content, for both backends.

The writer records every word it indexes in search_word (one row per word, never removed).
When a search finds nothing, each word of it that was never seen is compared with seen words
of the same first letter and similar length; the closest (by edit distance, transpositions
counting once) replace it. The caller only offers a correction that finds something for the
same searcher, so a word known only from a private community never leaks as a suggestion.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from search.index import Document
from search.tables import SearchWord

_ALPHA = re.compile(r"[^\W\d_]{3,40}")
_KNOWN_MAX = 500_000
_known: set[str] = set()  # words this process already recorded (saves repeated inserts)
MAX_CANDIDATES = 3


def vocabulary(text: str) -> set[str]:
    """The words of a text worth suggesting: letters only, 3 to 40 of them, lowercased."""
    return set(_ALPHA.findall(text.lower()))


async def learn(documents: Iterable[Document]) -> None:
    """Record the words of these documents; cheap when they are already known."""
    new: set[str] = set()
    for document in documents:
        new |= vocabulary(document.title) | vocabulary(document.body)
    new -= _known
    if not new:
        return
    words = sorted(new)
    for start in range(0, len(words), 500):
        batch = words[start : start + 500]
        values = ", ".join("({})" for _ in batch)
        await SearchWord.raw(
            f'INSERT INTO "search_word" ("word") VALUES {values} ON CONFLICT ("word") DO NOTHING',
            *batch,
        )
    if len(_known) > _KNOWN_MAX:
        _known.clear()
    _known.update(words)


def distance(a: str, b: str, limit: int = 2) -> int:
    """Edit distance with adjacent transpositions (optimal string alignment); anything over
    `limit` is reported as limit + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


async def known(words: Sequence[str]) -> set[str]:
    if not words:
        return set()
    marks = ", ".join("{}" for _ in words)
    rows = await SearchWord.raw(
        f'SELECT "word" FROM "search_word" WHERE "word" IN ({marks})', *words
    )
    return {row["word"] for row in rows}


async def candidates(word: str) -> list[str]:
    """Seen words close to `word`, best first (at most MAX_CANDIDATES)."""
    if not _ALPHA.fullmatch(word):
        return []
    limit = 1 if len(word) <= 4 else 2
    first = word[0]
    rows = await SearchWord.raw(
        'SELECT "word" FROM "search_word" WHERE "word" >= {} AND "word" < {} '
        'AND LENGTH("word") BETWEEN {} AND {}',
        first,
        chr(ord(first) + 1),
        len(word) - limit,
        len(word) + limit,
    )
    scored = []
    for row in rows:
        candidate = row["word"]
        d = distance(word, candidate, limit)
        if 0 < d <= limit:
            scored.append((d, abs(len(candidate) - len(word)), candidate))
    return [candidate for *_, candidate in sorted(scored)[:MAX_CANDIDATES]]


async def corrections(words: Sequence[str]) -> dict[str, list[str]]:
    """For each word never seen in indexed content, its likeliest corrections."""
    unique = sorted({w for w in words if _ALPHA.fullmatch(w)})
    seen = await known(unique)
    result: dict[str, list[str]] = {}
    for word in unique:
        if word in seen:
            continue
        found = await candidates(word)
        if found:
            result[word] = found
    return result
