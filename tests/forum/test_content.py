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


def test_an_image_from_another_site_becomes_a_link_readers_choose_to_follow():
    html = content.render("![My garden](https://example.org/garden.jpg)").html
    assert "<img" not in html
    assert (
        '<a href="https://example.org/garden.jpg" rel="nofollow ugc noopener">'
        "Image: My garden (example.org)</a>"
    ) in html


@pytest.mark.parametrize(
    "source",
    [
        "![](http://tracker.example/pixel.gif)",
        "![x](//tracker.example/pixel.gif)",
        "![x](https://tracker.example/pixel.gif 'a title')",
        "text ![x](https://tracker.example/a.png) more ![y](https://tracker.example/b.png)",
    ],
)
def test_no_image_from_another_site_is_loaded_by_a_reader(source):
    html = content.render(source).html
    assert "<img" not in html
    assert "tracker.example" in html  # the address is kept, as a link


def test_an_image_inside_a_link_leaves_only_words_in_that_link():
    html = content.render("[![a chart](https://e.org/a.png)](https://e.org/report)").html
    assert html == (
        '<p><a href="https://e.org/report" rel="nofollow ugc noopener">Image: a chart (e.org)</a></p>'
    )


def test_an_image_served_by_the_site_itself_is_shown():
    html = content.render("![Kindred](/static/favicon.svg)").html
    assert '<img src="/static/favicon.svg" alt="Kindred">' in html


def test_an_image_whose_address_was_refused_keeps_its_words():
    assert content.render("![x-ray](data:image/png;base64,AAAA)").html == "<p>Image: x-ray</p>"


def test_the_policy_version_is_recorded():
    assert content.render("hi").policy_version == content.POLICY_VERSION


def test_plain_text_and_excerpts_drop_markup():
    assert content.to_text("**Hello** <b>there</b> &amp; you") == "Hello <b>there</b> & you"
    assert content.excerpt("word " * 100, 30).endswith("…")
    assert len(content.excerpt("word " * 100, 30)) <= 31
