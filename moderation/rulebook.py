"""The screening rules: TOML files in moderation/rules, read once and compiled.

A deployment may add a folder of its own (`<data dir>/moderation/`) holding files of the same
names: their claims, patterns, words and domains are added to the built-in ones (an entry with
the same id replaces the built-in one), its trust.toml values override ours, and its
crisis_resources.toml replaces ours. Nothing here runs at screening time but lookups.
"""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

RULES_DIR = Path(__file__).resolve().parent / "rules"
FILES = (
    "misinformation",
    "phi",
    "crisis",
    "watched_words",
    "links",
    "trust",
    "crisis_resources",
)
WATCHED_ACTIONS = ("block", "require_approval", "flag", "censor")


@dataclass(frozen=True)
class TermGroup:
    """Terms any of which must match. `prefixes`: the first three letters every match must
    start a word with, for a cheap check before the regex runs (None when a term has none)."""

    pattern: re.Pattern[str]
    prefixes: frozenset[str] | None


@dataclass(frozen=True)
class Claim:
    """A known false or dangerous health claim."""

    id: str
    title: str
    action: str
    explanation: str
    source_url: str
    label: str
    # Each entry is one way to make the claim: every group must match in one sentence.
    conjunctions: tuple[tuple[TermGroup, ...], ...]
    unless: re.Pattern[str] | None = None


@dataclass(frozen=True)
class CrisisRule:
    id: str
    title: str
    message: str
    patterns: tuple[re.Pattern[str], ...]
    figures: re.Pattern[str] | None = None


@dataclass(frozen=True)
class PhiRule:
    id: str
    title: str
    what: str
    patterns: tuple[re.Pattern[str], ...]
    min_digits: int = 0
    ignore_local_parts: frozenset[str] = frozenset()
    needs: str = ""  # a character every match contains ("@" for e-mail), for a cheap check


@dataclass(frozen=True)
class NameRule:
    id: str
    title: str
    what: str
    distance: int
    first_names: frozenset[str]
    pairs: re.Pattern[str]
    related_names: re.Pattern[str]
    titles: frozenset[str]
    not_surnames: frozenset[str]
    diagnoses: re.Pattern[str]


@dataclass(frozen=True)
class WordList:
    action: str
    message: str
    pattern: re.Pattern[str] | None
    words: tuple[str, ...]


@dataclass(frozen=True)
class LinkRules:
    blocked: frozenset[str]
    blocked_message: str
    approval: frozenset[str]
    approval_message: str
    trusted: frozenset[str]


@dataclass(frozen=True)
class Level:
    level: int
    name: str
    min_published_posts: int
    min_days: float
    max_upheld_against: int | None


@dataclass(frozen=True)
class Limits:
    max_links: int
    max_images: int
    posts_per_day: int
    hold_first_posts: int


@dataclass(frozen=True)
class FlagRules:
    auto_hide_weight: float
    level_weights: tuple[float, ...]
    max_weight: float
    min_weight: float
    per_hour: int


@dataclass(frozen=True)
class TrustRules:
    penalty_posts: int
    levels: tuple[Level, ...]
    limits: dict[int, Limits]
    flags: FlagRules
    # Members' "helpful" reactions to someone's posts: this many count as one published post.
    helpful_per_post: int = 5

    def limits_for(self, level: int) -> Limits:
        """The limits of this trust level, or of the nearest lower level that has some."""
        for candidate in range(level, -1, -1):
            if candidate in self.limits:
                return self.limits[candidate]
        return self.limits[min(self.limits)]


@dataclass(frozen=True)
class Resource:
    name: str
    contact: str = ""
    url: str = ""
    # Where it serves ("US", "UK and Ireland"), when an administrator said (site settings).
    region: str = ""

    def as_json(self) -> dict[str, str]:
        data = {"name": self.name, "contact": self.contact, "url": self.url}
        if self.region:
            data["region"] = self.region
        return data


@dataclass(frozen=True)
class Resources:
    heading: str
    message: str
    items: tuple[Resource, ...]


@dataclass(frozen=True)
class RuleSet:
    """Every screening rule, compiled."""

    claims: tuple[Claim, ...]
    crisis: tuple[CrisisRule, ...]
    crisis_figures: re.Pattern[str] | None
    phi: tuple[PhiRule, ...]
    names: NameRule
    watched: tuple[WordList, ...]
    links: LinkRules
    trust: TrustRules
    resources: Resources
    sources: tuple[str, ...] = field(default=())


# Compiling ---------------------------------------------------------------------------------


def _apostrophes(pattern: str) -> str:
    """People often leave apostrophes out ("dont", "cant"); let every one be optional."""
    return pattern.replace("'", "'?")


def _expand(terms: list[str], shared: dict[str, list[str]]) -> list[str]:
    expanded: list[str] = []
    for term in terms:
        if term.startswith("@"):
            name = term[1:]
            if name not in shared:
                raise ValueError(f"unknown term list @{name}")
            expanded.extend(_expand(shared[name], shared))
        else:
            expanded.append(term)
    return expanded


_META = set("()[]{}?*+|.\\^$'")


def _prefix(term: str) -> str | None:
    """The first three letters every match of a term starts a word with (or the whole word, if
    the term begins with a two-letter word like "bp"), or None when that can't be known."""
    letters: list[str] = []
    following = ""
    for char in term:
        if not char.isalnum() or char in _META:
            following = char
            break
        letters.append(char)
    if following in ("?", "*", "{") and letters:
        letters.pop()  # the letter before an optional mark may be absent
    prefix = "".join(letters).lower()
    if len(prefix) >= 3:
        return prefix[:3]
    if len(prefix) == 2 and following in (" ", ""):
        return prefix
    return None


def term_group(terms: list[str], shared: dict[str, list[str]] | None = None) -> TermGroup:
    expanded = _expand(terms, shared or {})
    prefixes = [
        _prefix(term.rstrip("*")) if term.endswith("*") else _prefix(term) for term in expanded
    ]
    return TermGroup(
        pattern=compile_terms(expanded),
        prefixes=None if any(p is None for p in prefixes) else frozenset(prefixes),  # type: ignore[arg-type]
    )


def compile_terms(terms: list[str], shared: dict[str, list[str]] | None = None) -> re.Pattern[str]:
    """Terms as whole words, any case; a trailing * allows any ending."""
    parts = []
    for term in _expand(terms, shared or {}):
        prefix = term.endswith("*")
        core = _apostrophes(term[:-1] if prefix else term)
        parts.append(f"(?:{core})" + (r"\w*" if prefix else r"(?!\w)"))
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + ")", re.IGNORECASE)


def _compile_patterns(patterns: list[str], *, case_sensitive: bool = False) -> re.Pattern[str]:
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.compile("|".join(f"(?:{_apostrophes(p)})" for p in patterns), flags)


def _word_pattern(words: list[str]) -> re.Pattern[str] | None:
    """One pattern for a list of words; the shared lookbehind goes first, so the engine only
    tries the alternatives where a word starts."""
    parts = []
    for word in words:
        if word.startswith("re:"):
            parts.append(f"(?:{word[3:]})")
            continue
        prefix = word.endswith("*")
        core = re.escape(word[:-1] if prefix else word).replace("'", "'?")
        core = core.replace(r"\ ", r"\s+")
        parts.append(f"(?:{core}" + (r"\w*)" if prefix else r"(?!\w))"))
    return re.compile(r"(?<!\w)(?=\w)(?:" + "|".join(parts) + ")", re.IGNORECASE) if parts else None


def _claims(data: dict[str, Any]) -> tuple[Claim, ...]:
    shared: dict[str, list[str]] = data.get("terms", {})
    claims = []
    for raw in data.get("claim", []):
        action = raw.get("action", "label")
        if action not in ("label", "hold"):
            raise ValueError(f"claim {raw['id']}: action must be label or hold")
        conjunctions = tuple(
            tuple(term_group(group, shared) for group in conjunction)
            for conjunction in raw["match"]
        )
        claims.append(
            Claim(
                id=raw["id"],
                title=raw["title"],
                action=action,
                explanation=raw["explanation"],
                source_url=raw["source_url"],
                label=raw.get("label", ""),
                conjunctions=conjunctions,
                unless=compile_terms(raw["unless"], shared) if raw.get("unless") else None,
            )
        )
    return tuple(claims)


def _crisis(data: dict[str, Any]) -> tuple[tuple[CrisisRule, ...], re.Pattern[str] | None]:
    rules = tuple(
        CrisisRule(
            id=raw["id"],
            title=raw["title"],
            message=raw.get("message", ""),
            patterns=tuple(re.compile(_apostrophes(p)) for p in raw["patterns"]),
            figures=_compile_patterns(raw["figures_of_speech"])
            if raw.get("figures_of_speech")
            else None,
        )
        for raw in data.get("rule", [])
    )
    figures = data.get("figures_of_speech", {}).get("patterns", [])
    return rules, (_compile_patterns(figures) if figures else None)


def _phi(data: dict[str, Any]) -> tuple[tuple[PhiRule, ...], NameRule]:
    rules = tuple(
        PhiRule(
            id=raw["id"],
            title=raw["title"],
            what=raw["what"],
            patterns=tuple(
                re.compile(p, 0 if raw.get("case_sensitive") else re.IGNORECASE)
                for p in raw["patterns"]
            ),
            min_digits=raw.get("min_digits", 1 if raw["id"] != "email-address" else 0),
            ignore_local_parts=frozenset(raw.get("ignore_local_parts", [])),
            needs=raw.get("needs", "@" if raw["id"] == "email-address" else ""),
        )
        for raw in data.get("rule", [])
    )
    raw = data["name_with_diagnosis"]
    surname = r"(?P<last>[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?)"
    relations = "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in raw["relations"])
    names = NameRule(
        id=raw["id"],
        title=raw["title"],
        what=raw["what"],
        distance=raw.get("distance", 80),
        first_names=frozenset(raw["first_names"]),
        # Every pair of capitalised words, overlapping ("Dr Sarah Jones" gives two pairs).
        pairs=re.compile(rf"(?=\b(?P<first>[A-Z][a-z]+)\s+{surname}\b)"),
        related_names=re.compile(rf"(?i:\b(?:{relations}))\s+(?P<first>[A-Z][a-z]+)\s+{surname}\b"),
        titles=frozenset(raw["titles"]),
        not_surnames=frozenset(raw["not_surnames"]),
        diagnoses=compile_terms(raw["diagnoses"]),
    )
    return rules, names


def _watched(data: dict[str, Any]) -> tuple[WordList, ...]:
    lists = []
    for action in WATCHED_ACTIONS:
        raw = data.get(action, {})
        words = tuple(raw.get("words", []))
        lists.append(WordList(action, raw.get("message", ""), _word_pattern(list(words)), words))
    return tuple(lists)


def _links(data: dict[str, Any]) -> LinkRules:
    def domains(name: str) -> frozenset[str]:
        return frozenset(d.lower() for d in data.get(name, {}).get("domains", []))

    return LinkRules(
        blocked=domains("blocked"),
        blocked_message=data.get("blocked", {}).get("message", ""),
        approval=domains("require_approval"),
        approval_message=data.get("require_approval", {}).get("message", ""),
        trusted=domains("trusted"),
    )


def _trust(data: dict[str, Any]) -> TrustRules:
    flags = data.get("flags", {})
    return TrustRules(
        penalty_posts=data.get("penalty_posts", 10),
        levels=tuple(
            sorted(
                (
                    Level(
                        level=raw["level"],
                        name=raw.get("name", f"Level {raw['level']}"),
                        min_published_posts=raw.get("min_published_posts", 0),
                        min_days=raw.get("min_days", 0),
                        max_upheld_against=raw.get("max_upheld_against"),
                    )
                    for raw in data.get("level", [])
                ),
                key=lambda level: level.level,
            )
        ),
        limits={
            int(level): Limits(
                max_links=raw.get("max_links", 1000),
                max_images=raw.get("max_images", 1000),
                posts_per_day=raw.get("posts_per_day", 10_000),
                hold_first_posts=raw.get("hold_first_posts", 0),
            )
            for level, raw in data.get("limits", {"0": {}}).items()
        },
        flags=FlagRules(
            auto_hide_weight=float(flags.get("auto_hide_weight", 3.0)),
            level_weights=tuple(float(w) for w in flags.get("level_weights", [0.5, 1, 1.5, 2])),
            max_weight=float(flags.get("max_weight", 3.0)),
            min_weight=float(flags.get("min_weight", 0.1)),
            per_hour=int(flags.get("per_hour", 20)),
        ),
        helpful_per_post=max(1, int(data.get("helpful_per_post", 5))),
    )


def _resources(data: dict[str, Any]) -> Resources:
    return Resources(
        heading=data.get("heading", ""),
        message=data.get("message", ""),
        items=tuple(
            Resource(raw["name"], raw.get("contact", ""), raw.get("url", ""))
            for raw in data.get("resource", [])
        ),
    )


# Loading and merging -------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _merge_by_id(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {item["id"]: item for item in ours}
    for item in theirs:
        by_id[item["id"]] = item
    return list(by_id.values())


def _merge(name: str, ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """A deployment's file on top of ours: lists grow, entries with our ids replace ours."""
    if name == "crisis_resources":
        return theirs
    merged = dict(ours)
    for key, value in theirs.items():
        if key in ("claim", "rule") and isinstance(value, list):
            merged[key] = _merge_by_id(ours.get(key, []), value)
        elif isinstance(value, dict) and isinstance(ours.get(key), dict):
            inner = dict(ours[key])
            for inner_key, inner_value in value.items():
                if isinstance(inner_value, list) and isinstance(inner.get(inner_key), list):
                    inner[inner_key] = [*inner[inner_key], *inner_value]
                else:
                    inner[inner_key] = inner_value
            merged[key] = inner
        else:
            merged[key] = value
    return merged


def _parse(name: str, raw: bytes) -> dict[str, Any]:
    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"moderation rules: {name}.toml can't be read: {error}") from error


def _compile(overrides: tuple[tuple[str, bytes], ...]) -> RuleSet:
    extra = dict(overrides)
    data: dict[str, dict[str, Any]] = {}
    sources = []
    for name in FILES:
        data[name] = _read(RULES_DIR / f"{name}.toml")
        sources.append(f"moderation/rules/{name}.toml")
        if name in extra:
            data[name] = _merge(name, data[name], _parse(name, extra[name]))
            sources.append(f"<data dir>/moderation/{name}.toml")
    crisis, figures = _crisis(data["crisis"])
    phi, names = _phi(data["phi"])
    return RuleSet(
        claims=_claims(data["misinformation"]),
        crisis=crisis,
        crisis_figures=figures,
        phi=phi,
        names=names,
        watched=_watched(data["watched_words"]),
        links=_links(data["links"]),
        trust=_trust(data["trust"]),
        resources=_resources(data["crisis_resources"]),
        sources=tuple(sources),
    )


_COMPILED: dict[tuple[tuple[str, bytes], ...], RuleSet] = {}


@functools.lru_cache(maxsize=1)
def default_rules() -> RuleSet:
    """The built-in rules, compiled on first use."""
    return _compile(())


# Crisis resources an administrator set in the site's settings (forum.site_settings), by the
# rules folder of the deployment they belong to. They replace the files' resources.
_SITE_RESOURCES: dict[str, Resources] = {}
_WITH_SITE_RESOURCES: dict[tuple[int, Resources], tuple[RuleSet, RuleSet]] = {}


def set_site_resources(extra_dir: Path, resources: Resources | None) -> None:
    """Use these crisis resources for the deployment whose rules folder is `extra_dir`
    (None: back to the files'). Called by the process that loads the site's settings."""
    if resources is None or not resources.items:
        _SITE_RESOURCES.pop(str(extra_dir), None)
    else:
        _SITE_RESOURCES[str(extra_dir)] = resources


def load_rules(extra_dir: Path | None = None) -> RuleSet:
    """The built-in rules plus a deployment's files in `extra_dir`, if it has any, with the
    crisis resources its administrators set in the site's settings, if any.

    Compiled once per distinct content of those files, so an edited file takes effect on the
    next post without a restart; reading a few small files is all it costs per call."""
    rules = _load_files(extra_dir)
    site = _SITE_RESOURCES.get(str(extra_dir)) if extra_dir is not None else None
    if site is None:
        return rules
    key = (id(rules), site)
    cached = _WITH_SITE_RESOURCES.get(key)
    if cached is None or cached[0] is not rules:
        if len(_WITH_SITE_RESOURCES) >= 16:
            _WITH_SITE_RESOURCES.clear()
        cached = _WITH_SITE_RESOURCES[key] = (rules, replace(rules, resources=site))
    return cached[1]


def _load_files(extra_dir: Path | None) -> RuleSet:
    if extra_dir is None:
        return default_rules()
    overrides = []
    for name in FILES:
        try:
            overrides.append((name, (extra_dir / f"{name}.toml").read_bytes()))
        except (FileNotFoundError, NotADirectoryError):
            continue
    if not overrides:
        return default_rules()
    key = tuple(overrides)
    rules = _COMPILED.get(key)
    if rules is None:
        if len(_COMPILED) >= 16:
            _COMPILED.clear()
        rules = _COMPILED[key] = _compile(key)
    return rules
