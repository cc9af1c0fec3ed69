"""Hostile content, in a real browser: the XSS corpus posted everywhere a member can put text,
and every page that shows it loaded in headless Chromium, where no script may run.

The corpus (tests/e2e/xss_corpus.py) goes in through the real server and the JSON API as an
administrator, moderators and plain members (whose posts with images are held, so held posts
are rendered too): thread titles and bodies, replies, stories (title, summary, content
warnings, body), story comments, display names and per-community names, bios,
experience-tag notes and treatments, flag notes, a clinician application, community
guidelines, private messages, search queries, and forms shown again with an error. Long
fields carry many vectors at once; short ones get a representative set (about 30 each).

Each page is checked three ways: sinks (alert, print, eval, `__xss`, document.title, any
request to xss.invalid, dialogs, uncaught errors) must stay silent; the DOM must hold no
script but the site's own, no on* attribute, no javascript:/data:/vbscript: URL, no frame or
plugin element, and only the content policy's tags inside post bodies; and template probes
show as typed. The page's Content-Security-Policy is bypassed on purpose: it would block
inline script anyway, and this test is about the walls behind it (escaping and sanitizing).

Sanitizing happens on write and escaping in templates, neither depends on the database
engine, so this runs on the SQLite pass only.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, Request

from forum.clinicians import SPECIALTY_KEYS
from forum.content import ALLOWED_TAGS
from forum.validation import Form
from tests.conftest import PASSWORD
from tests.e2e.conftest import LiveSite
from tests.e2e.xss_corpus import (
    BY_NUMBER,
    TEMPLATE_PROBES,
    TEMPLATE_RESULTS,
    VECTORS,
    chunks,
    policy_problems,
    representative,
)

pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

COMMUNITIES = ("xss-lab", "xss-lab-2", "xss-lab-3")
MEMBERS = 6
# Site moderators skip new members' limits (links, images, posts a day), so what they post is
# published; the others' posts with images are held, and held posts are rendered too.
MODERATORS = (3, 4, 5)
ROUNDS = 5  # display names: MEMBERS names at a time, ROUNDS times over
PER_FIELD = 30  # vectors for each short field

# Defines the sinks before any page script: each records what called it, and nothing runs.
INIT_SCRIPT = """
(() => {
  const hits = [];
  Object.defineProperty(window, '__xssHits', { value: hits });
  const record = (sink, args) =>
    hits.push(sink + '(' + Array.from(args, (a) => String(a)).join(', ').slice(0, 160) + ')');
  window.__xss = function () { record('__xss', arguments); };
  for (const name of ['alert', 'confirm', 'prompt', 'print']) {
    window[name] = function () { record(name, arguments); };
  }
  // Playwright evaluates through the page's eval: its calls pass through unrecorded.
  const realEval = window.eval;
  window.eval = function (source) {
    if (!/UtilityScript/.test(new Error().stack)) record('eval', arguments);
    return realEval(source);
  };
  const fakeFunction = function () { record('Function', arguments); return function () {}; };
  Object.defineProperty(Function.prototype, 'constructor', { value: fakeFunction });
  window.Function = fakeFunction;
  for (const name of ['setTimeout', 'setInterval']) {
    const real = window[name];
    window[name] = function (handler, ...rest) {
      if (typeof handler !== 'function') { record(name, [handler]); return 0; }
      return real.call(window, handler, ...rest);
    };
  }
  const title = Object.getOwnPropertyDescriptor(Document.prototype, 'title');
  Object.defineProperty(Document.prototype, 'title', {
    get() { return title.get.call(this); },
    set(value) { record('document.title', [value]); title.set.call(this, value); },
  });
})();
"""

# Runs after load and one animation frame (autofocus and animation events have fired by then).
PAGE_AUDIT = """
async ([allowed, literals, results, optional]) => {
  await new Promise((resolve) => requestAnimationFrame(resolve));
  const problems = [];
  const describe = (el) => el.outerHTML.slice(0, 200);
  const scheme = (value) => {
    const cleaned = value.replace(/[\\t\\n\\r]/g, '').replace(/^[\\x00-\\x20]+|[\\x00-\\x20]+$/g, '');
    const match = /^([a-z][a-z0-9+.-]*):/i.exec(cleaned);
    return match ? match[1].toLowerCase() : null;
  };
  const urlAttributes = new Set(['href', 'src', 'action', 'formaction', 'xlink:href', 'data',
    'poster', 'background', 'codebase', 'cite', 'ping', 'lowsrc', 'dynsrc', 'longdesc',
    'manifest', 'icon', 'to', 'from', 'values', 'by']);
  for (const script of document.querySelectorAll('script')) {
    const src = script.getAttribute('src');
    if (!src || new URL(src, location.href).origin !== location.origin ||
        !new URL(src, location.href).pathname.startsWith('/static/')) {
      problems.push('script element: ' + describe(script));
    }
  }
  for (const el of document.querySelectorAll(
      'iframe, frame, frameset, object, embed, applet, base, portal, meta[http-equiv], style')) {
    problems.push('element that loads or runs things: ' + describe(el));
  }
  for (const link of document.querySelectorAll('link')) {
    if (new URL(link.href, location.href).origin !== location.origin) {
      problems.push('off-site link element: ' + describe(link));
    }
  }
  for (const el of document.querySelectorAll('*')) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith('on')) problems.push('event handler ' + name + ': ' + describe(el));
      if (name === 'srcdoc') problems.push('srcdoc: ' + describe(el));
      if (name === 'style' && /expression|javascript:|url\\(|binding/i.test(attr.value)) {
        problems.push('style: ' + describe(el));
      }
      if (urlAttributes.has(name)) {
        const found = scheme(attr.value);
        if (found && !['http', 'https', 'mailto'].includes(found)) {
          problems.push(found + ': URL in ' + name + ': ' + describe(el));
        }
      }
    }
  }
  for (const el of document.querySelectorAll('.prose *, .snippet *')) {
    if (!allowed.includes(el.localName)) problems.push('tag outside the policy: ' + describe(el));
  }
  if (document.title.startsWith('pwned')) problems.push('document.title is ' + document.title);
  const text = [document.documentElement.textContent,
    ...Array.from(document.querySelectorAll('input, textarea'), (el) => el.value)]
    .join(' ').replace(/\\s+/g, ' ');
  for (const result of results) {
    if (text.includes(result)) problems.push('a template was evaluated: ' + result);
  }
  for (const literal of literals) {
    if (!text.includes(literal)) problems.push('not shown as typed: ' + JSON.stringify(literal));
  }
  const found = optional.filter((literal) => text.includes(literal));
  return { problems, found, hits: Array.from(window.__xssHits || []) };
}
"""


def as_stored(text: str) -> str:
    """A one-line field as the site keeps it (NFC, no control characters, spaces collapsed)."""
    return Form().text("x", text, label="x", max_length=10**6, required=False)


def shown(text: str) -> str:
    return re.sub(r"\s+", " ", as_stored(text))


def explain(problem: str) -> str:
    """Name the vector behind a sink's number, so a failure says which input ran."""
    match = re.search(
        r"(?:__xss|alert|confirm|prompt|print|pwned|xss\.invalid/)\D{0,3}(\d+)", problem
    )
    if match and int(match.group(1)) in BY_NUMBER:
        vector = BY_NUMBER[int(match.group(1))]
        return f"{problem}\n      from {vector.id}: {vector.payload!r}"
    return problem


@dataclass
class Actor:
    """Someone who writes through the JSON API."""

    username: str
    client: httpx.Client
    headers: dict[str, str]

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.request(method, f"/api/v1{path}", json=body, headers=self.headers)
        assert response.is_success, (
            f"{self.username}: {method} {path}: {response.status_code} {response.text}"
        )
        return response.json()


@dataclass
class Browsing:
    """Chromium tabs for each kind of viewer, all watching the sinks; findings pile up."""

    browser: Browser
    base_url: str
    findings: list[str] = field(default_factory=list)
    pages: int = 0
    tabs: dict[str, Page] = field(default_factory=dict)
    contexts: list[BrowserContext] = field(default_factory=list)

    def tab(self, viewer: Actor | None) -> Page:
        name = viewer.username if viewer else "visitor"
        if name in self.tabs:
            return self.tabs[name]
        context = self.browser.new_context(
            base_url=self.base_url,
            bypass_csp=True,
            extra_http_headers=viewer.headers if viewer else {},
            # Nothing leaves the machine: off-site requests go to a closed port and fail at
            # once (quicker than intercepting every request).
            proxy={"server": "http://127.0.0.1:9", "bypass": "127.0.0.1"},
        )
        context.set_default_timeout(10_000)
        context.add_init_script(INIT_SCRIPT)
        tab = context.new_page()
        tab.on("request", self._request)
        tab.on("dialog", self._dialog)
        tab.on("pageerror", lambda error: self.findings.append(f"{tab.url}: uncaught {error}"))
        self.contexts.append(context)
        self.tabs[name] = tab
        return tab

    def _request(self, request: Request) -> None:
        # Only a script (or a stylesheet a vector smuggled in) asks for xss.invalid.
        if urlsplit(request.url).hostname == "xss.invalid":
            self.findings.append(f"request to {request.url} ({request.resource_type})")

    def _dialog(self, dialog: Dialog) -> None:
        self.findings.append(f"{dialog.type} dialog: {dialog.message}")
        dialog.dismiss()

    def visit(
        self,
        viewer: Actor | None,
        path: str,
        *,
        literals: Sequence[str] = (),
        optional: Sequence[str] = (),
        statuses: Sequence[int] = (200,),
    ) -> set[str]:
        """Load a page and audit it; `literals` must show as typed, and of `optional` the
        ones that do are returned."""
        tab = self.tab(viewer)
        response = tab.goto(path)
        assert response is not None and response.status in statuses, (
            f"{path}: {response and response.status}"
        )
        return self.audit(tab, literals, optional)

    def audit(
        self, tab: Page, literals: Sequence[str] = (), optional: Sequence[str] = ()
    ) -> set[str]:
        self.pages += 1
        result = tab.evaluate(
            PAGE_AUDIT,
            [
                sorted(ALLOWED_TAGS | {"mark"}),
                [shown(x) for x in literals],
                list(TEMPLATE_RESULTS),
                [shown(x) for x in optional],
            ],
        )
        where = tab.url.removeprefix(self.base_url)
        self.findings += [f"{where}: {problem}" for problem in result["problems"]]
        self.findings += [f"{where}: script ran: {hit}" for hit in result["hits"]]
        return set(result["found"])

    def assert_clean(self) -> None:
        """Fail with every finding so far, each naming its vector; start afresh either way."""
        findings, self.findings = self.findings, []
        assert not findings, f"{len(findings)} findings:\n" + "\n".join(map(explain, findings))

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@dataclass
class Seeded:
    """What the corpus was put into, for the tests to visit."""

    admin: Actor
    members: list[Actor]
    title_threads: list[tuple[int, str]] = field(default_factory=list)
    contexts_thread: int = 0
    contexts_post: int = 0
    replies_thread: int = 0
    replies_title: str = ""
    alias_thread: int = 0
    flag_thread: int = 0
    stories: list[tuple[int, str]] = field(default_factory=list)
    flag_story: int = 0
    conversation: int = 0
    display_names: list[str] = field(default_factory=list)
    bios: list[str] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)
    treatments: dict[str, list[str]] = field(default_factory=dict)
    application: int = 0
    clinician_fields: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    flag_notes: list[str] = field(default_factory=list)
    guidelines_note: str = ""
    short_fields: set[str] = field(default_factory=set)  # one-line texts, as stored


def _member(site: LiveSite, number: int, display_name: str) -> Actor:
    # Registration is limited per address: these come from a loopback address of their own,
    # so they never spend what 127.0.0.1 may register for the other browser tests.
    client = httpx.Client(
        base_url=site.url,
        timeout=20,
        transport=httpx.HTTPTransport(local_address=f"127.0.0.{40 + number // 5}"),
    )
    username = f"xssmember{number}"
    response = client.post(
        "/api/v1/auth/register",
        json={"username": username, "password": PASSWORD, "display_name": display_name},
    )
    assert response.status_code == 201, response.text
    response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return Actor(username, client, {"Authorization": f"Bearer {response.json()['token']}"})


def _published(result: dict[str, Any], what: str) -> int:
    assert result["status"] == "published", f"{what} was {result['status']}: {result}"
    return result["id"]


@pytest.fixture(scope="module")
def seeded(live_server: LiveSite) -> Iterator[Seeded]:
    admin = Actor(
        "ada_admin", httpx.Client(base_url=live_server.url, timeout=20), live_server.admin_headers
    )
    for number, slug in enumerate(COMMUNITIES, 1):
        admin.api(
            "POST",
            "/communities",
            {
                "slug": slug,
                "name": f"XSS lab {number}",
                "description": "Hostile text.",
                "visibility": "public",
            },
        )
        admin.api("POST", f"/communities/{slug}/join")
    names = [shown(v.payload) for v in representative(64, PER_FIELD, offset=3)]
    # Two scrypt hashes each (register, sign in): side by side, as the server hashes in threads.
    with ThreadPoolExecutor(MEMBERS) as pool:
        members = list(pool.map(lambda n: _member(live_server, n, names[n]), range(MEMBERS)))
    data = Seeded(admin, members, display_names=names)
    for n in MODERATORS:
        admin.api("POST", f"/admin/users/{members[n].username}/role", {"role": "moderator"})
    for member in members:
        for slug in COMMUNITIES:
            member.api("POST", f"/communities/{slug}/join")
    mods = [members[n] for n in MODERATORS]

    # Thread titles, one vector each; their bodies share the whole corpus out between them.
    titles = [v for v in representative(200, PER_FIELD) if len(as_stored(v.payload)) >= 5]
    authors = mods  # the admin's posting limit is shared with the other browser tests
    for i, vector in enumerate(titles):
        body = "\n\n".join(v.payload for v in VECTORS[i :: len(titles)])
        created = authors[i % len(authors)].api(
            "POST", "/communities/xss-lab/threads", {"title": vector.payload, "body": body}
        )
        data.title_threads.append((_published(created, f"thread {vector.id}"), vector.payload))

    # The whole corpus in one body, then again in list items, quotes, table cells and headings.
    whole = "\n\n".join(v.payload for v in VECTORS)
    created = admin.api(
        "POST", "/communities/xss-lab/threads", {"title": "Every vector at once", "body": whole}
    )
    data.contexts_thread, data.contexts_post = _published(created, "contexts"), created["post_id"]
    flat = [" ".join(v.payload.split()) for v in VECTORS]
    for body in (
        "\n".join(f"- {p}" for p in flat),
        "\n".join(f"> {p}\n>" for p in flat),
        "| a | b |\n| --- | --- |\n" + "\n".join(f"| {p.replace('|', ' ')} | x |" for p in flat),
        "\n\n".join(f"## {p}" for p in flat),
    ):
        admin.api("POST", f"/threads/{data.contexts_thread}/posts", {"body": body})
    # An edit, so the post has a history page.
    admin.api("PATCH", f"/posts/{data.contexts_post}", {"body": whole + "\n\nEdited."})

    # Replies from plain members (held when they carry images) and moderators, each a share
    # of the corpus, with mentions so notifications name the thread.
    created = mods[0].api(
        "POST",
        "/communities/xss-lab/threads",
        {"title": titles[0].payload, "body": "Replies with hostile text below."},
    )
    data.replies_thread = _published(created, "replies thread")
    data.replies_title = titles[0].payload
    shares = chunks(1800)
    assert len(shares) >= MEMBERS  # everyone replies, so every name shows on this thread
    for i, body in enumerate(shares):
        author = members[i % MEMBERS]
        mention = f"@{members[(i + 1) % MEMBERS].username} "
        author.api("POST", f"/threads/{data.replies_thread}/posts", {"body": mention + body})

    # Stories: title, summary, content warnings and body; comments from everyone.
    story_titles = representative(200, 12, offset=6)
    summaries = chunks(500, representative(500, PER_FIELD, offset=24), separator=" ")
    warnings = [shown(v.payload) for v in representative(60, 20, offset=9)]
    story_bodies = [
        "\n\n".join(v.payload for v in VECTORS[i :: len(story_titles)])
        for i in range(len(story_titles))
    ]
    for i, vector in enumerate(story_titles):
        story: dict[str, Any] = {
            "title": vector.payload,
            "body": story_bodies[i],
            "summary": summaries[i % len(summaries)],
            "community": "xss-lab",
            "confirm_consent": True,
        }
        if i % 3 == 2:
            story["content_warnings"] = warnings[(i // 3) * 5 : (i // 3) * 5 + 5]
        created = mods[i % len(mods)].api("POST", "/stories", story)
        data.stories.append((_published(created, f"story {vector.id}"), vector.payload))
    for i, body_text in enumerate(chunks(3000)):
        members[i % MEMBERS].api(
            "POST", f"/stories/{data.stories[0][0]}/comments", {"body": body_text}
        )

    # Bios (the corpus in 2,000-character shares) and experience-tag notes.
    data.bios = chunks(2000)
    assert len(data.bios) <= MEMBERS * 2
    for i, member in enumerate(members):
        member.api("PATCH", "/me", {"bio": data.bios[i]})
    # Notes go in the communities where members use their own name: a profile leaves out
    # the experience a member has in a community where they go by another name.
    notes = iter(shown(v.payload) for v in representative(280, PER_FIELD, offset=12))
    # Treatments (40 characters each) join the tag's label, shown beside every post.
    treatments = [shown(v.payload) for v in representative(40, PER_FIELD, offset=27)]
    for i, member in enumerate(members):
        data.notes[member.username] = []
        mine = treatments[i * 5 : i * 5 + 5]
        data.treatments[member.username] = mine
        for slug in (COMMUNITIES[0], COMMUNITIES[2]):
            packed: list[str] = []
            for note in notes:
                packed.append(note)
                if len(packed) == 3 or len(" ".join(packed)) > 180:
                    break
            while len(" ".join(packed)) > 280:
                packed.pop()
            member.api(
                "POST",
                "/me/experience",
                {
                    "community": slug,
                    "relation": "patient",
                    "note": " ".join(packed),
                    "treatments": mine if slug == COMMUNITIES[0] else [],
                },
            )
            data.notes[member.username] += packed

    # Names for one community, shown on posts there instead of the display name.
    created = admin.api(
        "POST", "/communities/xss-lab-2/threads", {"title": "Names here", "body": "Say hello."}
    )
    data.alias_thread = _published(created, "alias thread")
    data.aliases = [shown(v.payload) for v in representative(64, MEMBERS, offset=15)]
    for member, alias in zip(members, data.aliases, strict=True):
        member.api("PUT", "/communities/xss-lab-2/my-name", {"display_name": alias})
        member.api("POST", f"/threads/{data.alias_thread}/posts", {"body": "Hello from me."})

    # Flag notes, three vectors to a note, on a thread and a story of their own.
    created = admin.api(
        "POST", "/communities/xss-lab-3/threads", {"title": "Flag me", "body": "Please flag this."}
    )
    data.flag_thread = _published(created, "flag thread")
    created = admin.api(
        "POST",
        "/stories",
        {
            "title": "Flag this story",
            "body": "A story to flag.",
            "community": "xss-lab-3",
            "confirm_consent": True,
        },
    )
    data.flag_story = _published(created, "flag story")
    flag_vectors = representative(330, PER_FIELD, offset=18)
    data.flag_notes = [
        " ".join(v.payload for v in flag_vectors[i : i + 3]) for i in range(0, len(flag_vectors), 3)
    ]
    for i, note in enumerate(data.flag_notes):
        flagger = members[i % MEMBERS]
        target = (
            f"/threads/{data.flag_thread}/flags"
            if i < MEMBERS
            else f"/stories/{data.flag_story}/flags"
        )
        flagger.api("POST", target, {"reason": "other", "note": note})

    # A clinician application, approved: its profession becomes a credential beside posts.
    clinician = representative(80, 3, offset=30)
    created = members[1].api(
        "POST",
        "/me/clinician-application",
        {
            "profession": clinician[0].payload,
            "specialty": SPECIALTY_KEYS[0],
            "license_region": clinician[1].payload,
            "license_number": clinician[2].payload[:64],
            "evidence_url": 'https://example.org/"><img/src=x/onerror=__xss(0)>',
        },
    )
    data.application = created["id"]
    data.clinician_fields = [clinician[0].payload, clinician[1].payload]
    admin.api(
        "POST",
        f"/moderation/clinician-applications/{data.application}/decision",
        {"action": "approve", "note": flag_vectors[0].payload},
    )
    members[1].api(
        "POST", f"/threads/{data.replies_thread}/posts", {"body": "Now with a credential."}
    )

    # A private message from the admin to a member: subject and body.
    created = admin.api(
        "POST",
        "/conversations",
        {"to": [members[0].username], "subject": titles[1].payload, "body": chunks(20000)[0]},
    )
    data.conversation = created["conversation"]

    # Guidelines, written by a moderator with a note on the version; members are asked to
    # accept them (last, so nothing above needed accepting first).
    data.guidelines_note = flag_vectors[1].payload
    admin.api("POST", f"/communities/{COMMUNITIES[2]}/moderators", {"username": mods[0].username})
    mods[0].api(
        "POST",
        f"/communities/{COMMUNITIES[2]}/guidelines",
        {"body": chunks(20_000)[0], "note": data.guidelines_note},
    )

    data.short_fields = {
        *names,
        *(shown(t) for _, t in data.title_threads),
        *(shown(t) for _, t in data.stories),
        *warnings,
        *data.aliases,
        *(note for notes in data.notes.values() for note in notes),
        *(t for mine in data.treatments.values() for t in mine),
    }
    try:
        yield data
    finally:
        for actor in (admin, *members):
            actor.client.close()


@pytest.fixture(scope="module")
def browsing(browser: Browser, live_server: LiveSite) -> Iterator[Browsing]:
    watcher = Browsing(browser, live_server.url)
    try:
        yield watcher
    finally:
        watcher.close()


# What an unsafe page would hold: each line is a way the audit must notice script.
UNSAFE_PAGE = """
<script>__xss(1)</script>
<img src=x onerror="eval('__xss(2)')">
<img src=x onerror="setTimeout('__xss(3)')">
<img src=x onerror="[].constructor.constructor('__xss(4)')()">
<img src=x onerror="document.title='pwned5'">
<img src="http://xss.invalid/6">
<a href=" java&#9;script:__xss(7)">x</a>
<iframe srcdoc="<b>x</b>"></iframe>
<div class="prose"><svg></svg></div>
<p>720751</p>
"""


def test_the_watch_notices_script_that_runs(browsing: Browsing) -> None:
    """The audit itself: an unsafe page must give a finding of every kind it looks for."""
    tab = browsing.tab(None)
    tab.set_content(UNSAFE_PAGE)
    browsing.audit(tab)
    found, browsing.findings = "\n".join(browsing.findings), []
    for expected in (
        "script element",
        "script ran: __xss(1)",
        "script ran: eval(__xss(2))",
        "script ran: setTimeout(__xss(3))",
        "script ran: Function(__xss(4))",
        "script ran: document.title(pwned5)",
        "document.title is pwned5",
        "request to http://xss.invalid/6",
        "javascript: URL in href",
        "srcdoc",
        "element that loads or runs things: <iframe",
        "tag outside the policy: <svg",
        "a template was evaluated: 720751",
        "event handler onerror",
    ):
        assert expected in found, f"{expected!r} not in:\n{found}"


def test_threads_titles_bodies_and_replies_run_no_script(
    seeded: Seeded, browsing: Browsing
) -> None:
    admin = seeded.admin
    for slug in COMMUNITIES:
        browsing.visit(None, f"/c/{slug}")
    browsing.visit(None, "/c/xss-lab?page=2")
    browsing.visit(None, "/")
    browsing.visit(admin, "/")
    for thread, title in seeded.title_threads:
        browsing.visit(None, f"/t/{thread}", literals=[title])
    for path in (f"/t/{seeded.contexts_thread}", f"/t/{seeded.replies_thread}"):
        browsing.visit(None, path)
        browsing.visit(admin, path)  # held replies show to moderators
    browsing.visit(admin, f"/p/{seeded.contexts_post}/edit")
    browsing.visit(admin, f"/p/{seeded.contexts_post}/history")
    browsing.visit(admin, f"/p/{seeded.contexts_post}/delete")
    browsing.assert_clean()


def test_community_guidelines_run_no_script(seeded: Seeded, browsing: Browsing) -> None:
    slug = COMMUNITIES[2]
    browsing.visit(None, f"/c/{slug}/guidelines", literals=[seeded.guidelines_note])
    browsing.visit(None, f"/c/{slug}/join")
    browsing.visit(seeded.members[0], f"/c/{slug}")  # asked to accept the new version
    browsing.visit(seeded.members[0], f"/c/{slug}/welcome")
    browsing.visit(seeded.members[MODERATORS[0]], f"/c/{slug}/guidelines/edit")
    browsing.assert_clean()


def test_stories_and_comments_run_no_script(seeded: Seeded, browsing: Browsing) -> None:
    browsing.visit(None, "/stories")
    for story, title in seeded.stories:
        browsing.visit(None, f"/s/{story}", literals=[title])
    browsing.visit(seeded.admin, f"/s/{seeded.stories[0][0]}")  # held comments too
    browsing.visit(seeded.members[MODERATORS[0]], f"/s/{seeded.stories[0][0]}/edit")
    browsing.visit(None, f"/u/{seeded.members[MODERATORS[0]].username}/stories")
    browsing.assert_clean()


def test_profiles_bios_notes_and_settings_run_no_script(seeded: Seeded, browsing: Browsing) -> None:
    for member, name in zip(seeded.members, seeded.display_names, strict=False):
        browsing.visit(
            None,
            f"/u/{member.username}",
            literals=[name, *seeded.notes[member.username], *seeded.treatments[member.username]],
        )
    # Their own view: the profile with its controls, and the bio back in a textarea.
    first = seeded.members[0]
    browsing.visit(first, f"/u/{first.username}")
    browsing.visit(first, "/settings", literals=[seeded.display_names[0]])
    browsing.visit(first, "/me/experience")
    # The clinician's application as the moderators read it, and their credential.
    browsing.visit(
        seeded.admin,
        f"/mod/clinician-applications/{seeded.application}",
        literals=seeded.clinician_fields,
    )
    browsing.visit(seeded.admin, "/mod/clinicians")
    browsing.visit(seeded.members[1], "/me/clinician")
    browsing.assert_clean()


def test_display_names_run_no_script_wherever_they_show(seeded: Seeded, browsing: Browsing) -> None:
    """Every name in turn, on the pages that show many members' names at once."""
    members = seeded.members
    for round_ in range(ROUNDS):
        names = seeded.display_names[round_ * MEMBERS : (round_ + 1) * MEMBERS]
        if round_:
            for member, name in zip(members, names, strict=True):
                member.api("PATCH", "/me", {"display_name": name})
        # Moderators see held replies too, so every member's name is on this page for them.
        browsing.visit(seeded.admin, f"/t/{seeded.replies_thread}", literals=names)
        browsing.visit(seeded.admin, "/admin/users", literals=names)
    browsing.visit(None, f"/s/{seeded.stories[0][0]}")
    browsing.visit(None, f"/t/{seeded.alias_thread}", literals=seeded.aliases)
    browsing.assert_clean()


def test_search_queries_and_results_run_no_script(seeded: Seeded, browsing: Browsing) -> None:
    queries = representative(200, PER_FIELD - 6, offset=21)
    # Every template probe goes into a plain-text field somewhere; the rest of them go here.
    queries += [p for p in TEMPLATE_PROBES if shown(p.payload) not in seeded.short_fields]
    for vector in dict.fromkeys(queries):
        # A NUL in a query string may be refused outright (400), which is fine too.
        browsing.visit(
            None,
            f"/search?q={quote(vector.payload)}",
            literals=[] if "\x00" in vector.payload else [vector.payload],
            statuses=(200, 400) if "\x00" in vector.payload else (200,),
        )
    # Results with snippets of hostile bodies, once the index has caught up with the posts.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = seeded.admin.api("GET", "/search?q=onerror")
        if found["total"] >= 5:
            break
        time.sleep(0.2)
    for words in ("onerror", "javascript", "script", "svg", "xss", "constructor"):
        browsing.visit(None, f"/search?q={words}")
    browsing.assert_clean()


def test_moderation_queue_and_flag_notes_run_no_script(seeded: Seeded, browsing: Browsing) -> None:
    admin = seeded.admin
    queue = admin.api("GET", "/moderation/queue?state=all&per_page=100")
    items = {item["id"] for item in queue["items"]}
    assert items, queue
    browsing.visit(admin, "/mod")
    browsing.visit(admin, "/mod?state=all")
    shown_notes: set[str] = set()
    for item in sorted(items):
        shown_notes |= browsing.visit(admin, f"/mod/items/{item}", optional=seeded.flag_notes)
    assert shown_notes == {shown(note) for note in seeded.flag_notes}
    browsing.visit(admin, "/mod/audit")
    browsing.visit(admin, "/admin/users")
    browsing.assert_clean()


def test_notifications_and_messages_run_no_script(seeded: Seeded, browsing: Browsing) -> None:
    # Everyone was mentioned by the next member; the first moderator started the replies thread.
    for member in (seeded.members[0], seeded.members[MODERATORS[0]]):
        browsing.visit(member, "/notifications", literals=[seeded.replies_title])
    browsing.visit(seeded.members[0], "/messages")
    browsing.visit(seeded.members[0], f"/messages/{seeded.conversation}")
    browsing.assert_clean()


def test_atom_feeds_are_atom_with_escaped_text_and_clean_html(
    seeded: Seeded, browsing: Browsing, live_server: LiveSite
) -> None:
    atom = "{http://www.w3.org/2005/Atom}"
    paths = [
        "/c/xss-lab/feed.atom",
        f"/u/{seeded.members[MODERATORS[0]].username}/feed.atom",
        f"/t/{seeded.contexts_thread}/feed.atom",
        f"/t/{seeded.replies_thread}/feed.atom",
    ]
    for path in paths:
        response = httpx.get(live_server.url + path, timeout=10)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("application/atom+xml"), path
        root = ElementTree.fromstring(response.content)  # noqa: S314 (our own server)
        assert root.tag == f"{atom}feed", path
        assert all(el.tag.startswith(atom) for el in root.iter()), (
            f"{path}: markup got into the XML"
        )
        for content in root.iter(f"{atom}content"):
            assert content.get("type") == "html", path
            assert policy_problems(content.text or "") == [], path
        titles = {el.text for el in root.iter(f"{atom}title")}
        if path.startswith("/c/"):
            expected = {t for _, t in seeded.title_threads}
            assert expected & titles, f"{path}: no hostile title came through as text"
        # Chromium shows the XML as a tree; nothing in it may run.
        tab = browsing.tab(None)
        tab.goto(path)
        browsing.pages += 1
        hits = tab.evaluate("() => Array.from(window.__xssHits || [])")
        browsing.findings += [f"{path}: script ran: {hit}" for hit in hits]
    browsing.assert_clean()


def _submit(tab: Page, values: dict[str, str], button: str, status: int = 422) -> None:
    """Fill a form (past maxlength, as a script could) and send it; expect `status`."""
    tab.evaluate(
        "(values) => { for (const [name, value] of Object.entries(values)) {"
        " document.querySelector(`[name=${name}]`).value = value; } }",
        values,
    )
    with tab.expect_navigation() as navigation:
        tab.get_by_role("button", name=button, exact=True).click()
    response = navigation.value
    assert response is not None and response.status == status, (
        f"{tab.url}: {response and response.status}"
    )


def test_forms_shown_again_with_an_error_keep_hostile_text_inert(
    seeded: Seeded, browsing: Browsing
) -> None:
    member = seeded.members[0]
    breakouts = [v for v in VECTORS if v.category == "attribute_breakout"]
    title = breakouts[7].payload  # </title><script>...
    browsing.visit(member, "/c/xss-lab/new")
    tab = browsing.tab(member)
    _submit(tab, {"title": title, "body": "   "}, "Post")
    browsing.audit(tab, literals=[title])

    browsing.visit(member, "/settings")
    tab = browsing.tab(member)
    long_name = breakouts[0].payload + " " + "x" * 64
    _submit(tab, {"display_name": long_name, "bio": breakouts[8].payload}, "Save profile")
    browsing.audit(tab, literals=[long_name])

    browsing.visit(None, "/register")
    tab = browsing.tab(None)
    _submit(
        tab,
        {"username": breakouts[1].payload, "display_name": breakouts[2].payload},
        "Create my account",
    )
    browsing.audit(tab, literals=[breakouts[2].payload])

    browsing.visit(member, f"/t/{seeded.replies_thread}")
    tab = browsing.tab(member)
    too_long = "</textarea><script>__xss(0)</script>" + "x" * 20_001
    _submit(tab, {"body": too_long}, "Post reply")
    browsing.audit(tab)

    browsing.visit(seeded.admin, "/mod/screen")
    tab = browsing.tab(seeded.admin)
    _submit(tab, {"text": chunks(20_000)[0]}, "Screen it", status=200)
    browsing.audit(tab)
    browsing.assert_clean()
