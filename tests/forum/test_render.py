"""The page environment: what templates get for missing values and rows."""

import gc
import time
from datetime import UTC, datetime

import jinja2
import pytest
from markupsafe import Markup, escape

from forum.app import YOUNG_OBJECTS_BEFORE_COLLECTING, create_app
from forum.web import render as render_module
from forum.web.render import create_templates


def render(source: str, **context: object) -> str:
    return create_templates().env.from_string(source).render(**context)


def test_missing_value_and_inline_if_without_else_render_as_nothing() -> None:
    assert render("[{{ nothing }}][{{ 'x' if flag }}]", flag=False) == "[][]"


def test_missing_value_is_still_an_error_when_used_as_an_object() -> None:
    with pytest.raises(jinja2.UndefinedError):
        render("{{ nothing.field }}")


def test_dict_rows_read_by_key_and_dict_methods_still_found() -> None:
    assert render("{{ row.title }} {{ row.items()|list|length }}", row={"title": "<b>"}) == (
        "&lt;b&gt; 1"
    )


async def test_a_server_settles_its_start_up_heap_and_a_test_app_does_not(settings) -> None:
    before = gc.get_threshold()
    for server in (False, True):
        app = create_app(settings, server=server)
        try:
            async with app.router.lifespan_context(app):
                assert (gc.get_freeze_count() > 0) is server
                assert (gc.get_threshold()[0] == YOUNG_OBJECTS_BEFORE_COLLECTING) is server
        finally:
            gc.unfreeze()
            gc.set_threshold(*before)


@pytest.mark.parametrize(
    "stored",
    [
        "2026-03-01 08:15:30.250000",  # SQLite's text
        "2026-03-01T08:15:30+00:00",
        datetime(2026, 3, 1, 8, 15, 30, 250000, tzinfo=UTC),  # asyncpg's aware datetime
        datetime(2026, 3, 1, 8, 15, 30),  # naive: taken as UTC
    ],
)
def test_a_stored_time_shows_as_utc_to_the_second_from_either_engine(stored: object) -> None:
    for _ in range(2):  # the second answer comes from the kept one, and is the same
        assert render("{{ t|iso }}", t=stored) == "2026-03-01T08:15:30Z"


def test_how_long_ago_follows_the_clock_not_the_first_answer(monkeypatch) -> None:
    written = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    monkeypatch.setattr(time, "time", lambda: written.timestamp() + 30)
    assert render("{{ t|ago }}", t=written) == "just now"
    monkeypatch.setattr(time, "time", lambda: written.timestamp() + 3 * 3600 + 5)
    assert render("{{ t|ago }}", t=written) == "3 hours ago"
    assert render("{{ t|ago }}{{ t|iso }}", t=None) == ""


class _SaysSafe:
    def __html__(self) -> str:
        return "<b>already safe</b>"


@pytest.mark.parametrize(
    "value",
    [
        "<script>alert('x')</script> & \"quoted\"",
        "plain",
        "",
        42,
        None,
        Markup("<em>marked safe</em>"),
        _SaysSafe(),
        ["<list>"],
    ],
)
def test_what_a_template_writes_is_escaped_exactly_as_markupsafe_escapes_it(value) -> None:
    assert render("{{ v }}|{% set b %}{{ v }}{% endset %}{{ b }}", v=value) == (
        f"{escape(value)}|{escape(value)}"
    )


def test_the_templates_write_through_the_quicker_escape() -> None:
    # If a Jinja release stops looking `escape` up among a template's globals, this says so
    # (and pages fall back to markupsafe's escape, the same text but slower).
    for name in ("base.html", "threads/thread.html"):
        template = create_templates().env.get_template(name)
        assert template.root_render_func.__globals__["escape"] is render_module._escape
