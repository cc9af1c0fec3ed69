"""Maria's first visit, as she would make it on her phone: register, join, ask, get a reply.

Every control is found by its label or role, so these tests also check that the forms are
labelled and the page can be used with a keyboard.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import DESKTOP, PHONE, SCREENSHOTS, LiveSite

pytestmark = pytest.mark.browser

TITLE = "Eating out safely when travelling?"
MESSAGE = """Newly diagnosed, and travelling next month. Which restaurants were **safe** for you?

- kitchens that are fully gluten free
- showing a chef card in the local language
"""
REPLY = "Thank you, that helps"


def screenshot_both_sizes(page: Page, name: str) -> None:
    """Full-page screenshots at phone and desktop width, for a person to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)
    for label, size in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size(PHONE)


def test_newcomer_registers_joins_asks_and_reads_a_reply(
    page: Page, browser_problems: list[str]
) -> None:
    response = page.goto("/")
    assert response is not None and response.ok
    assert "script-src 'self'" in response.headers["content-security-policy"]

    page.get_by_role("link", name="Join Kindred").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Join Kindred")
    page.get_by_label("Username").fill("maria")
    page.get_by_label("Password").fill("gluten free at 2 a.m.")
    page.get_by_label("Display name").fill("Maria")
    page.get_by_label("E-mail").fill("maria@example.org")
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("status")).to_contain_text("Welcome to Kindred, Maria")

    page.get_by_role("link", name="Celiac disease").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Celiac disease")
    page.get_by_role("button", name="Join this community").click()
    expect(page.get_by_role("status")).to_contain_text("You've joined Celiac disease")

    page.get_by_role("link", name="Ask a question or start a conversation").click()
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Your message").fill(MESSAGE)
    page.get_by_role("button", name="Post", exact=True).click()

    expect(page).to_have_url(re.compile(r"/t/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_role("status")).to_contain_text("Your post is up")
    question = page.locator("ol.posts > li").first
    expect(question.locator("strong")).to_have_text("safe")
    expect(question.get_by_role("listitem")).to_have_text(
        ["kitchens that are fully gluten free", "showing a chef card in the local language"]
    )

    page.get_by_label("Your reply").fill(REPLY)
    page.get_by_role("button", name="Post reply").click()

    expect(page.get_by_role("status")).to_contain_text("Your reply is posted")
    posts = page.locator("ol.posts > li")
    expect(posts).to_have_count(2)
    expect(posts.nth(0).locator("strong")).to_have_text("safe")
    expect(posts.nth(1).locator(".prose")).to_have_text(REPLY)
    expect(page.get_by_text("1 reply", exact=True)).to_be_visible()
    screenshot_both_sizes(page, "thread")

    page.get_by_role("link", name="Kindred", exact=True).click()
    expect(page.get_by_role("link", name=TITLE)).to_be_visible()
    screenshot_both_sizes(page, "home")

    assert browser_problems == []


def test_keyboard_reaches_skip_link_first_and_it_moves_focus_to_main(
    page: Page, browser_problems: list[str], live_server: LiveSite
) -> None:
    live_server.api("POST", "/communities/celiac/join")
    thread = live_server.api(
        "POST",
        "/communities/celiac/threads",
        {"title": "Which oats are safe?", "body": "Some say *pure* oats are fine."},
    )
    page.goto(f"/t/{thread['id']}")

    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()

    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    expect(page.get_by_role("main")).to_be_focused()
    assert browser_problems == []


def test_site_icon_loads_so_browsers_log_no_404(page: Page) -> None:
    page.goto("/")
    icons = page.locator("link[rel~='icon']")
    href = icons.first.get_attribute("href") if icons.count() else "/favicon.ico"
    assert page.request.get(href).ok, f"{href} is missing"


def test_registration_fields_keep_required_maxlength_and_autocomplete(page: Page) -> None:
    page.goto("/register")
    assert page.get_by_label("Username").evaluate("e => [e.required, e.maxLength]") == [True, 32]
    assert page.get_by_label("Password").evaluate("e => [e.required, e.autocomplete]") == [
        True,
        "new-password",
    ]
