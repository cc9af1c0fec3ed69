"""The JSON API's plumbing: one registry of routes that also writes the OpenAPI document,
JSON bodies read safely, and errors in the shape API.md gives."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from forum.errors import Forbidden, Invalid, KindredError, TooLarge
from forum.pagination import DEFAULT_PER_PAGE, MAX_PER_PAGE, Page
from forum.permissions import Viewer
from forum.validation import positive_int
from forum.web.session import check_api_csrf, get_viewer

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Operation:
    """One documented API route."""

    method: str
    path: str
    summary: str
    handler: Handler
    body: dict[str, Any] | None = None
    response: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    status: int = 200
    auth: bool = False
    query: tuple[tuple[str, dict[str, Any]], ...] = ()
    tag: str = "forum"


REGISTRY: list[Operation] = []


def operation(
    method: str,
    path: str,
    summary: str,
    *,
    body: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    status: int = 200,
    auth: bool = False,
    query: tuple[tuple[str, dict[str, Any]], ...] = (),
    tag: str = "forum",
) -> Callable[[Handler], Handler]:
    """Register a handler under /api/v1 with what the OpenAPI document says about it."""

    def register(handler: Handler) -> Handler:
        REGISTRY.append(
            Operation(
                method,
                path,
                summary,
                handler,
                body,
                response or {"type": "object"},
                status,
                auth,
                query,
                tag,
            )
        )
        return handler

    return register


def routes() -> list[Route]:
    """Starlette routes for every registered operation, grouped by path."""
    by_path: dict[str, dict[str, Handler]] = {}
    for op in REGISTRY:
        by_path.setdefault(op.path, {})[op.method] = op.handler
    result = []
    for path, handlers in by_path.items():
        starlette_path = "/api/v1" + path.replace("{id}", "{id:int}")

        async def dispatch(request: Request, handlers: dict[str, Handler] = handlers) -> Response:
            return await handlers[request.method](request)

        result.append(Route(starlette_path, dispatch, methods=list(handlers)))
    return result


def string(
    max_length: int, *, min_length: int = 0, enum: list[str] | None = None, **extra: Any
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "maxLength": max_length, **extra}
    if min_length:
        schema["minLength"] = min_length
    if enum:
        schema["enum"] = enum
    return schema


def obj(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def list_of(item: dict[str, Any]) -> dict[str, Any]:
    return obj(
        {
            "items": {"type": "array", "items": item},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
        },
        ["items", "page", "per_page", "total"],
    )


PAGING = (
    ("page", {"type": "integer", "minimum": 1}),
    ("per_page", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}),
)


def paging(request: Request) -> tuple[int, int]:
    query = request.query_params
    return (
        positive_int(query.get("page"), 1, maximum=100_000),
        positive_int(query.get("per_page"), DEFAULT_PER_PAGE, maximum=MAX_PER_PAGE),
    )


def page_json(page: Page[Any], items: list[Any]) -> dict[str, Any]:
    return page.as_json(items)


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, or a 4xx that says what is wrong with it."""
    content_type = request.headers.get("content-type", "")
    if content_type and "json" not in content_type:
        raise Invalid(
            {"body": "Send JSON with Content-Type: application/json."}, "Expected a JSON body."
        )
    raw = await request.body()
    if len(raw) > request.app.state.settings.max_body_bytes:
        raise TooLarge("That request is too large.")
    if not raw.strip():
        raise Invalid(
            {"body": "The request body is empty; send a JSON object."}, "Expected a JSON body."
        )
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Invalid({"body": "The request body is not valid JSON."}, "Malformed JSON.") from None
    if not isinstance(value, dict):
        raise Invalid({"body": "Send a JSON object ({...})."}, "Expected a JSON object.")
    if b"\\u0000" in raw:
        value = _without_nul(value)
    return value


def _without_nul(value: Any) -> Any:
    """`value` with NUL taken out of every string. Text fields drop control characters anyway;
    names and slugs must too, since PostgreSQL can't compare text that holds NUL."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


async def api_viewer(request: Request, *, required: bool = False) -> Viewer:
    """The caller; a bad token is a 401 even on public routes, so clients notice."""
    viewer = await get_viewer(request)
    if getattr(request.state, "auth", None) == "bad_token":
        from forum.errors import NotSignedIn

        raise NotSignedIn(
            "That token is invalid or has expired. Get a new one from /api/v1/auth/token."
        )
    check_api_csrf(request)
    if required and not viewer.signed_in:
        from forum.errors import NotSignedIn

        raise NotSignedIn("Sign in first: send Authorization: Bearer <token>.")
    return viewer


def ok(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)


def error_response(error: KindredError) -> JSONResponse:
    body: dict[str, Any] = {
        "error": {"code": error.code, "message": error.message, "fields": error.fields}
    }
    # Some errors carry more for programs, e.g. screening's `moderation` object.
    body["error"].update(getattr(error, "extra", None) or {})
    headers = {}
    retry_after = getattr(error, "retry_after", None)
    if retry_after is not None:
        headers["Retry-After"] = str(max(1, int(retry_after)))
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="kindred"'
    return JSONResponse(body, status_code=error.status, headers=headers)


def iso(value: Any) -> str | None:
    from forum.web.render import iso as to_iso

    return to_iso(value) or None


__all__ = ["Forbidden", "operation"]
