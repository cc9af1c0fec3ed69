"""Starlette's router, trying only the routes that can match a path's first segment.

Starlette tries every route in turn, a regular expression each: about 90 of them before the
thread page's, a tenth of the app's own time on a page read (docs/performance.md). Routes are
grouped once by the first segment of their path ("t" for /t/{thread_id:int}); a request tries
its segment's routes and those whose first segment is a parameter, in the order they were
declared, so what matches is what Starlette alone would have matched.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Match, Mount, Route, Router, get_route_path
from starlette.types import Receive, Scope, Send

# A route whose first segment is a parameter, or which has no path we can read: tried always.
_ANY = None


def _first_segment(route: BaseRoute) -> str | None:
    path = route.path if isinstance(route, Route | Mount) else None
    if path is None:
        return _ANY
    segment = path.lstrip("/").split("/", 1)[0]
    return _ANY if "{" in segment else segment


class IndexedRouter(Router):
    """A Router whose `app` tries fewer routes; everything else is Starlette's."""

    _index: dict[str, list[BaseRoute]]
    _always: list[BaseRoute]
    _indexed_count: int = -1

    def _candidates(self, path: str) -> list[BaseRoute]:
        if self._indexed_count != len(self.routes):  # built on first use, again if routes change
            segments = [_first_segment(route) for route in self.routes]
            self._always = [r for r, s in zip(self.routes, segments, strict=True) if s is _ANY]
            self._index = {
                segment: [
                    r for r, s in zip(self.routes, segments, strict=True) if s in (segment, _ANY)
                ]
                for segment in set(segments)
                if segment is not _ANY
            }
            self._indexed_count = len(self.routes)
        return self._index.get(path.lstrip("/").split("/", 1)[0], self._always)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await super().app(scope, receive, send)
            return
        if "router" not in scope:
            scope["router"] = self
        partial = partial_scope = None
        for route in self._candidates(get_route_path(scope)):
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
            if match is Match.PARTIAL and partial is None:
                partial, partial_scope = route, child_scope
        if partial is not None:  # e.g. the right path with the wrong method: 405
            scope["route"] = partial
            scope.update(partial_scope or {})
            await partial.handle(scope, receive, send)
            return
        # No route: Starlette's own answer (a slash added or taken away, else 404). It tries
        # every route again, which only unknown paths pay for.
        await super().app(scope, receive, send)
