"""Accessibility: axe-core finds no serious or critical problem on the pages people use most,
at phone and desktop width, and a reply can be written and posted with the keyboard alone.

axe-core comes from npm (tests/e2e/package.json, installed by `make` with `npm ci`). It is
added to each page as an init script, which the browser runs outside the page's Content
Security Policy, so the site's CSP stays as strict as it is in production.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import ADMIN, DESKTOP, PHONE, LiveSite

# A page's markup does not depend on the database engine, so one pass checks it: the SQLite
# pass, which keeps the PostgreSQL pass (the longer one) inside make test's five minutes. The
# journey and XSS browser tests still run on both engines.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")
ASKER, REPLIER, CLINICIAN = "sam_asks", "lee_replies", "dr_okafor"
THREAD_TITLE = "Are pure oats safe to eat?"
COMMUNITY = "gluten-free"
REPLY = "Typed with the keyboard alone"


@dataclass(frozen=True)
class Scene:
    """What the seeded site holds, for building page addresses."""

    thread_id: int
    story_id: int


def _register(site: LiveSite, username: str, display_name: str) -> dict[str, str]:
    """A new member, signed in over the API: their bearer header."""
    registered = httpx.post(
        f"{site.url}/api/v1/auth/register",
        json={"username": username, "password": PASSWORD, "display_name": display_name},
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    token = httpx.post(
        f"{site.url}/api/v1/auth/token",
        json={"username": username, "password": PASSWORD},
        timeout=10,
    )
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['token']}"}


def _as(site: LiveSite, headers: dict[str, str]) -> LiveSite:
    return LiveSite(url=site.url, admin_headers=headers)


def _sign_in(page: Page, username: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.fixture(scope="module")
def scene(live_server: LiveSite) -> Scene:
    """A thread with replies from three members (one a verified clinician) and a flag on it,
    a story with a comment, and the search index caught up."""
    site = live_server
    # A community of its own: the other browser tests look for celiac's links by name.
    site.api(
        "POST",
        "/communities",
        {
            "slug": COMMUNITY,
            "name": "Gluten-free living",
            "description": "Cooking, eating out and travelling **without gluten**.",
            "visibility": "public",
        },
    )
    asker = _as(site, _register(site, ASKER, "Sam"))
    replier = _as(site, _register(site, REPLIER, "Lee"))
    clinician = _as(site, _register(site, CLINICIAN, "Dr Okafor"))
    application = clinician.api(
        "POST",
        "/me/clinician-application",
        {
            "profession": "Gastroenterologist",
            "specialty": "gastroenterology",
            "license_region": "UK, General Medical Council",
            "license_number": "7654321",
        },
    )
    site.api(
        "POST",
        f"/moderation/clinician-applications/{application['id']}/decision",
        {"action": "approve", "note": "Checked the register.", "valid_days": 365},
    )
    for member in (asker, replier, clinician):
        member.api("POST", f"/communities/{COMMUNITY}/join")
    thread = asker.api(
        "POST",
        f"/communities/{COMMUNITY}/threads",
        {
            "title": THREAD_TITLE,
            "body": "I was told **pure** oats are fine. Has anyone:\n\n- tried them\n- had a reaction?",
        },
    )
    question = asker.api("GET", f"/threads/{thread['id']}")["posts"][0]
    reply = replier.api(
        "POST", f"/threads/{thread['id']}/posts", {"body": "I eat them every day, no trouble."}
    )
    clinician.api(
        "POST",
        f"/threads/{thread['id']}/posts",
        {"body": "Most people with celiac disease tolerate *pure* oats; a few react to avenin."},
    )
    asker.api("POST", f"/posts/{reply['id']}/reactions", {"kind": "helpful"})
    replier.api("POST", f"/posts/{question['id']}/flags", {"reason": "misinformation"})
    story = asker.api(
        "POST",
        "/stories",
        {
            "title": "My first gluten-free year",
            "body": "The first months were hard. Then **cooking** became a joy again.",
            "summary": "What changed after diagnosis.",
            "community": COMMUNITY,
            "publish": True,
            "confirm_consent": True,
        },
    )
    replier.api("POST", f"/stories/{story['id']}/comments", {"body": "Thank you for this."})
    _wait_for_search(site, "oats")
    return Scene(thread_id=thread["id"], story_id=story["id"])


def _wait_for_search(site: LiveSite, query: str) -> None:
    """The server indexes after commit, in the background: wait until it has caught up."""
    for _ in range(100):
        if site.api("GET", f"/search?q={query}")["items"]:
            return
        time.sleep(0.05)
    pytest.fail(f"search never found {query!r}")


def _open_tab(browser: Browser, url: str) -> Page:
    """A tab in a context of its own (its own cookies), with axe-core in every page it opens."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make test` or `npm ci --prefix tests/e2e`")
    context = browser.new_context(base_url=url, viewport=PHONE)
    context.set_default_timeout(5_000)
    context.add_init_script(path=AXE)
    return context.new_page()


@pytest.fixture(scope="module")
def tabs(browser: Browser, live_server: LiveSite, scene: Scene) -> Iterator[dict[str, Page]]:
    """One tab each for a visitor, the member who asked, and the admin, reused page to page."""
    opened = {who: _open_tab(browser, live_server.url) for who in ("visitor", "asker", "admin")}
    _sign_in(opened["asker"], ASKER)
    _sign_in(opened["admin"], ADMIN)
    yield opened
    for page in opened.values():
        page.context.close()


def serious_violations(page: Page) -> list[str]:
    """axe-core's default rules (WCAG 2 A and AA, best practice) on the page as it is now;
    one line per serious or critical violation: rule, help text and where."""
    violations = page.evaluate(
        """async () => {
            const results = await axe.run(document, {resultTypes: ['violations']});
            return results.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map((n) => n.target.join(' ')),
            }));
        }"""
    )
    serious = []
    for violation in violations:
        line = f"{violation['impact']} {violation['id']}: {violation['help']} at {violation['targets']}"
        if violation["impact"] in FAILING_IMPACTS:
            serious.append(line)
        else:  # shown with -s, for whoever wants to go further
            print(f"{page.url}: {line}")
    return serious


# Page: who looks, where, and something it must show (so the check is of a page with content).
PAGES = {
    "home": ("asker", "/", THREAD_TITLE),
    "community": ("asker", f"/c/{COMMUNITY}", THREAD_TITLE),
    "thread": ("asker", "/t/{thread_id}", "Verified clinician"),
    "story": ("asker", "/s/{story_id}", "Thank you for this."),
    "profile": ("asker", f"/u/{CLINICIAN}", "Verified clinician"),
    "search": ("asker", "/search?q=oats", THREAD_TITLE),
    "sign-in": ("visitor", "/login", "Sign in"),
    "registration": ("visitor", "/register", "Join Kindred"),
    "moderation queue": ("admin", "/mod", THREAD_TITLE),
    "settings": ("asker", "/settings", "Your time zone"),
}


def test_axe_runs_under_the_sites_csp_and_reports_an_unlabelled_field(
    tabs: dict[str, Page],
) -> None:
    """The page checks below would pass vacuously if axe never ran: show it sees a problem."""
    page = tabs["visitor"]
    page.goto("/login")
    page.evaluate("() => document.querySelector('label[for=f-username]').remove()")
    assert any(" label: " in line for line in serious_violations(page))


@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_serious_or_critical_accessibility_violations(
    name: str, scene: Scene, tabs: dict[str, Page]
) -> None:
    who, path, shown = PAGES[name]
    address = path.format(thread_id=scene.thread_id, story_id=scene.story_id)
    page = tabs[who]
    page.set_viewport_size(PHONE)
    response = page.goto(address)
    assert response is not None and response.ok, f"{address}: {response and response.status}"
    expect(page.get_by_role("main")).to_contain_text(shown)
    problems = [f"[phone] {line}" for line in serious_violations(page)]
    page.set_viewport_size(DESKTOP)
    problems += [f"[desktop] {line}" for line in serious_violations(page)]
    assert problems == [], f"{name} ({address}):\n" + "\n".join(problems)


# After one Tab: what has focus, whether it shows a focus ring (an outline or a box shadow), and
# whether it is the element we are tabbing to.
FOCUS_STATE = """(target) => {
    const focused = document.activeElement;
    const style = getComputedStyle(focused);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    return {
        html: focused.outerHTML.slice(0, 120),
        visible: outline || style.boxShadow !== 'none',
        arrived: focused === target,
    };
}"""


def _tab_to(page: Page, role: str, name: str, limit: int = 60) -> None:
    """Press Tab until the element with this role and name has focus, checking on the way
    that every element focused shows where the focus is."""
    target = page.get_by_role(role, name=name, exact=True).element_handle()  # type: ignore[arg-type]
    for _ in range(limit):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_STATE, target)
        assert state["visible"], f"no visible focus indicator on {state['html']}"
        if state["arrived"]:
            return
    pytest.fail(f"{limit} presses of Tab never reached the {role} {name!r} on {page.url}")


@pytest.fixture
def fresh_tab(browser: Browser, live_server: LiveSite) -> Iterator[Page]:
    """A desktop-sized visitor's tab of its own."""
    page = _open_tab(browser, live_server.url)
    page.set_viewport_size(DESKTOP)
    yield page
    page.context.close()


@pytest.mark.usefixtures("scene")
def test_a_member_signs_in_and_posts_a_reply_with_the_keyboard_alone(fresh_tab: Page) -> None:
    page = fresh_tab
    page.goto("/")

    _tab_to(page, "link", "Sign in")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    _tab_to(page, "textbox", "Username")
    page.keyboard.type(ASKER)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()

    _tab_to(page, "link", THREAD_TITLE)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(THREAD_TITLE)
    _tab_to(page, "textbox", "Your reply")
    page.keyboard.type(REPLY)
    _tab_to(page, "button", "Post reply", limit=10)
    page.keyboard.press("Enter")

    expect(page.get_by_role("status")).to_contain_text("Your reply is posted")
    expect(page.locator("ol.posts > li .prose").last).to_have_text(REPLY)
