"""Hostile text for the XSS tests: script, HTML-injection and template-injection vectors.

Every vector that could run calls a sink the browser test watches, tagged with the vector's
number so a failure names the vector: `__xss(N)`, `alert(N)`/`confirm(N)`/`prompt(N)`/
`print(N)`, `eval`/`Function`/`setTimeout` with a string, `document.title = 'pwnedN'`, or a
navigation to `//xss.invalid/N`. Vectors that only run on a click (javascript: links, forms)
are caught by the DOM checks instead. Template-injection probes compute numbers that appear
nowhere else (TEMPLATE_RESULTS), so a page that evaluated one is caught by its text.

Written for Kindred: the markdown (CommonMark) pipeline, bleach's allowlist, Jinja2's
autoescape in text and attribute contexts, the Atom feeds and the search snippets. At the end,
`policy_problems` checks a fragment of HTML against the content policy, for both the unit
tests (tests/forum/test_xss_corpus.py) and the browser tests (tests/e2e/test_xss.py).
"""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from typing import NamedTuple

from forum.content import ALLOWED_TAGS


class Vector(NamedTuple):
    """One hostile input: `id` is "<category>-<number>", the number the sinks report."""

    id: str
    category: str
    payload: str

    @property
    def number(self) -> int:
        return int(self.id.rsplit("-", 1)[1])


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# The number in each payload: replaced by the vector's own number when the corpus is built.
ID = "XSSID"

_RAW: list[tuple[str, list[str]]] = [
    # Script elements: case, attributes, odd separators, nesting meant to survive one pass of
    # stripping, and encodings a second decoding would turn into a live tag.
    (
        "script",
        [
            "<script>__xss(XSSID)</script>",
            "<SCRIPT>__xss(XSSID)</SCRIPT>",
            "<ScRiPt>alert(XSSID)</sCrIpT>",
            "<script/x>__xss(XSSID)</script>",
            "<script\n>__xss(XSSID)</script\n>",
            '<script type="module">__xss(XSSID)</script>',
            '<script x=">">__xss(XSSID)</script>',
            "<script src=data:,__xss(XSSID)></script>",
            "<script>eval('__xss(XSSID)')</script>",
            "<script>setTimeout('__xss(XSSID)')</script>",
            "<script>Function('__xss(XSSID)')()</script>",
            "<script>document.title='pwnedXSSID'</script>",
            "<script>location='//xss.invalid/XSSID'</script>",
            "<script>print(XSSID)</script>",
            "<scr<script>ipt>__xss(XSSID)</scr</script>ipt>",
            "<<script>__xss(XSSID);//<</script>",
            "&lt;script&gt;__xss(XSSID)&lt;/script&gt;",
            "&amp;lt;script&amp;gt;__xss(XSSID)&amp;lt;/script&amp;gt;",
            "%3Cscript%3E__xss(XSSID)%3C%2Fscript%3E",
            "\\u003cscript\\u003e__xss(XSSID)\\u003c/script\\u003e",
            "+ADw-script+AD4-__xss(XSSID)+ADw-/script+AD4-",
            "<scr\x00ipt>__xss(XSSID)</scr\x00ipt>",
            "<\u017fcript>__xss(XSSID)</\u017fcript>",
            "</script><script>__xss(XSSID)</script>",
        ],
    ),
    # Event-handler attributes on elements that fire without a click (load, error, focus,
    # toggle, animation), in odd spellings: case, slashes for spaces, entities, unclosed tags.
    (
        "event_handler",
        [
            "<img src=x onerror=__xss(XSSID)>",
            '<img src="x" onerror="__xss(XSSID)">',
            "<img/src=x/onerror=__xss(XSSID)>",
            "<IMG SRC=x OnErRoR=__xss(XSSID)>",
            "<img src=x onerror=&#95;&#95;xss(XSSID)>",
            "<img src=x onerror=\\u005f_xss(XSSID)>",
            "<img src=x onerror=top['al'+'ert'](XSSID)>",
            "<img src=x onerror  =  'confirm(XSSID)'>",
            "<img src=x onerror=__xss(XSSID)",
            "<image src=x onerror=__xss(XSSID)>",
            "<body onload=__xss(XSSID)>",
            "<body onpageshow=prompt(XSSID)>",
            "<input autofocus onfocus=__xss(XSSID)>",
            "<select autofocus onfocus=__xss(XSSID)></select>",
            "<textarea autofocus onfocus=__xss(XSSID)></textarea>",
            "<details open ontoggle=__xss(XSSID)><summary>x</summary></details>",
            "<video><source onerror=__xss(XSSID)></video>",
            "<audio src=x onerror=__xss(XSSID)>",
            "<input type=image src=x onerror=__xss(XSSID)>",
            '<div style="animation:x 1s" onanimationstart=__xss(XSSID)>x</div>',
            "<marquee onstart=__xss(XSSID)>x</marquee>",
            "<p onmouseover=__xss(XSSID)>hover me</p>",
            "<a href=# onclick=__xss(XSSID)>click me</a>",
            "<img src=x onerror=eval(atob('" + _b64("__xss(XSSID)") + "'))>",
            "<img src=x onerror=__xss(XSSID) onerror=x>",
            "<object data=x onerror=__xss(XSSID)></object>",
            "<style onload=__xss(XSSID)></style>",
        ],
    ),
    # javascript:, data: and vbscript: URLs in HTML attributes, hidden by case, entities,
    # leading controls and spaces, tabs and newlines inside the scheme, and comment tricks.
    (
        "url_scheme",
        [
            '<a href="javascript:__xss(XSSID)">x</a>',
            '<a href="JaVaScRiPt:__xss(XSSID)">x</a>',
            '<a href=" javascript:__xss(XSSID)">x</a>',
            '<a href="&#106;avascript:__xss(XSSID)">x</a>',
            '<a href="&#x6A;avascript:__xss(XSSID)">x</a>',
            '<a href="&#0000106&#0000097vascript:__xss(XSSID)">x</a>',
            '<a href="java&#9;script:__xss(XSSID)">x</a>',
            '<a href="java&#10;script:__xss(XSSID)">x</a>',
            '<a href="jav&#x0D;ascript:__xss(XSSID)">x</a>',
            '<a href="&#1;javascript:__xss(XSSID)">x</a>',
            '<a href="javascript&colon;__xss(XSSID)">x</a>',
            '<a href="javascript&#58;__xss(XSSID)">x</a>',
            '<a href="javascript://%0A__xss(XSSID)">x</a>',
            '<a href="vbscript:msgbox(XSSID)">x</a>',
            '<a href="VBScript:__xss(XSSID)">x</a>',
            '<a href="data:text/html;base64,'
            + _b64("<script>parent.__xss(XSSID)</script>")
            + '">x</a>',
            '<a href="data:text/html,<script>parent.__xss(XSSID)</script>">x</a>',
            '<a href="livescript:__xss(XSSID)">x</a>',
            '<iframe src="javascript:parent.__xss(XSSID)"></iframe>',
            '<form action="javascript:__xss(XSSID)"><button>go</button></form>',
            '<form><button formaction="javascript:__xss(XSSID)">go</button></form>',
            '<object data="javascript:__xss(XSSID)"></object>',
            '<embed src="javascript:__xss(XSSID)">',
            '<iframe srcdoc="<img src=x onerror=parent.__xss(XSSID)>"></iframe>',
            '<meta http-equiv="refresh" content="0;url=javascript:__xss(XSSID)">',
            '<base href="javascript:__xss(XSSID)//">',
            '<video poster="javascript:__xss(XSSID)"></video>',
        ],
    ),
    # SVG: its own script element, animation events, xlink:href, animate/set rewriting an
    # href after sanitizing, foreignObject back into HTML.
    (
        "svg",
        [
            "<svg onload=__xss(XSSID)>",
            "<svg/onload=__xss(XSSID)//",
            "<svg><script>__xss(XSSID)</script></svg>",
            "<svg><script href=data:,__xss(XSSID) /></svg>",
            '<svg><a xlink:href="javascript:__xss(XSSID)"><text y=20>x</text></a></svg>',
            '<svg><a><set attributeName=href to="javascript:__xss(XSSID)"/><text y=20>x</text></a></svg>',
            '<svg><a><animate attributeName=href values="javascript:__xss(XSSID)"/><text y=20>x</text></a></svg>',
            "<svg><animate onbegin=__xss(XSSID) attributeName=x dur=1s>",
            "<svg><discard onbegin=__xss(XSSID)>",
            "<svg><image href=x onerror=__xss(XSSID)></svg>",
            '<svg><foreignObject><iframe srcdoc="<script>parent.__xss(XSSID)</script>"></iframe></foreignObject></svg>',
            '<svg><use href="data:image/svg+xml;base64,'
            + _b64(
                '<svg id="x" xmlns="http://www.w3.org/2000/svg"><image href="x" onerror="__xss(XSSID)"/></svg>'
            )
            + '#x"/></svg>',
            "<svg><desc><![CDATA[</desc><script>__xss(XSSID)</script>]]></svg>",
            '<svg><title><a id="</title><img src=x onerror=__xss(XSSID)>"></svg>',
        ],
    ),
    # MathML: links on math elements, HTML islands (mtext, annotation-xml) and the namespace
    # confusion used against sanitizers.
    (
        "mathml",
        [
            '<math><maction actiontype="statusline" xlink:href="javascript:__xss(XSSID)">x</maction></math>',
            '<math href="javascript:__xss(XSSID)"><mi>x</mi></math>',
            '<math><mi xlink:href="javascript:__xss(XSSID)">x</mi></math>',
            "<math><mtext><img src=x onerror=__xss(XSSID)></mtext></math>",
            '<math><annotation-xml encoding="text/html"><img src=x onerror=__xss(XSSID)></annotation-xml></math>',
            '<math><semantics><annotation-xml encoding="application/xhtml+xml"><script>__xss(XSSID)</script></annotation-xml></semantics></math>',
            "<math><style><img src=x onerror=__xss(XSSID)></style></math>",
            '<math><a xlink:href="javascript:__xss(XSSID)">x</a></math>',
            '<math><mtext><table><mglyph><style><!--</style><img title="--&gt;&lt;img src=1 onerror=__xss(XSSID)&gt;">',
        ],
    ),
    # Mutation XSS: markup that parses safely once, then changes meaning when serialized and
    # parsed again (noscript, template, style, textarea, comments, CDATA, foreign content).
    (
        "mutation",
        [
            '<noscript><p title="</noscript><img src=x onerror=__xss(XSSID)>"></noscript>',
            "<template><style></template><img src=x onerror=__xss(XSSID)></style></template>",
            "<svg><style><img src=x onerror=__xss(XSSID)></style></svg>",
            '<svg></p><style><a id="</style><img src=1 onerror=__xss(XSSID)>">',
            "<style><style/><img src=x onerror=__xss(XSSID)>",
            "<textarea></textarea><img src=x onerror=__xss(XSSID)>",
            '<textarea><img title="</textarea><img src=x onerror=__xss(XSSID)>"></textarea>',
            '<title><img title="</title><img src=x onerror=__xss(XSSID)>"></title>',
            "<!--><img src=x onerror=__xss(XSSID)>-->",
            "<!-- --!><img src=x onerror=__xss(XSSID)>-->",
            "<![CDATA[><img src=x onerror=__xss(XSSID)>]]>",
            '<noembed><img title="</noembed><img src=x onerror=__xss(XSSID)>"></noembed>',
            '<noframes><p title="</noframes><img src=x onerror=__xss(XSSID)>"></noframes>',
            '<xmp><p title="</xmp><img src=x onerror=__xss(XSSID)>"></xmp>',
            '<iframe><p title="</iframe><img src=x onerror=__xss(XSSID)>"></iframe>',
            "<form><math><mtext></form><form><mglyph><style></math><img src onerror=__xss(XSSID)>",
            '<math><mi><mglyph><svg><mtext><textarea><path id="</textarea><img onerror=__xss(XSSID) src=1>">',
            '<svg><foreignObject><p><style><p title="</style><img src=x onerror=__xss(XSSID)>"></style></p></foreignObject></svg>',
            "<select><template><style><img src=x onerror=__xss(XSSID)></style></template></select>",
            "<table><td><svg><style><img src=x onerror=__xss(XSSID)></style></svg></td></table>",
            '<a href="</noscript><img src=x onerror=__xss(XSSID)>">x</a>',
            '<plaintext><p title="</plaintext><img src=x onerror=__xss(XSSID)>">',
        ],
    ),
    # Markdown inline links: bad schemes through entities, backslash escapes, angle-bracket
    # destinations and case; quotes and HTML meant to break out of href, title or link text.
    (
        "markdown_link",
        [
            "[click me](javascript:__xss(XSSID))",
            "[click me](JaVaScRiPt:__xss(XSSID))",
            "[click me](<javascript:__xss(XSSID)>)",
            "[click me](javascript&#58;__xss(XSSID))",
            "[click me](&#x6A;avascript:__xss(XSSID))",
            "[click me](javascript\\:__xss(XSSID))",
            "[click me](javascript&colon;__xss(XSSID))",
            "[click me](  vbscript:msgbox(XSSID)  )",
            "[click me](data:text/html;base64," + _b64("<script>__xss(XSSID)</script>") + ")",
            "[click me](<data:text/html,<script>__xss(XSSID)</script>>)",
            '[click me](javascript:__xss(XSSID) "a title")',
            "[click me](javascript://example.org/%0A__xss(XSSID))",
            '[click me](https://example.org/" onmouseover="__xss(XSSID))',
            "[click me](https://example.org/'onmouseover='__xss(XSSID))",
            '[click me](https://example.org/ "x\\" onmouseover=\\"__xss(XSSID)")',
            '[click me" onmouseover="__xss(XSSID)](https://example.org/)',
            "[<img src=x onerror=__xss(XSSID)>](https://example.org/)",
            "[click me](https://example.org/<script>__xss(XSSID)</script>)",
        ],
    ),
    # Markdown images: script in src and alt, svg and html data: URLs, quotes breaking out of
    # src, alt or title into an onerror handler.
    (
        "markdown_image",
        [
            "![pic](javascript:__xss(XSSID))",
            '![pic" onerror="__xss(XSSID)](https://img.invalid/a.png)',
            '![pic](x" onerror="__xss(XSSID))',
            '![pic](x "t\\" onerror=\\"__xss(XSSID)")',
            "![pic](data:image/svg+xml;base64,"
            + _b64('<svg xmlns="http://www.w3.org/2000/svg" onload="__xss(XSSID)"/>')
            + ")",
            "![pic](data:image/png;base64,iVBORw0KGgo=)",
            "![pic](<data:text/html,<script>__xss(XSSID)</script>>)",
            "![<img src=x onerror=__xss(XSSID)>](https://img.invalid/b.png)",
            '![pic](https://img.invalid/c.png"onerror="__xss(XSSID))',
            "[![pic](https://img.invalid/d.png)](javascript:__xss(XSSID))",
            "![pic](vbscript:msgbox(XSSID))",
        ],
    ),
    # Reference-style links and images: the destination or title lives in a definition, where
    # a bad scheme or a quote could slip past checks made on inline links.
    (
        "reference_link",
        [
            "[click me][rXSSID]\n\n[rXSSID]: javascript:__xss(XSSID)",
            '[click me][rXSSID]\n\n[rXSSID]: <javascript:__xss(XSSID)> "a title"',
            "![pic][rXSSID]\n\n[rXSSID]: javascript:__xss(XSSID)",
            "[rXSSID]\n\n[rXSSID]: JAVASCRIPT:__xss(XSSID)",
            "[click me][RXSSID]\n\n[rXSSID]: &#106;avascript:__xss(XSSID)",
            '[click me][rXSSID]\n\n[rXSSID]: https://example.org/ "x" onclick="__xss(XSSID)"',
            "[click me][rXSSID]\n\n[rXSSID]: https://example.org/ 'x\\' onclick=\\'__xss(XSSID)'",
            "[click me][rXSSID]\n\n[rXSSID]: data:text/html;base64,"
            + _b64("<script>__xss(XSSID)</script>"),
            "[click me][rXSSID]\n\n[rXSSID]:\n  vbscript:msgbox(XSSID)",
            "[<svg onload=__xss(XSSID)>][rXSSID]\n\n[rXSSID]: https://example.org/",
        ],
    ),
    # Autolinks (<scheme:...>) and bare URLs the linkifier turns into links.
    (
        "autolink",
        [
            "<javascript:__xss(XSSID)>",
            "<JAVASCRIPT:__xss(XSSID)>",
            "<vbscript:msgbox(XSSID)>",
            "<data:text/html;base64," + _b64("<script>__xss(XSSID)</script>") + ">",
            "<javascript:__xss(XSSID)//https://example.org/>",
            '<https://example.org/"onmouseover="__xss(XSSID)>',
            '<mailto:info@example.org?subject="><img src=x onerror=__xss(XSSID)>>',
            "javascript:__xss(XSSID)",
            'www.example.org/"onmouseover="__xss(XSSID)',
            "https://example.org/<img src=x onerror=__xss(XSSID)>",
            "https://example.org/?q=&quot;onclick=__xss(XSSID)",
            "https://example.org/`onmouseover=__xss(XSSID)`",
        ],
    ),
    # Breaking out of an attribute or a raw-text element the text might land in: the short
    # fields (display names, titles, notes, queries) are written into value=, title= and
    # <title>, and a textarea when a form comes back with an error.
    (
        "attribute_breakout",
        [
            '"><img src=x onerror=__xss(XSSID)>',
            "'><svg onload=__xss(XSSID)>",
            '" autofocus onfocus="__xss(XSSID)',
            "' autofocus onfocus='__xss(XSSID)",
            "` onmouseover=__xss(XSSID) `",
            '"onmouseover="__xss(XSSID)" x="',
            '" style="animation:x 1s" onanimationstart="__xss(XSSID)',
            "</title><script>__xss(XSSID)</script>",
            "</textarea><script>__xss(XSSID)</script>",
            "</noscript><img src=x onerror=__xss(XSSID)>",
            "</style><img src=x onerror=__xss(XSSID)>",
            "&quot; onfocus=&quot;__xss(XSSID)",
            "&#34;><img src=x onerror=__xss(XSSID)>",
            '\\"><img src=x onerror=__xss(XSSID)>',
            "';__xss(XSSID);//",
            '";__xss(XSSID);//',
            'x" href="javascript:__xss(XSSID)',
            "/><img src=x onerror=__xss(XSSID)//",
            '"><a href="javascript:__xss(XSSID)">x</a>',
            "-->&lt;img src=x onerror=__xss(XSSID)&gt;<!--",
        ],
    ),
    # CSS: script through url(), expression() and bindings, and <style>/<link> loading more.
    (
        "css",
        [
            '<div style="background:url(javascript:__xss(XSSID))">x</div>',
            '<div style="width:expression(__xss(XSSID))">x</div>',
            '<div style="-moz-binding:url(//xss.invalid/XSSID#x)">x</div>',
            '<style>@import url("//xss.invalid/XSSID.css");</style>',
            '<style>body{background:url("javascript:__xss(XSSID)")}</style>',
            '<link rel="stylesheet" href="//xss.invalid/XSSID.css">',
        ],
    ),
    # Template injection: syntax of Jinja2, JavaScript template strings, Ruby, ERB, AngularJS,
    # Thymeleaf and friends. Each must show as typed; TEMPLATE_RESULTS holds what evaluation
    # would print instead.
    (
        "template_injection",
        [
            "{{7*7}}",
            "{% raw %}",
            "${7*7}",
            "#{7*7}",
            "{{ 31337*23 }}",
            "{{7*'7'}}",
            "${31337*5}",
            "#{31337*7}",
            "<%= 31337*9 %>",
            "{%print(31337*11)%}",
            "*{31337*13}",
            "[[31337*17]]",
            "@(31337*19)",
            "{{config.items()}}",
            "{{ self.__init__.__globals__ }}",
            "{{''.__class__.__mro__[1].__subclasses__()}}",
            "{{constructor.constructor('__xss(XSSID)')()}}",
            "{{$on.constructor('__xss(XSSID)')()}}",
            "{% endraw %}{{ 31337*29 }}",
            "{# not a comment #}",
            "${{31337*31}}",
        ],
    ),
]

# What a template engine would print for the probes above: must appear on no page.
TEMPLATE_RESULTS = (
    "720751",  # 31337*23
    "7777777",  # 7*'7' in Jinja2
    "156685",  # 31337*5
    "219359",  # 31337*7
    "282033",  # 31337*9
    "344707",  # 31337*11
    "407381",  # 31337*13
    "532729",  # 31337*17
    "595403",  # 31337*19
    "908773",  # 31337*29
    "971447",  # 31337*31
    "dict_items(",
    "<class ",
)


def _build() -> list[Vector]:
    vectors: list[Vector] = []
    for category, payloads in _RAW:
        for payload in payloads:
            number = len(vectors) + 1
            vectors.append(
                Vector(f"{category}-{number}", category, payload.replace(ID, str(number)))
            )
    return vectors


VECTORS: list[Vector] = _build()
CATEGORIES: tuple[str, ...] = tuple(category for category, _ in _RAW)
BY_NUMBER: dict[int, Vector] = {vector.number: vector for vector in VECTORS}
TEMPLATE_PROBES: list[Vector] = [v for v in VECTORS if v.category == "template_injection"]


def representative(max_length: int, count: int, offset: int = 0) -> list[Vector]:
    """Up to `count` vectors that fit in `max_length` characters, taken from every category in
    turn, for short fields that hold one vector each (titles, names, notes, queries). Fields
    given different offsets start each category at a different vector, so that between them
    they use more of the corpus."""
    pools = []
    for category in CATEGORIES:
        pool = [v for v in VECTORS if v.category == category and len(v.payload) <= max_length]
        start = offset % len(pool) if pool else 0
        pools.append(pool[start:] + pool[:start])
    chosen: list[Vector] = []
    while len(chosen) < count and any(pools):
        for pool in pools:
            if pool and len(chosen) < count:
                chosen.append(pool.pop(0))
    return chosen


def chunks(
    max_length: int, vectors: list[Vector] | None = None, separator: str = "\n\n"
) -> list[str]:
    """The vectors joined into texts of at most `max_length` characters, for long fields (bodies,
    bios, comments, flag notes) that can carry many at once."""
    texts: list[str] = []
    current = ""
    for vector in VECTORS if vectors is None else vectors:
        candidate = vector.payload if not current else current + separator + vector.payload
        if len(candidate) <= max_length:
            current = candidate
            continue
        if current:
            texts.append(current)
        current = vector.payload[:max_length]
    if current:
        texts.append(current)
    return texts


# Checking output against the content policy (forum/content.py) ------------------------------

ATTRIBUTES = {
    "a": {"href", "title", "rel"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "code": {"class"},
}
URL_ATTRIBUTES = {"href", "src"}
SAFE_SCHEMES = {"http", "https", "mailto"}
# What a browser's URL parser ignores: ASCII tab and newline anywhere, C0 controls and spaces
# at either end. A scheme is what is left before the first colon.
_URL_IGNORED = re.compile(r"[\t\n\r]")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")


def url_scheme(value: str) -> str | None:
    """The scheme a browser would see in an attribute value (already entity-decoded)."""
    match = _SCHEME.match(_URL_IGNORED.sub("", value).strip(_C0_AND_SPACE))
    return match.group(1).lower() if match else None


class _Audit(HTMLParser):
    """Collects every way a fragment of HTML breaks the policy."""

    def __init__(self, tags: frozenset[str], attributes: dict[str, set[str]]) -> None:
        super().__init__(convert_charrefs=True)
        self.tags = tags
        self.attributes = attributes
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.tags:
            self.problems.append(f"tag <{tag}> is not allowed")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler {name}= on <{tag}>")
            elif name not in self.attributes.get(tag, set()):
                self.problems.append(f"attribute {name}= on <{tag}> is not allowed")
            if name in URL_ATTRIBUTES and value is not None:
                scheme = url_scheme(value)
                if scheme is not None and scheme not in SAFE_SCHEMES:
                    self.problems.append(f"{scheme}: URL in <{tag} {name}={value!r}>")

    handle_startendtag = handle_starttag


def policy_problems(
    html: str,
    tags: frozenset[str] = ALLOWED_TAGS,
    attributes: dict[str, set[str]] = ATTRIBUTES,
) -> list[str]:
    """Every way `html`, parsed as a browser would, breaks the content policy: a tag or
    attribute it does not allow, an event handler, or a URL other than http, https, mailto."""
    audit = _Audit(tags, attributes)
    audit.feed(html)
    audit.close()
    return audit.problems
