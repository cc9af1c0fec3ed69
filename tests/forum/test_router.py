"""Routes tried by first path segment (forum.web.router) pick what Starlette's router would."""

import re

import pytest
from starlette.routing import BaseRoute, Match

from forum.web.router import IndexedRouter

pytestmark = pytest.mark.sqlite_only  # routing does not touch the database

_PARAM = re.compile(r"{(\w+)(?::(\w+))?}")
_SAMPLE = {"int": "7", "path": "a/b.css", None: "x"}


def _sample_path(route: BaseRoute) -> str:
    path = getattr(route, "path", "/")
    return _PARAM.sub(lambda m: _SAMPLE.get(m.group(2), "x"), path) or "/"


def _starlettes_choice(routes: list[BaseRoute], scope: dict) -> BaseRoute | None:
    """The route Starlette's Router.app hands the request to: the first full match, else the
    first partial one."""
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return partial


def _scope(method: str, path: str) -> dict:
    return {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}


def test_every_route_is_found_as_starlette_would_find_it(app):
    router = app.router
    assert isinstance(router, IndexedRouter)
    paths = {_sample_path(route) for route in router.routes}
    paths |= {"/", "/t/7/", "/nowhere", "/api/v1/nowhere", "/static/"}
    for path in sorted(paths):
        for method in ("GET", "POST", "DELETE"):
            scope = _scope(method, path)
            expected = _starlettes_choice(router.routes, scope)
            chosen = _starlettes_choice(router._candidates(path), scope)
            assert chosen is expected, (method, path)


async def test_a_thread_path_with_the_wrong_method_is_405_not_404(client):
    assert (await client.delete("/t/1")).status_code == 405


async def test_a_path_with_a_stray_slash_still_redirects_and_unknown_paths_are_404(client):
    response = await client.get("/login/")
    assert response.status_code in (301, 307) and response.headers["location"].endswith("/login")
    assert (await client.get("/no/such/page")).status_code == 404
