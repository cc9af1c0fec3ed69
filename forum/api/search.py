"""GET /api/v1/search: what the caller may find, with snippets that are safe HTML."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from forum.api.base import api_viewer, list_of, obj, ok, operation, string
from forum.validation import positive_int
from search import service

ITEM = obj(
    {
        "kind": {"type": "string", "enum": ["thread", "story"]},
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "snippet_html": {
            "type": "string",
            "description": "Escaped text; matched words in <mark>, no other markup.",
        },
        "url": {"type": "string"},
        "community": {"type": ["string", "null"]},
        "score": {"type": "number"},
    },
    ["kind", "id", "title", "snippet_html", "url", "community", "score"],
)
RESPONSE = list_of(ITEM)
RESPONSE["properties"]["suggestion"] = {
    "type": ["string", "null"],
    "description": "A corrected query that finds something, when this one found nothing.",
}
RESPONSE["properties"]["notes"] = {"type": "array", "items": {"type": "string"}}


@operation(
    "GET",
    "/search",
    'Search threads (and stories): words, "phrases", -exclusions and filters',
    query=(
        ("q", string(200)),
        ("community", string(48)),
        ("kind", string(16, enum=["thread", "story"])),
        ("page", {"type": "integer", "minimum": 1, "maximum": service.MAX_PAGE}),
        ("per_page", {"type": "integer", "minimum": 1, "maximum": service.MAX_PER_PAGE}),
    ),
    response=RESPONSE,
    tag="search",
)
async def search(request: Request) -> Response:
    viewer = await api_viewer(request)
    params = request.query_params
    results = await service.search(
        request.app.state.search_index,
        viewer,
        params.get("q", ""),
        community=params.get("community") or None,
        kind=params.get("kind") or None,
        page=positive_int(params.get("page"), 1, maximum=service.MAX_PAGE),
        per_page=positive_int(
            params.get("per_page"), service.PER_PAGE, maximum=service.MAX_PER_PAGE
        ),
    )
    return ok(
        {
            "items": [
                {
                    "kind": item.kind,
                    "id": item.id,
                    "title": item.title,
                    "snippet_html": item.snippet_html,
                    "url": item.url,
                    "community": item.community,
                    "score": item.score,
                }
                for item in results.items
            ],
            "total": results.total,
            "page": results.page,
            "per_page": results.per_page,
            "suggestion": results.suggestion,
            "notes": list(results.notes),
        }
    )
