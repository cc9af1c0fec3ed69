"""Words, stems and snippets: the text handling both index backends share.

Stemming happens here, in plain Python with a cache, rather than inside a Whoosh analyzer: the
writer stems each document once and hands Whoosh ready-made tokens, the query side stems the
searcher's words the same way, and snippets find the words to highlight with the same function.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

from whoosh.analysis import STOP_WORDS
from whoosh.lang.snowball.english import EnglishStemmer

# Letters and digits; an apostrophe inside a word keeps it whole ("don't", "crohn's").
WORD_RE = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
STOP = frozenset(STOP_WORDS)
MAX_WORD = 40
_TAG = re.compile(r"<[^>]*>")
_BLOCK_END = re.compile(r"</(?:p|li|h[2-6]|pre|blockquote|tr|td|th)>|<br\s*/?>", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


_english = EnglishStemmer()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball (Porter2) English stem of a lowercased word ("travelling" -> "travel"),
    the stemmer PostgreSQL's 'english' configuration uses too."""
    return _english.stem(word)


def fold(text: str) -> str:
    """Lowercase, with typographic apostrophes made plain (U+2019 becomes an ASCII apostrophe)."""
    return text.lower().replace("\u2019", "'")


def words(text: str) -> list[str]:
    """Lowercased words of a text, without stop words or overlong tokens."""
    return [
        word
        for word in WORD_RE.findall(fold(text))
        if word not in STOP and len(word) <= MAX_WORD and (len(word) > 1 or word.isdigit())
    ]


def stems(text: str) -> list[str]:
    """The stems of a text's words, in order: what the index stores and queries look up."""
    return [stem(word) for word in words(text)]


def html_to_text(fragment: str) -> str:
    """Plain text of stored, already-sanitized post HTML.

    forum.content.to_text re-renders markdown and runs bleach (~1.5 ms a post); the stored HTML
    passed the sanitizer on write, so its tags strip cleanly with a regex at a fraction of that.
    The result is indexed and shown escaped, never as HTML.
    """
    text = _BLOCK_END.sub(" \n", fragment)
    text = html.unescape(_TAG.sub(" ", text))
    return _SPACE.sub(" ", text).strip()


def clean_text(text: str) -> str:
    """Whitespace collapsed, highlight markers removed: for titles and other plain fields."""
    return _SPACE.sub(" ", text).strip()


# Snippets -----------------------------------------------------------------------------------

SNIPPET_CHARS = 220
MAX_MARKS = 200
_MARK = re.compile(r"</?mark>")
_UNSAFE = re.compile(r"<(?!/?mark>)|(?<!<mark)(?<!</mark)>")


def _window(text: str, hits: Sequence[tuple[int, int, str]], size: int) -> tuple[int, int]:
    """The stretch of `size` characters holding the most distinct matched stems."""
    if not hits:
        end = len(text) if len(text) <= size else text.rfind(" ", 0, size)
        return 0, end if end > 0 else min(len(text), size)
    best, best_start = -1, 0
    inside: Counter[str] = Counter()
    last = 0
    for first, (start, _, _) in enumerate(hits):
        while last < len(hits) and hits[last][0] < start + size:
            inside[hits[last][2]] += 1
            last += 1
        if len(inside) > best:
            best, best_start = len(inside), start
        inside[hits[first][2]] -= 1
        if not inside[hits[first][2]]:
            del inside[hits[first][2]]
    start = max(0, best_start - size // 4)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < best_start else start
    end = min(len(text), start + size)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start else end
    return start, end


def snippet(text: str, wanted: Iterable[str], size: int = SNIPPET_CHARS) -> str:
    """Safe HTML: a short piece of `text` around the query's words, each one in <mark>.

    The text is escaped piece by piece and only our own <mark> tags are added, so nothing a
    member wrote can become markup.
    """
    targets = frozenset(wanted)
    hits: list[tuple[int, int, str]] = []
    if targets:
        # Only words starting like a wanted stem are stemmed (a stem is nearly always a
        # prefix of its words): a few stem calls rather than one per word of the text.
        prefixes = sorted({t[:3] for t in targets}, key=len, reverse=True)
        finder = re.compile(
            r"(?<![^\W_])(?:"
            + "|".join(map(re.escape, prefixes))
            + r")[^\W_]*(?:['\u2019][^\W_]+)*",
            re.IGNORECASE,
        )
        for match in finder.finditer(text):
            word_stem = stem(fold(match.group()))
            if word_stem in targets:
                hits.append((match.start(), match.end(), word_stem))
                if len(hits) >= MAX_MARKS:
                    break
    start, end = _window(text, hits, size)
    parts: list[str] = ["…"] if start > 0 else []
    cursor = start
    for a, b, _ in hits:
        if a < start or b > end:
            continue
        parts.append(html.escape(text[cursor:a], quote=False))
        parts.append("<mark>" + html.escape(text[a:b], quote=False) + "</mark>")
        cursor = b
    parts.append(html.escape(text[cursor:end], quote=False))
    if end < len(text):
        parts.append("…")
    return ensure_safe("".join(parts))


def ensure_safe(fragment: str) -> str:
    """A last wall: any angle bracket that is not our own <mark> tag gets escaped."""
    if not _UNSAFE.search(fragment):
        return fragment
    pieces = _MARK.split(fragment)
    tags = _MARK.findall(fragment)
    out = [html.escape(html.unescape(pieces[0]), quote=False)]
    for tag, piece in zip(tags, pieces[1:], strict=True):
        out.append(tag)
        out.append(html.escape(html.unescape(piece), quote=False))
    return "".join(out)
