"""What a person typed in the search box, read into a structured query. Never raises.

Plain words must all match; "exact phrases" match as written (after stemming); -word and
-"a phrase" exclude; filters are `community:slug`, `author:name`, `kind:thread|story`,
`tag:word`, `is:expert-answered`, `after:date` and `before:date` (dates as 2026-03-01, 2026-03
or 2026). Anything it can't use is kept as plain words or noted for the person, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

MAX_QUERY = 200
MAX_PARTS = 16
KINDS = ("thread", "story")
KIND_ALIASES = {
    "thread": "thread",
    "threads": "thread",
    "conversation": "thread",
    "conversations": "thread",
    "story": "story",
    "stories": "story",
}
EXPERT_VALUES = ("expert-answered", "expert_answered", "expert", "answered")
FILTERS = ("community", "author", "kind", "tag", "is", "after", "before")

_TOKEN = re.compile(
    r"""(?P<neg>-)?"(?P<phrase>[^"]*)"?"""  # "a phrase" or -"a phrase" (closing quote optional)
    r"""|(?P<field>[A-Za-z]+):(?P<value>"[^"]*"?|\S*)"""  # field:value or field:"value"
    r"""|(?P<word>\S+)"""
)
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_SLUG = re.compile(r"^[a-z0-9-]{1,48}$")
_NAME = re.compile(r"^[a-z0-9_.-]{1,32}$")


def is_slug(value: str) -> bool:
    """Whether `value` could be a community's slug (so it is worth looking up)."""
    return bool(_SLUG.fullmatch(value))


@dataclass(frozen=True)
class ParsedQuery:
    """A search, as the parser understood it. Words are lowercased, not yet stemmed."""

    terms: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    excluded_terms: tuple[str, ...] = ()
    excluded_phrases: tuple[tuple[str, ...], ...] = ()
    community: str | None = None
    author: str | None = None
    kind: str | None = None
    tag: str | None = None
    expert_answered: bool = False
    after: datetime | None = None
    before: datetime | None = None
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def has_text(self) -> bool:
        """True when there is something to match words against (not only filters)."""
        return bool(self.terms or self.phrases)

    @property
    def has_filters(self) -> bool:
        return any(
            (
                self.community,
                self.author,
                self.kind,
                self.tag,
                self.expert_answered,
                self.after,
                self.before,
            )
        )

    @property
    def is_empty(self) -> bool:
        """Nothing to search for: no words, no phrases, no filters."""
        return not (self.has_text or self.has_filters or self.excluded_terms)

    def text(self) -> str:
        """The query written back in the search box's syntax (for links and suggestions)."""
        parts = [*self.terms]
        parts += [f'"{" ".join(p)}"' for p in self.phrases]
        parts += [f"-{t}" for t in self.excluded_terms]
        parts += [f'-"{" ".join(p)}"' for p in self.excluded_phrases]
        if self.community:
            parts.append(f"community:{self.community}")
        if self.author:
            parts.append(f"author:{self.author}")
        if self.kind:
            parts.append(f"kind:{self.kind}")
        if self.tag:
            parts.append(f"tag:{self.tag}")
        if self.expert_answered:
            parts.append("is:expert-answered")
        if self.after:
            parts.append(f"after:{self.after.date().isoformat()}")
        if self.before:
            parts.append(f"before:{self.before.date().isoformat()}")
        return " ".join(parts)

    def with_terms(self, terms: tuple[str, ...]) -> ParsedQuery:
        return replace(self, terms=terms)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("\u2019", "'"))


def _date(value: str) -> datetime | None:
    """2026-03-01, 2026-03 or 2026 as that day's (or month's, year's) first UTC moment.

    after: includes that moment, before: excludes it: after:2026-03 is from March on,
    before:2026-03 is up to the end of February. None when it isn't a real date."""
    match = _DATE.match(value)
    if not match:
        return None
    year, month, day = int(match[1]), int(match[2] or 1), int(match[3] or 1)
    if not (1990 <= year <= 2200):
        return None
    try:
        return datetime(year, month, day, tzinfo=UTC)
    except ValueError:
        return None


def parse(raw: object) -> ParsedQuery:
    """Read a search box's text. Unknown or malformed parts become words or notes."""
    if not isinstance(raw, str):
        return ParsedQuery()
    text = raw[:MAX_QUERY]
    terms: list[str] = []
    phrases: list[tuple[str, ...]] = []
    excluded_terms: list[str] = []
    excluded_phrases: list[tuple[str, ...]] = []
    filters: dict[str, object] = {}
    notes: list[str] = []

    def add_words(value: str, negative: bool = False) -> None:
        target = excluded_terms if negative else terms
        for word in _words(value):
            if word not in target:
                target.append(word)

    for match in _TOKEN.finditer(text):
        if match["phrase"] is not None:
            words = tuple(_words(match["phrase"]))
            if not words:
                continue
            if len(words) == 1:
                add_words(words[0], negative=bool(match["neg"]))
            elif match["neg"]:
                excluded_phrases.append(words)
            else:
                phrases.append(words)
        elif match["field"] is not None:
            name = match["field"].lower()
            value = match["value"].strip('"').strip()
            if name not in FILTERS:
                add_words(f"{match['field']} {value}")
                continue
            if not value:
                notes.append(
                    f"“{name}:” needs something after the colon, like {name}:{_example(name)}."
                )
                continue
            _apply_filter(name, value, filters, notes)
        else:
            word = match["word"]
            if word.startswith("-") and len(word) > 1:
                add_words(word[1:], negative=True)
            else:
                add_words(word)

    if len(terms) + len(phrases) + len(excluded_terms) + len(excluded_phrases) > MAX_PARTS:
        notes.append(f"Only the first {MAX_PARTS} words and phrases were used.")
        terms = terms[:MAX_PARTS]
        room = MAX_PARTS - len(terms)
        phrases = phrases[:room]
        room -= len(phrases)
        excluded_terms = excluded_terms[: max(0, room)]
        room -= len(excluded_terms)
        excluded_phrases = excluded_phrases[: max(0, room)]
    excluded_terms = [t for t in excluded_terms if t not in terms]
    return ParsedQuery(
        terms=tuple(terms),
        phrases=tuple(phrases),
        excluded_terms=tuple(excluded_terms),
        excluded_phrases=tuple(excluded_phrases),
        notes=tuple(notes),
        **filters,  # type: ignore[arg-type]
    )


def _example(name: str) -> str:
    return {
        "community": "celiac",
        "author": "maria",
        "kind": "thread",
        "tag": "ask_clinician",
        "is": "expert-answered",
        "after": "2026-01-01",
        "before": "2026-01-01",
    }[name]


def _apply_filter(name: str, value: str, filters: dict[str, object], notes: list[str]) -> None:
    lowered = value.lower()
    if name == "community":
        if _SLUG.match(lowered):
            filters["community"] = lowered
        else:
            notes.append(f"There is no community called “{value}”.")
    elif name == "author":
        author = lowered.lstrip("@")
        if _NAME.match(author):
            filters["author"] = author
        else:
            notes.append(f"“{value}” isn't a username we recognise.")
    elif name == "kind":
        kind = KIND_ALIASES.get(lowered)
        if kind:
            filters["kind"] = kind
        else:
            notes.append("kind: can be thread or story.")
    elif name == "tag":
        tag = re.sub(r"[^a-z0-9_-]", "", lowered)[:40]
        if tag:
            filters["tag"] = tag
    elif name == "is":
        if lowered in EXPERT_VALUES:
            filters["expert_answered"] = True
        else:
            notes.append("is: can be is:expert-answered.")
    else:
        moment = _date(lowered)
        if moment is None:
            notes.append(f"{name}: needs a date like {name}:2026-01-31; “{value}” was left out.")
        else:
            filters[name] = moment
