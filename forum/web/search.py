"""The search page: GET /search?q=&community=&page=, reachable from every page's search box
and each community's own."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum.validation import positive_int
from forum.web.render import page
from forum.web.session import get_viewer
from search import service


async def search_page(request: Request) -> Response:
    viewer = await get_viewer(request)
    params = request.query_params
    text = params.get("q", "")
    community = params.get("community") or None
    results = await service.search(
        request.app.state.search_index,
        viewer,
        text,
        community=community,
        kind=params.get("kind") or None,
        page=positive_int(params.get("page"), 1, maximum=service.MAX_PAGE),
    )
    keep = {"q": text, **({"community": community} if community else {})}
    suggestion_url = None
    if results.suggestion:
        suggestion_url = "/search?" + urlencode(
            {"q": results.suggestion, **({"community": community} if community else {})}
        )
    return await page(
        request,
        "search/results.html",
        {
            "query": text,
            "results": results,
            "page_base": "/search?" + urlencode(keep) + "&",
            "suggestion_url": suggestion_url,
        },
    )


routes = [Route("/search", search_page)]
