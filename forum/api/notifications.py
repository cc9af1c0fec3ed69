"""API routes for notifications, follows and e-mail preferences."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from forum import follows, mail, notifications
from forum.api.base import (
    PAGING,
    api_viewer,
    iso,
    json_body,
    list_of,
    obj,
    ok,
    operation,
    paging,
    string,
)
from forum.errors import Invalid
from forum.tables import EMAIL_MODES, FOLLOW_KINDS
from forum.web.session import settings_of

TAG = "notifications"
NOTIFICATION = obj(
    {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": list(notifications.KINDS)},
        "text": {"type": "string"},
        "url": {"type": "string", "description": "Absolute address of what it is about"},
        "actor": {"type": ["string", "null"]},
        "read": {"type": "boolean"},
        "created_at": {"type": "string"},
    },
    ["id", "kind", "text", "url", "read", "created_at"],
)
FOLLOW = obj(
    {
        "kind": {"type": "string", "enum": list(FOLLOW_KINDS)},
        "id": {"type": "integer"},
        "key": {"type": "string"},
        "name": {"type": "string"},
        "url": {"type": "string"},
        "state": {"type": ["string", "null"], "enum": ["following", "muted", None]},
    },
    ["kind", "id", "state"],
)
EMAIL = obj(
    {
        "email": {"type": "string"},
        "mode": {"type": "string", "enum": list(EMAIL_MODES)},
        "time_zone": {
            "type": "string",
            "description": "IANA name; the daily digest comes around 7 in its mornings",
        },
    },
    ["email", "mode", "time_zone"],
)


def notification_json(row: dict[str, Any], base: str) -> dict[str, Any]:
    return {
        "id": row["id"],
        "kind": row["kind"],
        "text": row["text"],
        "url": base + row["url"],
        "actor": row.get("actor_username"),
        "read": not row["unread"],
        "created_at": iso(row["created_at"]),
    }


@operation(
    "GET",
    "/notifications",
    "Your notifications, newest first, with how many are unread",
    auth=True,
    query=(*PAGING, ("unread", {"type": "boolean"})),
    response={
        **list_of(NOTIFICATION),
        "properties": {**list_of(NOTIFICATION)["properties"], "unread": {"type": "integer"}},
    },
    tag=TAG,
)
async def list_notifications(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    page, per_page = paging(request)
    listing = await notifications.list_notifications(
        viewer,
        page=page,
        per_page=per_page,
        unread_only=request.query_params.get("unread") in ("1", "true"),
    )
    base = settings_of(request).base_url.rstrip("/")
    return ok(
        {
            **listing.as_json([notification_json(row, base) for row in listing.items]),
            "unread": await notifications.unread_count(viewer),
        }
    )


@operation(
    "POST",
    "/notifications/read",
    "Mark notifications as read: these ids, or all of them when `ids` is left out",
    auth=True,
    body=obj({"ids": {"type": "array", "items": {"type": "integer"}, "maxItems": 500}}),
    response=obj({"marked": {"type": "integer"}, "unread": {"type": "integer"}}),
    tag=TAG,
)
async def mark_read(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    ids = body.get("ids")
    if ids is not None and (
        not isinstance(ids, list)
        or len(ids) > 500
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids)
    ):
        raise Invalid({"ids": "Send a list of notification ids (at most 500), or leave it out."})
    marked = await notifications.mark_read(viewer, ids)
    return ok({"marked": marked, "unread": await notifications.unread_count(viewer)})


@operation(
    "GET", "/me/follows", "What you follow and mute", auth=True, response=obj({"items": {"type": "array", "items": FOLLOW}}), tag=TAG
)  # fmt: skip
async def my_follows(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    return ok({"items": await follows.list_follows(viewer)})


@operation(
    "POST",
    "/follows",
    "Follow, unfollow, mute or unmute: a thread or story by id, a community by slug, "
    "a member or their story blog by username",
    auth=True,
    body=obj(
        {
            "kind": string(16, enum=list(FOLLOW_KINDS)),
            "target": {"type": ["string", "integer"]},
            "action": string(16, enum=list(follows.ACTIONS)),
        },
        ["kind", "target", "action"],
    ),
    response=FOLLOW,
    tag=TAG,
)
async def change_follow(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    result = await follows.change(viewer, body.get("kind"), body.get("target"), body.get("action"))
    return ok(result)


@operation("GET", "/me/email", "Your e-mail address and how often Kindred e-mails you", auth=True, response=EMAIL, tag=TAG)  # fmt: skip
async def get_email(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    return ok(await mail.email_settings(viewer))


@operation(
    "PUT",
    "/me/email",
    "Choose no e-mail, each notification at once, or a daily digest, and the time zone whose "
    "mornings the digest comes in",
    auth=True,
    body=obj(
        {"mode": string(16, enum=list(EMAIL_MODES)), "email": string(254), "time_zone": string(64)},
        ["mode"],
    ),
    response=EMAIL,
    tag=TAG,
)
async def put_email(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    return ok(
        await mail.update_email_settings(
            viewer, mode=body.get("mode"), email=body.get("email"), time_zone=body.get("time_zone")
        )
    )
