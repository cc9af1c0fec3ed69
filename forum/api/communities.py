"""API routes for communities and the threads in them."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from forum import admin, communities, threads
from forum.api.base import (
    PAGING,
    api_viewer,
    iso,
    json_body,
    list_of,
    obj,
    ok,
    operation,
    page_json,
    paging,
    string,
)
from forum.clinicians import SPECIALTY_KEYS
from forum.web.session import settings_of

COMMUNITY = obj(
    {
        "id": {"type": "integer"},
        "slug": {"type": "string"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "description_html": {"type": "string"},
        "visibility": {"type": "string", "enum": ["public", "private"]},
        "member_count": {"type": "integer"},
        "is_member": {"type": "boolean"},
        "allow_anonymous": {
            "type": "boolean",
            "description": "members may post threads and replies anonymously here",
        },
    },
    ["id", "slug", "name", "visibility"],
)
THREAD_SUMMARY = obj(
    {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "kind": {"type": "string"},
        "status": {"type": "string"},
        "reply_count": {"type": "integer"},
        "expert_answered": {"type": "boolean"},
        "author": {
            "type": ["string", "null"],
            "description": "username; null when started anonymously or under a name used "
            "only in this community",
        },
        "author_display_name": {"type": ["string", "null"]},
        "anonymous": {"type": "boolean"},
        "created_at": {"type": "string"},
        "last_activity_at": {"type": "string"},
    },
    ["id", "title", "kind", "status", "reply_count"],
)
MODERATION = obj(
    {
        "action": {"type": "string", "enum": ["publish", "label", "hold", "reject", "escalate"]},
        "reasons": {
            "type": "array",
            "items": obj(
                {
                    "family": {
                        "type": "string",
                        "enum": [
                            "misinformation",
                            "phi",
                            "crisis",
                            "watched_word",
                            "link",
                            "trust",
                        ],
                    },
                    "rule": {"type": "string"},
                    "message": {"type": "string"},
                },
                ["family", "rule", "message"],
            ),
        },
        "label": {"type": "string"},
        "resources": {
            "type": "array",
            "items": obj(
                {
                    "name": {"type": "string"},
                    "contact": {"type": "string"},
                    "url": {"type": "string"},
                }
            ),
        },
    },
    ["action", "reasons"],
)
CONFIRM_PHI = {
    "type": "boolean",
    "description": "Post anyway after a phi_warning; the post is then held for a moderator.",
}
ANONYMOUS = {
    "type": "boolean",
    "description": "Post as “Anonymous member N” where the community allows it; once "
    "anonymous in a thread, replies there stay anonymous.",
}


def confirm_phi(body: dict[str, Any]) -> bool:
    """`confirm_phi` from a JSON body: only a real true counts."""
    return body.get("confirm_phi") is True


def community_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "slug": row["slug"],
        "name": row["name"],
        "description": row["description"],
        "description_html": row["description_html"],
        "visibility": row["visibility"],
        "member_count": row.get("member_count"),
        "is_member": row.get("is_member", False),
        "allow_anonymous": bool(row.get("allow_anonymous")),
    }


def thread_summary_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "kind": row["kind"],
        "status": row["status"],
        "reply_count": row["reply_count"],
        "expert_answered": bool(row["expert_answered"]),
        "author": row.get("author_username"),
        "author_display_name": row.get("author_display_name"),
        "anonymous": bool(row.get("anonymous")),
        "created_at": iso(row["created_at"]),
        "last_activity_at": iso(row["last_activity_at"]),
    }


@operation(
    "GET", "/communities", "Communities you may see", query=PAGING, response=list_of(COMMUNITY)
)
async def list_communities(request: Request) -> Response:
    viewer = await api_viewer(request)
    page, per_page = paging(request)
    listing = await communities.list_communities(viewer, page, per_page)
    return ok(page_json(listing, [community_json(row) for row in listing.items]))


@operation(
    "POST",
    "/communities",
    "Create a community (admins)",
    auth=True,
    status=201,
    body=obj(
        {
            "slug": string(48, min_length=2),
            "name": string(80, min_length=2),
            "description": string(4000),
            "visibility": string(16, enum=["public", "private"]),
        },
        ["slug", "name"],
    ),
    response=COMMUNITY,
)
async def create_community(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    row = await admin.create_community(  # logged in the moderation log
        viewer,
        slug=body.get("slug"),
        name=body.get("name"),
        description=body.get("description") or "",
        visibility=body.get("visibility") or "public",
    )
    return ok(community_json(row), 201)


@operation("GET", "/communities/{slug}", "One community", response=COMMUNITY)
async def get_community(request: Request) -> Response:
    viewer = await api_viewer(request)
    return ok(community_json(await communities.get_community(viewer, request.path_params["slug"])))


@operation(
    "POST",
    "/communities/{slug}/join",
    "Join a public community; one with guidelines needs their current version accepted",
    auth=True,
    body=obj(
        {
            "accept_guidelines_version": {
                "type": "integer",
                "minimum": 1,
                "description": "the version of the community's guidelines you accept "
                "(GET /communities/{slug}/guidelines); needed when it has guidelines",
            }
        }
    ),
    response=obj({"joined": {"type": "boolean"}, "community": {"type": "string"}}),
)
async def join(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    # The body is optional: communities without guidelines need nothing.
    body = await json_body(request) if (await request.body()).strip() else {}
    community = await communities.join(
        viewer, request.path_params["slug"], body.get("accept_guidelines_version")
    )
    return ok({"joined": True, "community": community["slug"]})


@operation(
    "POST",
    "/communities/{slug}/leave",
    "Leave a community",
    auth=True,
    response=obj({"left": {"type": "boolean"}, "community": {"type": "string"}}),
)
async def leave(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    community = await communities.leave(viewer, request.path_params["slug"])
    return ok({"left": True, "community": community["slug"]})


@operation(
    "GET",
    "/communities/{slug}/threads",
    "Threads of a community, most recently active first",
    query=(
        *PAGING,
        ("kind", {"type": "string", "enum": ["discussion", "ask_clinician"]}),
        (
            "expert_answered",
            {"type": "boolean", "description": "only threads a verified clinician answered"},
        ),
    ),
    response=list_of(THREAD_SUMMARY),
)
async def list_threads(request: Request) -> Response:
    viewer = await api_viewer(request)
    page, per_page = paging(request)
    _, listing = await threads.list_threads(
        viewer,
        request.path_params["slug"],
        page=page,
        per_page=per_page,
        kind=request.query_params.get("kind"),
        expert_answered=request.query_params.get("expert_answered", "").lower()
        in ("1", "true", "yes"),
    )
    return ok(page_json(listing, [thread_summary_json(row) for row in listing.items]))


@operation(
    "POST",
    "/communities/{slug}/threads",
    "Start a thread",
    auth=True,
    status=201,
    body=obj(
        {
            "title": string(200, min_length=5),
            "body": string(20000, min_length=1),
            "kind": string(20, enum=["discussion", "ask_clinician"]),
            "specialty": string(
                40, enum=list(SPECIALTY_KEYS), description="for ask_clinician: who should answer"
            ),
            "confirm_phi": CONFIRM_PHI,
            "anonymous": ANONYMOUS,
        },
        ["title", "body"],
    ),
    response=obj(
        {
            "id": {"type": "integer"},
            "status": {"type": "string"},
            "post_id": {"type": "integer"},
            "anonymous": {"type": "boolean"},
            "moderation": MODERATION,
        },
        ["id", "status", "post_id", "moderation"],
    ),
)
async def start_thread(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    created = await threads.start_thread(
        settings_of(request),
        viewer,
        request.path_params["slug"],
        threads.Draft(
            title=body.get("title"),  # type: ignore[arg-type]
            body=body.get("body"),  # type: ignore[arg-type]
            kind=body.get("kind") or "discussion",
            confirm_phi=confirm_phi(body),
            specialty=body.get("specialty") or "",
            anonymous=body.get("anonymous") is True,
        ),
    )
    return ok(
        {
            "id": created["id"],
            "status": created["status"],
            "post_id": created["post_id"],
            "anonymous": created["anonymous"],
            "moderation": created["moderation"],
        },
        201,
    )
