"""The page environment: what templates get for missing values and rows."""

import gc

import jinja2
import pytest

from forum.app import YOUNG_OBJECTS_BEFORE_COLLECTING, create_app
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
