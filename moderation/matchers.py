"""How each rule family finds its hits in a text. Pure functions over compiled rules.

Misinformation and crisis language are matched sentence by sentence in a lower-cased copy of
the text; personal information, watched words and links on the text as written.
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from moderation.rulebook import RuleSet, TermGroup

if TYPE_CHECKING:
    from moderation.screening import Hit, Standing

_SPACES = re.compile(r"[ \t\u00a0]+")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")
_WORDS = re.compile(r"\w{2,}")
_QUOTED_LINE = re.compile(r"^\s*>.*$", re.MULTILINE)

# Stance: a claim someone reports, questions, denies or debunks is not a claim they make.
_NEGATION = re.compile(
    r"\b(?:not|no|never|none|nothing|neither|nor|cannot|hardly|"
    r"(?:do|does|did|is|are|was|were|would|could|should|has|have|had|must|ai)n'?t|"
    r"can'?t|won'?t)\b"
)
_DEBUNK = re.compile(
    r"\b(?:myths?|debunk\w*|hoax\w*|false(?:ly)?|untrue|not true|misinformation|disinformation|"
    r"fake news|no (?:good |real |scientific )?(?:evidence|proof|studies)|not (?:proven|supported)|"
    r"unproven|scams?|quack\w*|snake oil|conspirac\w*|nonsense|rubbish|bogus|dangerous|danger|"
    r"disproven|discredited|retract\w*|lies|(?:the )?(?:idea|notion|belief|rumou?r|claims?) that|"
    r"rumou?rs?|fact[- ]?check\w*|oversimplif\w*|warn\w*|beware|be careful|careful|avoid|"
    r"stay away|please don'?t|explain\w* why|poison(?:ed|ing) (?:people|children|kids)|"
    r"hospitali[sz]ed|ended up in (?:a&e|the er|hospital|the hospital|icu)|nearly (?:killed|died)|"
    r"almost (?:killed|died))\b"
)
_REPORT = re.compile(
    r"\b(?:says?|said|saying|told (?:me|us|her|him)|tells (?:me|us)|keeps? (?:saying|telling|posting|sharing)|"
    r"heard|hearing|read (?:that|somewhere|online|a post|an article)|claims?|claimed|claiming|"
    r"according to|saw (?:a|an|this|that|some) (?:video|post|article|ad|advert|reel|tiktok)|posted|"
    r"posting|sharing|shared|(?:he|she|they|who) (?:thinks?|believes?)|insists?|swears?|convinced|going around|"
    r"circulating|people (?:say|think)|someone|somebody|influencers?|facebook|tiktok|youtube|"
    r"instagram|websites?|my (?:aunt|uncle|mum|mom|dad|mother|father|friend|neighbou?r|cousin|"
    r"sister|brother|grandma|grandmother|grandad|grandfather|coworker|colleague|in-laws?|"
    r"mother-in-law|father-in-law|boss))\b"
)
_ENDORSE = re.compile(
    r"\b(?:it works|works for me|worked for me|it worked|cured me|healed me|trust me|i swear by|"
    r"try it|give it a try|you should|you need to|you must|do your (?:own )?research|wake up|"
    r"they don'?t want you to know|big pharma|i stopped|i quit|i threw|i ditched|so true|"
    r"it'?s true|did you know|100%)\b"
)
_QUESTION_START = re.compile(
    r"^\W*(?:is it true|is it|is|are|does|do|did|can|could|should|would|will|has anyone|have you|"
    r"have any|anyone|any(?:one|body) (?:know|tried)|what do you (?:guys )?think|thoughts on|"
    r"opinions on|is there|are there|how (?:true|accurate)|wondering (?:if|whether))\b"
)
# Worry is not a claim: "I was scared the MMR would cause autism".
_WORRY = re.compile(
    r"\b(?:scared|worried|afraid|feared|fear|concerned|nervous|anxious|terrified|panicked|"
    r"wondered|wondering|unsure|not sure)\b"
)
_RHETORICAL = re.compile(
    r"\b(?:did you know|why (?:do|does|would|are|is|won'?t) (?:doctors|they|pharma|big pharma|nobody|no one))\b"
)

_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>()\[\]\"']+"
    # a bare domain with a path: t.me/group, pastebin.com/raw/x
    r"|(?<![\w.@/-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}/[^\s<>()\[\]\"']*",
    re.IGNORECASE,
)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|<img\b", re.IGNORECASE)


def normalize(text: str) -> str:
    """Lower case, straight quotes, single spaces; newlines kept as sentence breaks."""
    return _SPACES.sub(" ", text.translate(_QUOTES).lower())


def _sentences(text: str) -> list[str]:
    return [part.strip() for part in _SENTENCES.split(text) if part and part.strip()]


def _hit(**values: object) -> Hit:
    from moderation.screening import Hit

    return Hit(**values)  # type: ignore[arg-type]


# Crisis ----------------------------------------------------------------------------------------


def crisis(lowered: str, rules: RuleSet) -> list[Hit]:
    """Suicidal intent, self-harm and plans, direct or indirect; figures of speech dropped."""
    hits = []
    sentences: list[str] | None = None
    for rule in rules.crisis:
        found = None
        for pattern in rule.patterns:
            if not pattern.search(lowered):
                continue
            sentences = sentences if sentences is not None else _sentences(lowered)
            for sentence in sentences:
                match = pattern.search(sentence)
                if match is None:
                    continue
                if rules.crisis_figures and rules.crisis_figures.search(sentence):
                    continue
                if rule.figures and rule.figures.search(sentence):
                    continue
                found = match.group(0)
                break
            if found:
                break
        if found:
            hits.append(
                _hit(
                    family="crisis",
                    rule=rule.id,
                    title=rule.title,
                    message=(
                        f"{rule.message} You are not alone, and people can help right now: "
                        "see the support options shown with your post."
                    ).strip(),
                    action="escalate",
                    excerpt=found,
                    matches=(found,),
                )
            )
    return hits


# Misinformation ----------------------------------------------------------------------------


def _mask(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def stance_excludes(window: str, spans: list[tuple[int, int]]) -> bool:
    """True when the sentence denies, questions, reports or debunks the claim it mentions.

    A negation counts just before or among the claim's words ("baking soda doesn't cure
    cancer"), not after them ("…cures cancer, no need for surgery"). Reporting or worrying
    frames the claim only when it comes first ("my aunt says…", "I was scared that…")."""
    masked = _mask(window, spans)
    first = min(start for start, _ in spans)
    last = max(end for _, end in spans)
    before = " ".join(masked[:first].split()[-3:])
    if _NEGATION.search(f"{before} {masked[first:last]}"):
        return True
    if _DEBUNK.search(masked):
        return True
    rhetorical = _RHETORICAL.search(window)
    if not rhetorical and ("?" in window[first:] or _QUESTION_START.search(window)):
        return True
    framed = _REPORT.search(masked[:first]) or _WORRY.search(masked[:first])
    return bool(framed and not _ENDORSE.search(masked))


def _match_conjunction(groups: tuple[TermGroup, ...], window: str) -> list[tuple[int, int]] | None:
    """One match per group, as close together as possible (the words of one claim)."""
    found = []
    for group in groups:
        spans = [match.span() for match in group.pattern.finditer(window)]
        if not spans:
            return None
        found.append(spans)
    best: list[tuple[int, int]] | None = None
    for anchor in found[0]:
        chosen = [anchor]
        for spans in found[1:]:
            chosen.append(min(spans, key=lambda span: abs(span[0] - anchor[0])))
        width = max(end for _, end in chosen) - min(start for start, _ in chosen)
        if best is None or width < max(e for _, e in best) - min(s for s, _ in best):
            best = chosen
    return best


def misinformation(lowered: str, rules: RuleSet) -> list[Hit]:
    """Known false or dangerous claims, made (not reported, questioned or debunked)."""
    text = _QUOTED_LINE.sub("", lowered)  # quoting a post to answer it is not making its claim
    starts = {word[:3] for word in _WORDS.findall(text)}
    hits = []
    windows: list[str] | None = None

    def possible(group: TermGroup) -> bool:
        return group.prefixes is None or not starts.isdisjoint(group.prefixes)

    for claim in rules.claims:
        candidates = [
            groups
            for groups in claim.conjunctions
            if all(possible(group) for group in groups)  # set lookups before any regex
            and all(group.pattern.search(text) for group in groups)
        ]
        if not candidates:
            continue
        if windows is None:
            sentences = _sentences(text)
            windows = sentences + [f"{a} {b}" for a, b in itertools.pairwise(sentences)]
        excerpt = _find_claim(claim.unless, candidates, windows)
        if excerpt is None:
            continue
        hold = claim.action == "hold"
        hits.append(
            _hit(
                family="misinformation",
                rule=claim.id,
                title=claim.title,
                message=(
                    f"This repeats a claim that health bodies consider false or unsafe "
                    f"(“{claim.title}”), so "
                    + (
                        "a moderator will review it before others can see it."
                        if hold
                        else "it is shown with a note for readers and a moderator will review it."
                    )
                ),
                action=claim.action,
                excerpt=excerpt,
                matches=(excerpt,),
                explanation=claim.explanation,
                source_url=claim.source_url,
                label=claim.label,
            )
        )
    return hits


def _find_claim(
    unless: re.Pattern[str] | None,
    candidates: list[tuple[TermGroup, ...]],
    windows: list[str],
) -> str | None:
    for window in windows:
        if unless is not None and unless.search(window):
            continue
        for groups in candidates:
            spans = _match_conjunction(groups, window)
            if spans and not stance_excludes(window, spans):
                return window[:200]
    return None


# Personal information ----------------------------------------------------------------------


def _phi_matches(text: str, rules: RuleSet) -> list[tuple[str, str, str, int, int]]:
    """(rule id, title, what, start, end) of each personal detail found, in text order."""
    found = []
    digits = sum(text.count(digit) for digit in "0123456789")
    for rule in rules.phi:
        if digits < rule.min_digits or (rule.needs and rule.needs not in text):
            continue
        for pattern in rule.patterns:
            group = "value" if "value" in pattern.groupindex else 0
            for match in pattern.finditer(text):
                value = match.group(group)
                if rule.min_digits and sum(ch.isdigit() for ch in value) < rule.min_digits:
                    continue
                if (
                    rule.ignore_local_parts
                    and value.split("@")[0].lower() in rule.ignore_local_parts
                ):
                    continue
                found.append((rule.id, rule.title, rule.what, *match.span(group)))
    found += _names_with_diagnosis(text, rules)
    found.sort(key=lambda item: item[3])
    kept: list[tuple[str, str, str, int, int]] = []
    for item in found:  # overlapping matches (a phone number inside an address) count once
        if kept and item[3] < kept[-1][4]:
            continue
        kept.append(item)
    return kept


def _names_with_diagnosis(text: str, rules: RuleSet) -> list[tuple[str, str, str, int, int]]:
    rule = rules.names
    if not rule.diagnoses.search(text):
        return []
    found = []
    for pattern, known_first_names in ((rule.pairs, True), (rule.related_names, False)):
        for match in pattern.finditer(text):
            first, last = match.group("first"), match.group("last")
            if known_first_names and first not in rule.first_names:
                continue
            if last in rule.not_surnames or first in rule.not_surnames:
                continue
            start = match.start("first")
            preceding = text[max(0, start - 12) : start].split()
            if preceding and preceding[-1].rstrip(".") in {t.rstrip(".") for t in rule.titles}:
                continue
            left = max(text.rfind(mark, 0, start) for mark in ".!?\n")
            ends = [text.find(mark, match.end()) for mark in ".!?\n"]
            right = min([end for end in ends if end != -1] or [len(text)])
            sentence = text[left + 1 : right]
            offset = left + 1
            for diagnosis in rule.diagnoses.finditer(sentence):
                d_start = diagnosis.start() + offset
                if abs(d_start - start) <= rule.distance:
                    found.append((rule.id, rule.title, rule.what, start, match.end("last")))
                    break
    return found


def phi(text: str, rules: RuleSet) -> list[Hit]:
    """One hit per kind of personal detail, listing what was found so the author can see it."""
    by_rule: dict[str, list[tuple[str, str, str, int, int]]] = {}
    for item in _phi_matches(text, rules):
        by_rule.setdefault(item[0], []).append(item)
    hits = []
    for rule_id, items in by_rule.items():
        values = tuple(text[start:end] for _, _, _, start, end in items)
        _, title, what, _, _ = items[0]
        shown = ", ".join(f"“{value}”" for value in values[:3])
        hits.append(
            _hit(
                family="phi",
                rule=rule_id,
                title=title,
                message=(
                    f"It looks like this includes {what} ({shown}). Details like this can "
                    "identify you or someone else. You can remove it, or post anyway and a "
                    "moderator will review it before others see it."
                ),
                action="warn",
                excerpt=values[0],
                matches=values,
            )
        )
    return hits


def redact_phi(text: str, rules: RuleSet) -> str:
    pieces, position = [], 0
    for rule_id, _, _, start, end in _phi_matches(text, rules):
        pieces.append(text[position:start])
        pieces.append("[name removed]" if rule_id == rules.names.id else "[removed]")
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


# Watched words and links -------------------------------------------------------------------


def _censor(match: re.Match[str]) -> str:
    word = match.group(0)
    return word[0] + "*" * (len(word) - 1)


def watched_words(text: str, rules: RuleSet) -> tuple[list[Hit], str]:
    """Hits for block, require-approval and flag words; the text with censored words starred."""
    hits = []
    actions = {"block": "reject", "require_approval": "hold", "flag": "flag", "censor": "censor"}
    for words in rules.watched:
        if words.pattern is None:
            continue
        match = words.pattern.search(text)
        if match is None:
            continue
        if words.action == "censor":
            text = words.pattern.sub(_censor, text)
        word = match.group(0)
        hits.append(
            _hit(
                family="watched_word",
                rule=words.action,
                title=f"Watched word ({words.action.replace('_', ' ')})",
                message=words.message.format(word=word) if words.message else "",
                action=actions[words.action],
                excerpt=word,
                matches=(word,),
            )
        )
    return hits, text


def _domain(url: str) -> str:
    if not url.lower().startswith("http"):
        url = "http://" + url
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _listed(domain: str, listed: frozenset[str]) -> bool:
    return any(domain == entry or domain.endswith("." + entry) for entry in listed)


def links(text: str, rules: RuleSet) -> list[Hit]:
    """Blocked domains and link shorteners."""
    hits = []
    seen = set()
    for match in _URL.finditer(text):
        domain = _domain(match.group(0))
        if not domain or domain in seen:
            continue
        seen.add(domain)
        if _listed(domain, rules.links.blocked):
            action, rule, message = "reject", "blocked-domain", rules.links.blocked_message
        elif _listed(domain, rules.links.approval):
            action, rule, message = "hold", "link-shortener", rules.links.approval_message
        else:
            continue
        hits.append(
            _hit(
                family="link",
                rule=rule,
                title="Blocked link" if action == "reject" else "Link checked first",
                message=message.format(domain=domain),
                action=action,
                excerpt=domain,
                matches=(domain,),
            )
        )
    return hits


def count_links(text: str, rules: RuleSet) -> int:
    """Links in a post, not counting reputable health sources."""
    return sum(
        1
        for match in _URL.finditer(text)
        if not _listed(_domain(match.group(0)), rules.links.trusted)
    )


def trust_limits(text: str, author: Standing, rules: RuleSet) -> list[Hit]:
    """New members' limits: posts per day, links, images, and first posts held if configured."""
    limits = rules.trust.limits_for(author.trust_level)
    hits = []

    def add(rule: str, title: str, message: str, action: str) -> None:
        hits.append(_hit(family="trust", rule=rule, title=title, message=message, action=action))

    if author.posts_today >= limits.posts_per_day:
        add(
            "posts-per-day",
            "Daily post limit",
            f"New members can post {limits.posts_per_day} times a day, and you've reached that "
            "for today. Your text is kept; please post it again tomorrow.",
            "reject",
        )
    links_found = count_links(text, rules)
    if links_found > limits.max_links:
        add(
            "new-member-links",
            "Links from a new member",
            f"New members can share up to {limits.max_links} links in a post (links to NHS, CDC "
            "and other health sources don't count), so a moderator will check this one first.",
            "hold",
        )
    images = len(_IMAGE.findall(text))
    if images > limits.max_images:
        add(
            "new-member-images",
            "Images from a new member",
            "Images from new members are checked by a moderator first; your post will appear "
            "once approved.",
            "hold",
        )
    if author.published_posts < limits.hold_first_posts:
        add(
            "first-posts",
            "A new member's first posts",
            f"A moderator reads new members' first {limits.hold_first_posts} posts before they "
            "appear. Thank you for your patience; it usually takes a few hours.",
            "hold",
        )
    return hits
