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
from urllib.parse import urlsplit

import bleach
from bleach.html5lib_shim import Filter
from bleach.linkifier import LinkifyFilter
from markdown_it import MarkdownIt

# 2: images from other sites became links (_ImagesAsLinks); `kindred rerender` brings stored
# HTML of an older policy up to date.
POLICY_VERSION = 2

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


# An image served by this site itself: a path from its root, never "//host" or "/\\host",
# which browsers read as another host.
_OWN_IMAGE = re.compile(r"^/(?![/\\])[^\\]*$")


class _ImagesAsLinks(Filter):
    """An image from another site becomes a link to it.

    A page that loads an image from elsewhere tells that site the reader's address and when
    they read, which in a community about a health condition says too much; a tracking pixel
    is an image too. Readers who want the picture follow the link, by choice. The
    Content-Security-Policy (img-src 'self') stops HTML stored before this policy too."""

    def __iter__(self) -> Any:
        in_link = 0
        for token in super().__iter__():
            if token.get("name") == "a" and token["type"] in ("StartTag", "EndTag"):
                in_link += 1 if token["type"] == "StartTag" else -1
            elif token["type"] in ("StartTag", "EmptyTag") and token["name"] == "img":
                src = token["data"].get((None, "src"), "")
                if not _OWN_IMAGE.match(src):
                    yield from self._replacement(src, token["data"].get((None, "alt"), ""), in_link)
                    continue
            yield token

    @staticmethod
    def _replacement(src: str, alt: str, in_link: int) -> Any:
        """A link to the image, or only its words inside a link (or with no address left)."""
        alt = alt.strip()
        if not src:
            if alt:
                yield {"type": "Characters", "data": f"Image: {alt}"}
            return
        host = urlsplit(src).hostname or "another site"
        words = f"Image: {alt} ({host})" if alt else f"Image on {host}"
        if in_link:
            yield {"type": "Characters", "data": words}
            return
        yield {"type": "StartTag", "name": "a", "data": {(None, "href"): src}}
        yield {"type": "Characters", "data": words}
        yield {"type": "EndTag", "name": "a"}


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
    filters=[
        _ImagesAsLinks,
        partial(LinkifyFilter, callbacks=[_set_rel], skip_tags={"pre", "code"}),
    ],
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
