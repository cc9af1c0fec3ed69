"""The one content pipeline: markdown source -> HTML -> bleach policy -> stored HTML.

The only module that imports bleach and the markdown renderer. Posts are sanitized once, on
write; the HTML records POLICY_VERSION so a stricter policy can re-render everything later.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import partial
from typing import Any

import bleach
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt

POLICY_VERSION = 1

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code",
        "pre", "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr",
        "th", "td",
    }
)  # fmt: skip
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"
_LANGUAGE_CLASS = re.compile(r"^language-[a-z0-9+#_-]{1,30}$")


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a":
        return name in ("href", "title", "rel")
    if tag == "img":
        return name in ("src", "alt", "title")
    if tag == "ol":
        return name == "start" and value.isdigit()
    if tag == "code":
        return name == "class" and bool(_LANGUAGE_CLASS.match(value))
    return False


def _set_rel(attrs: dict[Any, str], new: bool = False) -> dict[Any, str]:
    """Every link, written or linkified, is nofollow ugc noopener."""
    attrs[(None, "rel")] = LINK_REL
    return attrs


# Raw HTML in markdown is shown as text, never passed through: the allowlist below is a
# second wall, not the only one.
_markdown = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
# Headings start at h2 in posts: h1 belongs to the page.
_markdown.add_render_rule(
    "heading_open",
    lambda self, tokens, idx, options, env: f"<h{min(6, int(tokens[idx].tag[1]) + 1)}>",
)
_markdown.add_render_rule(
    "heading_close",
    lambda self, tokens, idx, options, env: f"</h{min(6, int(tokens[idx].tag[1]) + 1)}>\n",
)

_cleaner = bleach.Cleaner(
    tags=ALLOWED_TAGS,
    attributes=_allowed_attribute,
    protocols=ALLOWED_PROTOCOLS,
    strip=True,
    strip_comments=True,
    filters=[partial(LinkifyFilter, callbacks=[_set_rel], skip_tags={"pre", "code"})],
)
_text_cleaner = bleach.Cleaner(tags=set(), strip=True, strip_comments=True)


@dataclass(frozen=True)
class Rendered:
    """Sanitized HTML, safe to mark safe in a template, and the policy that made it."""

    html: str
    policy_version: int = POLICY_VERSION


def render(source: str) -> Rendered:
    """Markdown (CommonMark, tables, strikethrough) to HTML cleaned by the one policy."""
    return Rendered(_cleaner.clean(_markdown.render(source)).strip())


def sanitize(html: str) -> str:
    """Clean HTML from elsewhere (for example a search highlighter) by the same policy."""
    return _cleaner.clean(html)


def to_text(source: str) -> str:
    """The words of a markdown text without markup, for search, feeds and previews."""
    text = _text_cleaner.clean(_markdown.render(source))
    # bleach leaves entities escaped; a plain-text consumer wants the characters.
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


_MENTION = re.compile(r"(?<![\w@/.+-])@([a-z0-9][a-z0-9_-]{2,31})(?![\w@-])", re.IGNORECASE)
MAX_MENTIONS = 20


def mentions(source: str) -> list[str]:
    """The usernames a markdown text mentions as @username, lowercased, in order, at most
    MAX_MENTIONS; never from code spans or code blocks, where @ means something else."""
    found: dict[str, None] = {}
    for block in _markdown.parse(source):
        for token in block.children or ():
            if token.type != "text":
                continue
            for match in _MENTION.finditer(token.content):
                found.setdefault(match.group(1).lower(), None)
    return list(found)[:MAX_MENTIONS]


def excerpt(source: str, length: int = 200) -> str:
    """A plain-text preview of at most `length` characters, cut at a word."""
    text = to_text(source)
    if len(text) <= length:
        return text
    return text[:length].rsplit(" ", 1)[0].rstrip(",.;:") + "…"
