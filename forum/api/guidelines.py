"""API routes for community guidelines: reading them, publishing a new version (moderators) and
accepting the current one. Joining (POST /communities/{slug}/join) takes the accepted version."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from forum import communities, guidelines
from forum.api.base import api_viewer, iso, json_body, obj, ok, operation, string

TAG = "communities"
GUIDELINES = obj(
    {
        "community": {"type": "string"},
        "version": {"type": "integer", "description": "0 when the community has none yet"},
        "body": {"type": "string"},
        "body_html": {"type": "string"},
        "note": {"type": "string", "description": "what changed in this version"},
        "created_at": {"type": ["string", "null"]},
        "accepted_version": {
            "type": "integer",
            "description": "the version you accepted (0: none); you must accept the current "
            "one before posting here",
        },
    },
    ["community", "version"],
)


def _json(community: dict[str, Any], row: dict[str, Any] | None, accepted: int) -> dict[str, Any]:
    return {
        "community": community["slug"],
        "version": row["version"] if row else 0,
        "body": row["body"] if row else "",
        "body_html": row["body_html"] if row else "",
        "note": row["note"] if row else "",
        "created_at": iso(row["created_at"]) if row else None,
        "accepted_version": accepted,
    }


@operation(
    "GET",
    "/communities/{slug}/guidelines",
    "A community's current guidelines",
    tag=TAG,
    response=GUIDELINES,
)
async def get_guidelines(request: Request) -> Response:
    viewer = await api_viewer(request)
    community = await communities.get_community(viewer, request.path_params["slug"])
    state = await guidelines.state(viewer, community)
    row = await guidelines.current(community["id"])
    return ok(_json(community, row, state["accepted_version"]))


@operation(
    "POST",
    "/communities/{slug}/guidelines",
    "Publish a new version of a community's guidelines (its moderators); members are asked "
    "to accept it",
    tag=TAG,
    auth=True,
    status=201,
    body=obj(
        {"body": string(guidelines.BODY_MAX, min_length=1), "note": string(guidelines.NOTE_MAX)},
        ["body"],
    ),
    response=GUIDELINES,
)
async def publish(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    row = await guidelines.publish(
        viewer, request.path_params["slug"], body.get("body"), body.get("note") or ""
    )
    community = await communities.get_community(viewer, request.path_params["slug"])
    return ok(_json(community, row, 0), 201)


@operation(
    "POST",
    "/communities/{slug}/guidelines/accept",
    "Accept the current version of a community's guidelines",
    tag=TAG,
    auth=True,
    body=obj({"version": {"type": "integer", "minimum": 1}}, ["version"]),
    response=obj(
        {"community": {"type": "string"}, "accepted_version": {"type": "integer"}},
        ["community", "accepted_version"],
    ),
)
async def accept(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    return ok(await guidelines.accept(viewer, request.path_params["slug"], body.get("version")))
