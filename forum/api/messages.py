"""API routes for private conversations, reporting a message, blocking and who may message
you (forum.messages, forum.blocks)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from forum import blocks, messages
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
from forum.tables import MESSAGE_AUDIENCES
from forum.validation import positive_int
from forum.web.session import settings_of

TAG = "messages"
PERSON = obj(
    {
        "username": {"type": ["string", "null"]},
        "display_name": {"type": "string"},
        "left": {"type": "boolean"},
    },
    ["username", "display_name"],
)
SUMMARY = obj(
    {
        "id": {"type": "integer"},
        "subject": {"type": "string"},
        "people": {"type": "array", "items": PERSON},
        "unread": {"type": "integer"},
        "muted": {"type": "boolean"},
        "preview": {"type": "string"},
        "last_message_at": {"type": "string"},
    },
    ["id", "people", "unread", "muted"],
)
MESSAGE = obj(
    {
        "id": {"type": "integer"},
        "sender": {"type": ["string", "null"]},
        "sender_display_name": {"type": ["string", "null"]},
        "body_html": {"type": "string"},
        "status": {
            "type": "string",
            "description": "published, held (yours, waiting), hidden, removed, deleted, unsent",
        },
        "placeholder": {"type": ["string", "null"]},
        "label": {"type": ["string", "null"]},
        "collapsed": {"type": "boolean", "description": "from someone you blocked"},
        "mine": {"type": "boolean"},
        "created_at": {"type": "string"},
    },
    ["id", "sender", "body_html", "status"],
)
CONVERSATION = obj(
    {
        "id": {"type": "integer"},
        "subject": {"type": "string"},
        "muted": {"type": "boolean"},
        "people": {"type": "array", "items": PERSON},
        "messages": {"type": "array", "items": MESSAGE},
        "can_reply": {"type": "boolean"},
        "reply_problem": {"type": ["string", "null"]},
        "earlier_before": {
            "type": ["integer", "null"],
            "description": "pass as ?before= for the earlier messages; null when there are none",
        },
    },
    ["id", "people", "messages", "can_reply"],
)
SENT = obj(
    {
        "id": {"type": "integer"},
        "conversation": {"type": "integer"},
        "status": {"type": "string", "enum": ["published", "held"]},
        "moderation": MODERATION,
    },
    ["id", "conversation", "status", "moderation"],
)
BLOCKED = obj(
    {
        "username": {"type": "string"},
        "display_name": {"type": "string"},
        "blocked_at": {"type": "string"},
    },
    ["username"],
)


def _person(row: dict[str, Any]) -> dict[str, Any]:
    gone = row.get("status") == "deleted"
    return {
        "username": None if gone else row["username"],
        "display_name": "A former member" if gone else row["display_name"],
        "left": row.get("left_at") is not None,
    }


def _message(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "sender": row.get("sender_username"),
        "sender_display_name": row.get("sender_display_name"),
        "body_html": row["body_html"],
        "status": row["status"],
        "placeholder": row.get("placeholder"),
        "label": row.get("label"),
        "collapsed": bool(row.get("collapsed")),
        "mine": bool(row.get("mine")),
        "created_at": iso(row["created_at"]),
    }


@operation(
    "GET",
    "/conversations",
    "Your private conversations, most recent first, with unread counts",
    auth=True,
    query=PAGING,
    response=list_of(SUMMARY),
    tag=TAG,
)
async def list_conversations(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    page, per_page = paging(request)
    listing = await messages.list_conversations(viewer, page=page, per_page=per_page)
    return ok(
        page_json(
            listing,
            [
                {
                    "id": row["id"],
                    "subject": row["subject"],
                    "people": [_person(p) for p in row["people"]],
                    "unread": row["unread"],
                    "muted": row["muted"],
                    "preview": row["preview"],
                    "last_message_at": iso(row["last_message_at"]),
                }
                for row in listing.items
            ],
        )
    )


@operation(
    "POST",
    "/conversations",
    "Start a private conversation with one or more members (who may be written to depends "
    "on their setting, blocks and your trust level)",
    auth=True,
    status=201,
    body=obj(
        {
            "to": {
                "oneOf": [
                    {"type": "array", "items": string(32), "maxItems": messages.MAX_RECIPIENTS},
                    string(400),
                ],
                "description": "usernames",
            },
            "subject": string(messages.SUBJECT_MAX),
            "body": string(messages.BODY_MAX, min_length=1),
            "confirm_phi": CONFIRM_PHI,
        },
        ["to", "body"],
    ),
    response=SENT,
    tag=TAG,
)
async def start_conversation(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    result = await messages.start_conversation(
        settings_of(request),
        viewer,
        body.get("to"),
        body.get("body"),
        body.get("subject") or "",
        confirm_phi=confirm_phi(body),
    )
    return ok(result, 201)


@operation(
    "GET",
    "/conversations/{id}",
    "A conversation you are in, with its latest 100 messages (reading them marks it read), or "
    "with the 100 before the message `before`",
    auth=True,
    query=(("before", {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}),),
    response=CONVERSATION,
    tag=TAG,
)
async def get_conversation(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    before = positive_int(request.query_params.get("before"), 0, maximum=2**31 - 1) or None
    data = await messages.get_conversation(viewer, request.path_params["id"], before=before)
    conversation = data["conversation"]
    return ok(
        {
            "id": conversation["id"],
            "subject": conversation["subject"],
            "muted": conversation["muted"],
            "people": [_person(p) for p in data["people"]],
            "messages": [_message(m) for m in data["messages"]],
            "can_reply": data["can_reply"],
            "reply_problem": data["reply_problem"],
            "earlier_before": data["earlier_before"],
        }
    )


@operation(
    "POST",
    "/conversations/{id}/messages",
    "Reply in a conversation you are in",
    auth=True,
    status=201,
    body=obj(
        {"body": string(messages.BODY_MAX, min_length=1), "confirm_phi": CONFIRM_PHI}, ["body"]
    ),
    response=SENT,
    tag=TAG,
)
async def reply(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    result = await messages.send_message(
        settings_of(request),
        viewer,
        request.path_params["id"],
        body.get("body"),
        confirm_phi=confirm_phi(body),
    )
    return ok(result, 201)


@operation(
    "POST",
    "/conversations/{id}/leave",
    "Leave a conversation",
    auth=True,
    response=obj({"id": {"type": "integer"}, "left": {"type": "boolean"}}),
    tag=TAG,
)
async def leave(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    return ok(await messages.leave(viewer, request.path_params["id"]))


@operation(
    "POST",
    "/conversations/{id}/mute",
    "Mute or unmute a conversation",
    auth=True,
    body=obj({"muted": {"type": "boolean"}}, ["muted"]),
    response=obj({"id": {"type": "integer"}, "muted": {"type": "boolean"}}),
    tag=TAG,
)
async def mute(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    return ok(
        await messages.set_muted(viewer, request.path_params["id"], body.get("muted") is True)
    )


@operation(
    "POST",
    "/messages/{id}/report",
    "Report a message to the moderators; they see it and the earlier messages you share, "
    "nothing else",
    auth=True,
    status=201,
    body=obj(
        {
            "reason": string(16, enum=list(messages.REPORT_REASONS)),
            "note": string(1000),
            "include_previous": {
                "type": "integer",
                "minimum": 0,
                "maximum": messages.MAX_SHARED,
                "description": "how many messages before it to share (default 0)",
            },
            "block": {"type": "boolean", "description": "also block the sender"},
        },
        ["reason"],
    ),
    response=obj(
        {
            "id": {"type": "integer"},
            "item_id": {"type": "integer"},
            "message": {"type": "integer"},
            "shared": {"type": "integer"},
            "blocked": {"type": "boolean"},
        }
    ),
    tag=TAG,
)
async def report(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    previous = body.get("include_previous", 0)
    if isinstance(previous, bool):
        previous = -1
    result = await messages.report_message(
        settings_of(request),
        viewer,
        request.path_params["id"],
        body.get("reason"),
        body.get("note") or "",
        include_previous=previous,
        block_sender=body.get("block") is True,
    )
    return ok(result, 201)


@operation(
    "POST",
    "/messages/{id}/unsend",
    "Unsend your message: everyone in the conversation sees a placeholder and its words are "
    "erased; not once it is with the moderators (409)",
    auth=True,
    response=MESSAGE,
    tag=TAG,
)
async def unsend(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    return ok(_message(await messages.unsend_message(viewer, request.path_params["id"])))


@operation(
    "GET",
    "/me/message-settings",
    "Who may start a conversation with you",
    auth=True,
    response=obj({"audience": string(16, enum=list(MESSAGE_AUDIENCES))}, ["audience"]),
    tag=TAG,
)
async def get_settings(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    return ok({"audience": await messages.audience_of(viewer.id)})  # type: ignore[arg-type]


@operation(
    "PUT",
    "/me/message-settings",
    "Choose who may start a conversation with you: anyone, communities (members of a "
    "community you're in) or nobody",
    auth=True,
    body=obj({"audience": string(16, enum=list(MESSAGE_AUDIENCES))}, ["audience"]),
    response=obj({"audience": {"type": "string"}}, ["audience"]),
    tag=TAG,
)
async def put_settings(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    return ok({"audience": await messages.set_audience(viewer, body.get("audience"))})


@operation(
    "GET",
    "/me/blocks",
    "The members you blocked",
    auth=True,
    response=obj({"items": {"type": "array", "items": BLOCKED}}, ["items"]),
    tag=TAG,
)
async def list_blocks(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    rows = await blocks.list_blocks(viewer)
    return ok(
        {
            "items": [
                {
                    "username": row["username"],
                    "display_name": row["display_name"],
                    "blocked_at": iso(row["created_at"]),
                }
                for row in rows
            ]
        }
    )


@operation(
    "POST",
    "/me/blocks",
    "Block a member: no messages either way, no mentions, no follows, their posts collapsed "
    "for you",
    auth=True,
    status=201,
    body=obj({"username": string(32, min_length=1)}, ["username"]),
    response=obj({"username": {"type": "string"}, "blocked": {"type": "boolean"}}),
    tag=TAG,
)
async def block(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    person = await blocks.block(viewer, body.get("username"))
    return ok({"username": person["username"], "blocked": True}, 201)


@operation(
    "DELETE",
    "/me/blocks/{username}",
    "Unblock a member",
    auth=True,
    response=obj({"username": {"type": "string"}, "blocked": {"type": "boolean"}}),
    tag=TAG,
)
async def unblock(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    person = await blocks.unblock(viewer, request.path_params["username"])
    return ok({"username": person["username"], "blocked": False})
