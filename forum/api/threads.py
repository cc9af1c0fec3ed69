"""API routes for reading threads and writing posts."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from forum import threads
from forum.api.base import PAGING, api_viewer, iso, json_body, obj, ok, operation, paging, string
from forum.api.communities import ANONYMOUS, CONFIRM_PHI, MODERATION, confirm_phi
from forum.api.people import EXPERIENCE, REACTIONS, experience_json, reactions_json
from forum.web.session import settings_of

POST = obj(
    {
        "id": {"type": "integer"},
        "author": {"type": ["string", "null"]},
        "author_display_name": {"type": ["string", "null"]},
        "body_html": {"type": "string"},
        "status": {"type": "string"},
        "placeholder": {"type": ["string", "null"]},
        "label": {"type": ["string", "null"]},
        "created_at": {"type": "string"},
        "edited_at": {"type": ["string", "null"]},
        "author_credential": {
            "type": ["string", "null"],
            "description": "the author's clinician credential when posting; null if not verified",
        },
        "experience": {"oneOf": [EXPERIENCE, {"type": "null"}]},
        "reactions": {"oneOf": [REACTIONS, {"type": "null"}]},
        "accepted": {"type": "boolean"},
        "anonymous": {
            "type": "boolean",
            "description": "posted as an anonymous member: author is null and "
            "author_display_name is its pseudonym",
        },
    },
    ["id", "author", "body_html", "status"],
)


def post_json(row: dict[str, Any]) -> dict[str, Any]:
    hidden = bool(row.get("placeholder"))
    return {
        "id": row["id"],
        "author": None if hidden else row.get("author_username"),
        "author_display_name": None if hidden else row.get("author_display_name"),
        "body_html": row["body_html"],
        "status": row["status"],
        "placeholder": row.get("placeholder"),
        "label": None if hidden else row.get("label"),
        "created_at": iso(row["created_at"]),
        "edited_at": iso(row.get("edited_at")),
        "author_credential": None if hidden else row.get("author_credential"),
        "experience": experience_json(row["experience"]) if row.get("experience") else None,
        "reactions": reactions_json(row.get("reactions")),
        "accepted": bool(row.get("accepted")),
        "anonymous": row.get("author_alias") == "anonymous",
    }


@operation(
    "GET",
    "/threads/{id}",
    "A thread with one page of its posts",
    query=PAGING,
    response=obj(
        {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "kind": {"type": "string"},
            "community": {"type": "string"},
            "status": {"type": "string"},
            "expert_answered": {"type": "boolean"},
            "accepted_post": {"type": ["integer", "null"]},
            "specialty": {"type": ["string", "null"]},
            "reply_count": {"type": "integer"},
            "posts": {"type": "array", "items": POST},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
        },
        ["id", "title", "kind", "community", "status", "expert_answered", "posts"],
    ),
)
async def get_thread(request: Request) -> Response:
    viewer = await api_viewer(request)
    page, per_page = paging(request)
    data = await threads.get_thread(viewer, request.path_params["id"], page=page, per_page=per_page)
    thread, posts = data["thread"], data["posts"]
    return ok(
        {
            "id": thread["id"],
            "title": thread["title"],
            "kind": thread["kind"],
            "community": data["community"]["slug"],
            "status": thread["status"],
            "expert_answered": bool(thread["expert_answered"]),
            "accepted_post": thread.get("accepted_post"),
            "specialty": thread.get("specialty"),
            "reply_count": thread["reply_count"],
            "posts": [post_json(row) for row in posts.items],
            "page": posts.page,
            "per_page": posts.per_page,
            "total": posts.total,
        }
    )


@operation(
    "POST",
    "/threads/{id}/posts",
    "Reply to a thread",
    auth=True,
    status=201,
    body=obj(
        {
            "body": string(20000, min_length=1),
            "confirm_phi": CONFIRM_PHI,
            "anonymous": ANONYMOUS,
        },
        ["body"],
    ),
    response=obj(
        {
            "id": {"type": "integer"},
            "status": {"type": "string"},
            "anonymous": {"type": "boolean"},
            "pseudonym": {"type": ["string", "null"]},
            "moderation": MODERATION,
        },
        ["id", "status", "moderation"],
    ),
)
async def reply(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    created = await threads.post_reply(
        settings_of(request),
        viewer,
        request.path_params["id"],
        body.get("body"),
        confirm_phi=confirm_phi(body),
        anonymous=body.get("anonymous") is True,
    )
    return ok(
        {
            "id": created["id"],
            "status": created["status"],
            "anonymous": created["anonymous"],
            "pseudonym": created["pseudonym"],
            "moderation": created["moderation"],
        },
        201,
    )


@operation("GET", "/posts/{id}", "One post", response=POST)
async def get_post(request: Request) -> Response:
    viewer = await api_viewer(request)
    return ok(post_json(await threads.get_post(viewer, request.path_params["id"])))


@operation(
    "PATCH",
    "/posts/{id}",
    "Edit a post (author or moderator); the old version is kept",
    auth=True,
    body=obj(
        {
            "body": string(20000, min_length=1),
            "title": string(200, min_length=5),
            "confirm_phi": CONFIRM_PHI,
        },
        ["body"],
    ),
    response={**POST, "properties": {**POST["properties"], "moderation": MODERATION}},
)
async def edit(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    post = await threads.edit_post(
        viewer,
        request.path_params["id"],
        body.get("body"),
        title=body.get("title"),
        settings=settings_of(request),
        confirm_phi=confirm_phi(body),
    )
    return ok({**post_json(post), "moderation": post["moderation"]})


@operation(
    "DELETE",
    "/posts/{id}",
    "Delete your own post",
    auth=True,
    response=obj({"id": {"type": "integer"}, "status": {"type": "string"}}),
)
async def delete(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    post = await threads.delete_post(viewer, request.path_params["id"])
    return ok({"id": post["id"], "status": post["status"]})
