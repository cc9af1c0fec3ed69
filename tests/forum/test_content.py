"""The content pipeline: markdown in, HTML out that can carry no script, whatever was typed."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from forum import content

# Each of these must come out with no way to run script: no tags or attributes outside the
# allowlist, no javascript:/data:/vbscript: URLs, no event handlers.
XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<a href=javascript:alert(1)>x</a>",
    "<body onload=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<template><img src=x onerror=alert(1)></template>",
    "<style>@import 'javascript:alert(1)';</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click](&#106;avascript:alert(1))",
    "[click](javascript&colon;alert(1))",
    "[click](vbscript:msgbox(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    "![img](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    '![x" onerror="alert(1)](https://example.org/a.png)',
    '[x](https://example.org "title\\" onmouseover=alert(1) x=\\"")',
    "[ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    '<http://example.org/" onmouseover="alert(1)>',
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    '<a href="http://example.org" onclick="alert(1)">x</a>',
    "<form action=javascript:alert(1)><button>x</button></form>",
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    '<meta http-equiv=refresh content="0;url=javascript:alert(1)">',
    "<base href=javascript:alert(1)//>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<!--<img src=x onerror=alert(1)>-->",
    "{{ 7*7 }} {% raw %}{{ config }}{% endraw %}",
    '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1)">x</a>',
]

SAFE_ATTRIBUTES = {"href", "src", "alt", "title", "rel", "start", "class"}


class Collector(HTMLParser):
    """Every tag and attribute a browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_payload_survives_as_markup_that_runs(payload):
    parsed = Collector()
    parsed.feed(content.render(payload).html)
    assert parsed.tags <= content.ALLOWED_TAGS, parsed.tags - content.ALLOWED_TAGS
    for name, value in parsed.attributes:
        assert name in SAFE_ATTRIBUTES, name
        if name in ("href", "src"):
            scheme = re.match(r"^\s*([a-z][a-z0-9+.-]*):", value.lower())
            assert scheme is None or scheme.group(1) in ("http", "https", "mailto"), value


def test_links_are_marked_nofollow_ugc_noopener():
    html = content.render(
        "See [the guide](https://example.org/guide) and https://example.org/other"
    ).html
    assert html.count('rel="nofollow ugc noopener"') == 2


def test_markdown_features_people_use_survive():
    html = content.render(
        "## Tips\n\n1. **Bold** and *italic*\n2. `code`\n\n> a quote\n\n~~gone~~"
    ).html
    for piece in (
        "<h3>Tips</h3>",
        "<ol>",
        "<strong>Bold</strong>",
        "<em>italic</em>",
        "<code>code</code>",
        "<blockquote>",
        "<s>gone</s>",
    ):
        assert piece in html


def test_images_by_https_url_are_kept_with_their_alt_text():
    html = content.render("![My garden](https://example.org/garden.jpg)").html
    assert '<img src="https://example.org/garden.jpg" alt="My garden">' in html


def test_the_policy_version_is_recorded():
    assert content.render("hi").policy_version == content.POLICY_VERSION


def test_plain_text_and_excerpts_drop_markup():
    assert content.to_text("**Hello** <b>there</b> &amp; you") == "Hello <b>there</b> & you"
    assert content.excerpt("word " * 100, 30).endswith("…")
    assert len(content.excerpt("word " * 100, 30)) <= 31
