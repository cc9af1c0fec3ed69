"""screen(draft) -> Verdict: what happens to a post, story or comment as it is written.

Pure and fast: no database, no files, no clock. The rules are data (moderation/rules/*.toml),
compiled once by moderation.rulebook; each family's matching lives in moderation.matchers.
A verdict is one of publish, label (published with a note readers see), hold (invisible to
others until a moderator approves), reject (nothing stored; the author keeps their text and is
told what to change) or escalate (published, crisis resources shown to the author at once, and
a priority item in the queue). Every verdict lists the rules that fired and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from moderation import matchers
from moderation.rulebook import Resource, RuleSet, default_rules

ACTIONS = ("publish", "label", "hold", "reject", "escalate")
FAMILIES = ("misinformation", "phi", "crisis", "watched_word", "link", "trust")
DEFAULT_LABEL = (
    "This post discusses a health claim that a moderator will review. "
    "Talk to your own clinician before changing any treatment."
)
# How urgent a queue item is; crisis first.
SEVERITY = {
    ("crisis", "escalate"): 100,
    ("misinformation", "hold"): 70,
    ("phi", "warn"): 60,
    ("misinformation", "label"): 50,
    ("watched_word", "flag"): 40,
    ("watched_word", "hold"): 30,
    ("watched_word", "reject"): 30,
    ("link", "hold"): 25,
    ("link", "reject"): 25,
    ("trust", "hold"): 10,
    ("trust", "reject"): 10,
}
_RANK = {"publish": 0, "label": 1, "hold": 2, "reject": 3}


@dataclass(frozen=True)
class Standing:
    """What screening knows of the author: their role, trust and recent activity."""

    role: str = "member"
    trust_level: int = 0
    account_age_days: float = 0.0
    posts_today: int = 0
    published_posts: int = 0
    moderates_here: bool = False

    @property
    def exempt_from_holds(self) -> bool:
        """Moderators (here or by role) and admins are never held."""
        return self.moderates_here or self.role in ("moderator", "admin")

    @property
    def exempt_from_limits(self) -> bool:
        """New-account limits don't apply to staff or to verified clinicians."""
        return self.exempt_from_holds or self.role == "clinician"


STAFF = Standing(role="admin", trust_level=4, moderates_here=True)


@dataclass(frozen=True)
class Draft:
    """What someone is about to post. `confirm_phi` is their "post anyway" after a warning."""

    text: str
    title: str = ""
    kind: str = "post"
    author: Standing = field(default_factory=Standing)
    confirm_phi: bool = False
    # A private message (forum.messages): personal details the sender confirms (or writes in
    # crisis) go to the people they chose as written, not to moderators.
    private: bool = False


@dataclass(frozen=True)
class Hit:
    """One rule that fired: which, why (for the author) and what it asks for."""

    family: str
    rule: str
    title: str
    message: str
    action: str  # label, hold, reject, escalate, warn (phi), flag, censor
    excerpt: str = ""
    matches: tuple[str, ...] = ()
    explanation: str = ""
    source_url: str = ""
    label: str = ""

    def as_json(self) -> dict[str, str]:
        """What the author and API clients see (API.md's reasons)."""
        return {"family": self.family, "rule": self.rule, "message": self.message}

    def for_moderators(self) -> dict[str, Any]:
        """Everything a moderator needs to judge the hit."""
        return {
            **self.as_json(),
            "title": self.title,
            "action": self.action,
            "excerpt": self.excerpt,
            "explanation": self.explanation,
            "source_url": self.source_url,
        }


@dataclass(frozen=True)
class Verdict:
    """What screening decided, the rules that fired, and what the author must see."""

    action: str
    hits: tuple[Hit, ...] = ()
    text: str = ""
    title: str = ""
    label: str | None = None
    resources: tuple[Resource, ...] = ()
    resources_heading: str = ""
    resources_message: str = ""
    review: bool = False
    severity: int = 0
    code: str = "ok"

    @property
    def stored(self) -> bool:
        return self.action != "reject"

    @property
    def held(self) -> bool:
        return self.action == "hold"

    @property
    def crisis(self) -> bool:
        return bool(self.resources)

    @property
    def phi_warning(self) -> bool:
        return self.code == "phi_warning"

    @property
    def message(self) -> str:
        """One sentence for the author: the most important reason, or an empty string."""
        for family in ("crisis", "phi", "watched_word", "link", "trust", "misinformation"):
            for hit in self.hits:
                if hit.family == family and hit.action != "censor":
                    return hit.message
        return ""

    def as_json(self) -> dict[str, Any]:
        """API.md's `moderation` object."""
        data: dict[str, Any] = {
            "action": self.action,
            "reasons": [hit.as_json() for hit in self.hits],
        }
        if self.label:
            data["label"] = self.label
        if self.resources:
            data["resources"] = [resource.as_json() for resource in self.resources]
        return data

    def for_moderators(self) -> list[dict[str, Any]]:
        return [hit.for_moderators() for hit in self.hits]


PUBLISH = Verdict(action="publish")


def screen(draft: Draft, rules: RuleSet | None = None) -> Verdict:
    """Screen a draft against every rule family; see the module docstring."""
    rules = rules or default_rules()
    title, text = draft.title or "", draft.text or ""
    combined = f"{title}\n\n{text}" if title else text
    lowered = matchers.normalize(combined)
    hits: list[Hit] = []
    hits += matchers.crisis(lowered, rules)
    hits += matchers.misinformation(lowered, rules)
    hits += (matchers.phi(title, rules) if title else []) + matchers.phi(text, rules)
    word_hits, censored_text = matchers.watched_words(text, rules)
    title_hits, censored_title = matchers.watched_words(title, rules) if title else ([], title)
    hits += _unique(title_hits + word_hits)
    hits += matchers.links(text, rules)
    if not draft.author.exempt_from_limits:
        hits += matchers.trust_limits(text, draft.author, rules)
    return _decide(draft, hits, censored_text, censored_title, rules)


def _unique(hits: list[Hit]) -> list[Hit]:
    seen: set[tuple[str, str, str]] = set()
    kept = []
    for hit in hits:
        key = (hit.family, hit.rule, hit.excerpt.lower())
        if key not in seen:
            seen.add(key)
            kept.append(hit)
    return kept


def _decide(draft: Draft, hits: list[Hit], text: str, title: str, rules: RuleSet) -> Verdict:
    crisis = any(hit.action == "escalate" for hit in hits)
    phi = any(hit.family == "phi" for hit in hits)
    base = "publish"
    for hit in hits:
        wanted = {"label": "label", "hold": "hold", "reject": "reject"}.get(hit.action, "publish")
        if _RANK[wanted] > _RANK[base]:
            base = wanted
    code = "rejected" if base == "reject" else "ok"
    if phi and base != "reject":
        if draft.private and (draft.confirm_phi or crisis):
            pass
        elif draft.confirm_phi or crisis:
            base = "hold" if _RANK["hold"] > _RANK[base] else base
        else:
            base, code = "reject", "phi_warning"
    if draft.author.exempt_from_holds and base == "hold":
        base = (
            "label"
            if any(h.action in ("label", "hold") for h in hits if h.family == "misinformation")
            else "publish"
        )
    if crisis and base == "reject":
        # Never block a person in crisis: keep the post (for moderators) and show help at once.
        base, code = "hold", "ok"
    action = "escalate" if crisis and base in ("publish", "label") else base
    labels = [hit.label for hit in hits if hit.family == "misinformation"]
    label = (labels[0] or DEFAULT_LABEL) if labels and action in ("label", "escalate") else None
    severity = max((SEVERITY.get((hit.family, hit.action), 10) for hit in hits), default=0)
    review = action in ("label", "hold", "escalate") or any(h.action == "flag" for h in hits)
    resources = rules.resources
    return Verdict(
        action=action,
        hits=tuple(hits),
        text=text,
        title=title,
        label=label,
        resources=resources.items if crisis else (),
        resources_heading=resources.heading if crisis else "",
        resources_message=resources.message if crisis else "",
        review=review and action != "reject",
        severity=severity,
        code=code,
    )


def redact_phi(text: str, rules: RuleSet | None = None) -> str:
    """The text with every personal detail screening would warn about replaced."""
    return matchers.redact_phi(text, rules or default_rules())
