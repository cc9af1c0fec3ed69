"""GET /api/v1/openapi.json: the OpenAPI 3.1 document, written from the route registry."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from forum.api.base import REGISTRY, Operation, obj, operation

ERROR = obj(
    {
        "error": obj(
            {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            ["code", "message", "fields"],
        )
    },
    ["error"],
)
ERROR_STATUSES = {
    "400": "Bad request", "401": "Not signed in", "403": "Not allowed", "404": "Not found",
    "409": "Conflict", "413": "Too large", "422": "Invalid input", "429": "Too many requests",
}  # fmt: skip


def _operation(op: Operation) -> dict[str, Any]:
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 1}
            if name == "id"
            else {"type": "string", "maxLength": 64},
        }
        for name in _path_names(op.path)
    ]
    parameters += [
        {"name": name, "in": "query", "required": False, "schema": schema}
        for name, schema in op.query
    ]
    responses: dict[str, Any] = {
        str(op.status): {
            "description": "Success",
            "content": {"application/json": {"schema": op.response}},
        }
    }
    for status, description in ERROR_STATUSES.items():
        responses[status] = {
            "description": description,
            "content": {"application/json": {"schema": ERROR}},
        }
    result: dict[str, Any] = {
        "summary": op.summary,
        "operationId": f"{op.method.lower()}_{op.path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
        "tags": [op.tag],
        "parameters": parameters,
        "responses": responses,
    }
    if op.body is not None:
        result["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": op.body}},
        }
    if op.auth:
        result["security"] = [{"bearer": []}]
    return result


def _path_names(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for op in REGISTRY:
        paths.setdefault("/api/v1" + op.path, {})[op.method.lower()] = _operation(op)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Kindred API", "version": "1"},
        "paths": paths,
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


@operation("GET", "/openapi.json", "This document", tag="meta")
async def openapi(request: Request) -> Response:
    return JSONResponse(document())
