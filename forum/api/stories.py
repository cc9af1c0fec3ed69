"""API routes for stories: listing, writing, publishing (with consent), editing, withdrawing,
comments, and flagging stories and comments."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from forum import stories
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
from forum.api.communities import CONFIRM_PHI, MODERATION, confirm_phi
from forum.errors import Invalid
from forum.web.session import settings_of
from moderation import flags
from moderation.posting import rules_for

TAG = "stories"
WARNINGS = {
    "type": "array",
    "items": string(stories.WARNING_MAX),
    "maxItems": stories.WARNINGS_MAX,
    "description": "Content warnings readers click through first, e.g. “pregnancy loss”.",
}
CONFIRM_CONSENT = {
    "type": "boolean",
    "description": "Required (true) the first time a story is published: the author has the "
    "consent of anyone identifiable in it.",
}
MAYBE_MODERATION = {"oneOf": [MODERATION, {"type": "null"}]}
STORY_SUMMARY = obj(
    {
        "id": {"type": "integer"},
        "title": {"type": "string"},
        "summary": {"type": "string"},
        "status": {"type": "string"},
        "author": {"type": ["string", "null"]},
        "community": {"type": ["string", "null"]},
        "content_warnings": WARNINGS,
        "comment_count": {"type": "integer"},
        "published_at": {"type": ["string", "null"]},
    },
    ["id", "title", "status", "content_warnings"],
)
COMMENT = obj(
    {
        "id": {"type": "integer"},
        "author": {"type": ["string", "null"]},
        "body_html": {"type": "string"},
        "status": {"type": "string"},
        "placeholder": {"type": ["string", "null"]},
        "label": {"type": ["string", "null"]},
        "created_at": {"type": "string"},
    },
    ["id", "author", "body_html", "status"],
)
STORY = obj(
    {
        **STORY_SUMMARY["properties"],
        "body_html": {"type": "string"},
        "label": {"type": ["string", "null"]},
        "edited_at": {"type": ["string", "null"]},
        "consent_confirmed_at": {"type": ["string", "null"]},
        "comments": {"type": "array", "items": COMMENT},
    },
    ["id", "title", "author", "body_html", "status", "content_warnings", "comments"],
)
WRITTEN = obj(
    {
        "id": {"type": "integer"},
        "status": {"type": "string"},
        "community": {"type": ["string", "null"]},
        "moderation": MAYBE_MODERATION,
    },
    ["id", "status", "moderation"],
)
FLAG_BODY = obj(
    {
        "reason": string(
            16,
            enum=["misinformation", "spam", "harassment", "privacy", "crisis", "other"],
        ),
        "note": string(1000),
    },
    ["reason"],
)
FLAG = obj({"id": {"type": "integer"}, "item_id": {"type": "integer"}, "state": {"type": "string"}})


def summary_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "title": row["title"],
        "summary": row["summary"],
        "status": row["status"],
        "author": row.get("author_username"),
        "community": row.get("community_slug"),
        "content_warnings": row["warnings"],
        "comment_count": row["comment_count"],
        "published_at": iso(row["published_at"]),
    }


def comment_json(row: dict[str, Any]) -> dict[str, Any]:
    hidden = bool(row.get("placeholder"))
    return {
        "id": row["id"],
        "author": None if hidden else row.get("author_username"),
        "body_html": row["body_html"],
        "status": row["status"],
        "placeholder": row.get("placeholder"),
        "label": None if hidden else row.get("label"),
        "created_at": iso(row["created_at"]),
    }


def _draft(body: dict[str, Any], current: dict[str, Any] | None = None) -> stories.StoryDraft:
    """A draft from a JSON body; on PATCH, fields left out keep their current values."""
    current = current or {}

    def value(name: str, default: Any = "") -> Any:
        return body[name] if name in body else current.get(name, default)

    warnings = body.get("content_warnings", current.get("warnings", []))
    if warnings is not None and not isinstance(warnings, list):
        raise Invalid({"content_warnings": "Send content warnings as a list of short phrases."})
    return stories.StoryDraft(
        title=value("title"),
        body=value("body"),
        summary=value("summary"),
        community=value("community") or "",
        content_warnings=warnings or [],
    )


def _flag_value(body: dict[str, Any], name: str) -> bool:
    return body.get(name) is True


@operation(
    "GET",
    "/stories",
    "Published stories you may see, newest first",
    query=(*PAGING, ("community", {"type": "string", "maxLength": 48})),
    response=list_of(STORY_SUMMARY),
    tag=TAG,
)
async def list_stories(request: Request) -> Response:
    viewer = await api_viewer(request)
    page, per_page = paging(request)
    _, listing = await stories.list_stories(
        viewer, page=page, per_page=per_page, community=request.query_params.get("community")
    )
    return ok(page_json(listing, [summary_json(row) for row in listing.items]))


@operation(
    "POST",
    "/stories",
    "Write a story: a draft, or published at once with `confirm_consent` (and `publish`, "
    "which defaults to whether consent was confirmed)",
    auth=True,
    status=201,
    body=obj(
        {
            "title": string(stories.TITLE_MAX, min_length=stories.TITLE_MIN),
            "body": string(stories.BODY_MAX, min_length=1),
            "summary": string(stories.SUMMARY_MAX),
            "community": string(
                48, description="A community's slug; leave out for your blog alone"
            ),
            "content_warnings": WARNINGS,
            "publish": {"type": "boolean"},
            "confirm_consent": CONFIRM_CONSENT,
            "confirm_phi": CONFIRM_PHI,
        },
        ["title", "body"],
    ),
    response=WRITTEN,
    tag=TAG,
)
async def create(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    created = await stories.create_story(
        settings_of(request),
        viewer,
        _draft(body),
        # Published at once when asked to, or when consent comes with it; a draft otherwise.
        publish=_flag_value(body, "publish" if "publish" in body else "confirm_consent"),
        confirm_consent=_flag_value(body, "confirm_consent"),
        confirm_phi=confirm_phi(body),
    )
    return ok(_written(created), 201)


def _written(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": result["id"],
        "status": result["status"],
        "community": result["community"],
        "moderation": result["moderation"],
    }


@operation("GET", "/stories/{id}", "A story with its comments", response=STORY, tag=TAG)
async def get_story(request: Request) -> Response:
    viewer = await api_viewer(request)
    data = await stories.get_story(viewer, request.path_params["id"])
    story, community, author = data["story"], data["community"], data["author"]
    return ok(
        {
            "id": story["id"],
            "title": story["title"],
            "summary": story["summary"],
            "status": story["status"],
            "author": author["username"] if author else None,
            "community": community["slug"] if community else None,
            "content_warnings": story["warnings"],
            "comment_count": story["comment_count"],
            "published_at": iso(story["published_at"]),
            "edited_at": iso(story["edited_at"]),
            "consent_confirmed_at": iso(story["consent_confirmed_at"]),
            "body_html": story["body_html"],
            "label": story["label"],
            "comments": [comment_json(row) for row in data["comments"]],
        }
    )


@operation(
    "PATCH",
    "/stories/{id}",
    "Change your story; a published one is screened again and keeps its earlier version",
    auth=True,
    body=obj(
        {
            "title": string(stories.TITLE_MAX, min_length=stories.TITLE_MIN),
            "body": string(stories.BODY_MAX, min_length=1),
            "summary": string(stories.SUMMARY_MAX),
            "community": string(48),
            "content_warnings": WARNINGS,
            "confirm_phi": CONFIRM_PHI,
        }
    ),
    response=WRITTEN,
    tag=TAG,
)
async def edit(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    data = await stories.get_story(viewer, request.path_params["id"])
    current = {
        **data["story"],
        "community": data["community"]["slug"] if data["community"] else "",
    }
    result = await stories.edit_story(
        settings_of(request),
        viewer,
        data["story"]["id"],
        _draft(body, current),
        confirm_phi=confirm_phi(body),
    )
    return ok(_written(result))


@operation(
    "POST",
    "/stories/{id}/publish",
    "Publish your draft (consent confirmed the first time)",
    auth=True,
    body=obj({"confirm_consent": CONFIRM_CONSENT, "confirm_phi": CONFIRM_PHI}),
    response=WRITTEN,
    tag=TAG,
)
async def publish(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    result = await stories.publish_story(
        settings_of(request),
        viewer,
        request.path_params["id"],
        confirm_consent=_flag_value(body, "confirm_consent"),
        confirm_phi=confirm_phi(body),
    )
    return ok(_written(result))


@operation(
    "POST",
    "/stories/{id}/withdraw",
    "Withdraw your story: nobody else can read it any more",
    auth=True,
    response=WRITTEN,
    tag=TAG,
)
async def withdraw(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    return ok(_written(await stories.withdraw_story(viewer, request.path_params["id"])))


@operation(
    "POST",
    "/stories/{id}/comments",
    "Comment on a story",
    auth=True,
    status=201,
    body=obj(
        {"body": string(stories.COMMENT_MAX, min_length=1), "confirm_phi": CONFIRM_PHI}, ["body"]
    ),
    response=obj(
        {"id": {"type": "integer"}, "status": {"type": "string"}, "moderation": MODERATION},
        ["id", "status", "moderation"],
    ),
    tag=TAG,
)
async def comment(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    created = await stories.post_comment(
        settings_of(request),
        viewer,
        request.path_params["id"],
        body.get("body"),
        confirm_phi=confirm_phi(body),
    )
    return ok(
        {"id": created["id"], "status": created["status"], "moderation": created["moderation"]},
        201,
    )


@operation(
    "DELETE",
    "/comments/{id}",
    "Delete your own comment",
    auth=True,
    response=obj({"id": {"type": "integer"}, "status": {"type": "string"}}),
    tag=TAG,
)
async def delete_comment(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    deleted = await stories.delete_comment(viewer, request.path_params["id"])
    return ok({"id": deleted["id"], "status": deleted["status"]})


async def _flag(request: Request, kind: str) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    result = await flags.flag_content(
        viewer,
        kind,
        request.path_params["id"],
        body.get("reason"),
        body.get("note") or "",
        rules=rules_for(settings_of(request).data_dir),
    )
    return ok({"id": result["id"], "item_id": result["item_id"], "state": result["state"]}, 201)


@operation(
    "POST",
    "/stories/{id}/flags",
    "Flag a story for the moderators",
    auth=True,
    status=201,
    body=FLAG_BODY,
    response=FLAG,
    tag=TAG,
)
async def flag_story(request: Request) -> Response:
    return await _flag(request, "story")


@operation(
    "POST",
    "/comments/{id}/flags",
    "Flag a comment for the moderators",
    auth=True,
    status=201,
    body=FLAG_BODY,
    response=FLAG,
    tag=TAG,
)
async def flag_comment(request: Request) -> Response:
    return await _flag(request, "comment")


@operation(
    "GET",
    "/users/{username}/stories",
    "A member's story blog (yours includes drafts and withdrawn stories)",
    query=PAGING,
    response=list_of(STORY_SUMMARY),
    tag=TAG,
)
async def blog(request: Request) -> Response:
    viewer = await api_viewer(request)
    page, per_page = paging(request)
    _, listing = await stories.blog(
        viewer, request.path_params["username"], page=page, per_page=per_page
    )
    return ok(page_json(listing, [summary_json(row) for row in listing.items]))
