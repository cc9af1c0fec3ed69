"""Atom feeds: /c/{slug}/feed.atom, /u/{username}/feed.atom and /t/{id}/feed.atom."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum import feeds
from forum.web.session import settings_of


def _atom(feed: feeds.Feed) -> Response:
    return Response(
        feeds.render(feed),
        media_type=feeds.MEDIA_TYPE,
        headers={"Cache-Control": "public, max-age=300"},
    )


def _base(request: Request) -> str:
    return settings_of(request).base_url.rstrip("/")


async def community_feed(request: Request) -> Response:
    return _atom(await feeds.community_feed(_base(request), request.path_params["slug"]))


async def blog_feed(request: Request) -> Response:
    return _atom(await feeds.blog_feed(_base(request), request.path_params["username"]))


async def thread_feed(request: Request) -> Response:
    return _atom(await feeds.thread_feed(_base(request), request.path_params["thread_id"]))


routes = [
    Route("/c/{slug}/feed.atom", community_feed),
    Route("/u/{username}/feed.atom", blog_feed),
    Route("/t/{thread_id:int}/feed.atom", thread_feed),
]
