"""Moderation's JSON routes (API.md, "Moderation"): flags, the queue, decisions, appeals, the
audit log, the "test a rule" screen, notices and moderator appointments."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

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
from forum.web.session import settings_of
from moderation import appointments, audit, decisions, flags, notices, queue
from moderation.items import REASONS
from moderation.posting import rules_for
from moderation.screening import Draft, screen

TAG = "moderation"
FLAG_BODY = obj(
    {
        "reason": string(16, enum=list(flags.FLAG_REASONS)),
        "note": string(flags.NOTE_MAX),
    },
    ["reason"],
)
FLAG = obj(
    {
        "id": {"type": "integer"},
        "item_id": {"type": "integer"},
        "reason": {"type": "string"},
        "state": {"type": "string"},
        "auto_hidden": {"type": "boolean"},
    },
    ["id", "item_id", "reason", "state", "auto_hidden"],
)
HIT = obj(
    {
        "family": {"type": "string"},
        "rule": {"type": "string"},
        "message": {"type": "string"},
        "title": {"type": "string"},
        "action": {"type": "string"},
        "excerpt": {"type": "string"},
        "explanation": {"type": "string"},
        "source_url": {"type": "string"},
    },
    ["family", "rule", "message"],
)
ITEM = obj(
    {
        "id": {"type": "integer"},
        "kind": {
            "type": "string",
            "enum": ["thread", "post", "story", "comment", "clinician_application"],
        },
        "object_id": {"type": "integer"},
        "post_id": {"type": ["integer", "null"]},
        "thread_id": {"type": ["integer", "null"]},
        "community": {"type": ["string", "null"], "description": "null: site-wide"},
        "state": {"type": "string", "enum": ["open", "resolved"]},
        "reason": {"type": "string"},
        "reasons": {"type": "array", "items": {"type": "string"}},
        "severity": {"type": "integer"},
        "priority": {"type": "boolean"},
        "screening_action": {"type": ["string", "null"]},
        "label": {"type": ["string", "null"]},
        "flag_count": {"type": "integer"},
        "appealed": {"type": "boolean"},
        "resolution": {"type": ["string", "null"]},
        "resolution_note": {"type": "string"},
        "content": obj(
            {
                "title": {"type": ["string", "null"]},
                "body": {"type": ["string", "null"]},
                "body_html": {"type": ["string", "null"]},
                "status": {"type": ["string", "null"]},
                "author": {"type": ["string", "null"]},
                "anonymous": {
                    "type": "boolean",
                    "description": "posted anonymously: author is null unless you revealed it "
                    "(POST /moderation/items/{id}/reveal)",
                },
                "pseudonym": {"type": ["string", "null"]},
            }
        ),
        "hits": {"type": "array", "items": HIT},
        "flags": {"type": "array", "items": {"type": "object"}},
        "created_at": {"type": "string"},
        "updated_at": {"type": "string"},
    },
    ["id", "kind", "object_id", "community", "state", "reason", "reasons", "severity", "hits"],
)
DECISION_BODY = obj(
    {
        "action": string(16, enum=list(decisions.ACTIONS)),
        "note": string(decisions.NOTE_MAX),
        "body": {"type": "string", "maxLength": decisions.BODY_MAX, "description": "for edit"},
        "member_action": string(16, enum=list(decisions.MEMBER_ACTIONS)),
        "days": {"type": "integer", "minimum": 1, "maximum": decisions.MAX_SUSPENSION_DAYS},
    },
    ["action"],
)
SCREEN_RESULT = obj(
    {
        "action": {"type": "string"},
        "reasons": {"type": "array", "items": {"type": "object"}},
        "resources": {"type": "array", "items": {"type": "object"}},
        "label": {"type": "string"},
        "code": {"type": "string"},
        "hits": {"type": "array", "items": HIT},
    },
    ["action", "reasons"],
)
AUDIT_ENTRY = obj(
    {
        "id": {"type": "integer"},
        "actor": {"type": ["string", "null"]},
        "action": {"type": "string"},
        "kind": {"type": "string"},
        "object_id": {"type": ["integer", "null"]},
        "item_id": {"type": ["integer", "null"]},
        "community": {"type": ["string", "null"]},
        "target": {"type": ["string", "null"]},
        "note": {"type": "string"},
        "before": {"type": "object"},
        "after": {"type": "object"},
        "created_at": {"type": "string"},
    },
    ["id", "action", "created_at"],
)


def item_json(item: dict[str, Any]) -> dict[str, Any]:
    data = {
        "id": item["id"],
        "kind": item["kind"],
        "object_id": item["object_id"],
        "post_id": item["post_id"],
        "thread_id": item["thread_id"],
        "community": item["community_slug"],
        "state": item["state"],
        "reason": item["reason"],
        "reasons": item["reason_list"],
        "severity": item["severity"],
        "priority": item["priority"],
        "screening_action": item["screening_action"],
        "label": item["label"],
        "flag_count": item["flag_count"],
        "appealed": item["appealed"],
        "resolution": item["resolution"],
        "resolution_note": item["resolution_note"],
        "content": {
            "title": item.get("thread_title"),
            "body": item.get("post_body"),
            "body_html": item.get("post_body_html"),
            "status": item.get("content_status"),
            "author": item.get("author_username"),
            "anonymous": bool(item.get("anonymous")),
            "pseudonym": item.get("post_pseudonym") if item.get("anonymous") else None,
        },
        "hits": item["hits"],
        "created_at": iso(item["created_at"]),
        "updated_at": iso(item["updated_at"]),
    }
    if "flags" in item:
        data["flags"] = [
            {
                "reason": flag["reason"],
                "note": flag["note"],
                "state": flag["state"],
                "weight": flag["weight"],
                "flagger": flag["flagger_username"],
                "created_at": iso(flag["created_at"]),
            }
            for flag in item["flags"]
        ]
    return data


def audit_json(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": entry["id"],
        "actor": entry["actor_name"] or None,
        "action": entry["action"],
        "kind": entry["kind"],
        "object_id": entry["object_id"],
        "item_id": entry["item_id"],
        "community": entry.get("community_slug"),
        "target": entry["target_name"] or None,
        "note": entry["note"],
        "before": entry["before"],
        "after": entry["after"],
        "created_at": iso(entry["created_at"]),
    }


@operation(
    "POST",
    "/posts/{id}/flags",
    "Flag a post for the moderators (one open flag per person per post)",
    auth=True,
    status=201,
    body=FLAG_BODY,
    response=FLAG,
    tag=TAG,
)
async def flag_post(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    result = await flags.flag_post(
        viewer,
        request.path_params["id"],
        body.get("reason"),
        body.get("note") or "",
        rules=rules_for(settings_of(request).data_dir),
    )
    return ok(result, 201)


@operation(
    "POST",
    "/threads/{id}/flags",
    "Flag a thread for the moderators",
    auth=True,
    status=201,
    body=FLAG_BODY,
    response=FLAG,
    tag=TAG,
)
async def flag_thread(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    result = await flags.flag_thread(
        viewer,
        request.path_params["id"],
        body.get("reason"),
        body.get("note") or "",
        rules=rules_for(settings_of(request).data_dir),
    )
    return ok(result, 201)


@operation(
    "GET",
    "/moderation/queue",
    "The review queue: crisis first, then by severity and age (moderators)",
    auth=True,
    query=(
        *PAGING,
        ("reason", {"type": "string", "enum": list(REASONS)}),
        ("community", {"type": "string"}),
        ("state", {"type": "string", "enum": list(queue.STATES)}),
    ),
    response=list_of(ITEM),
    tag=TAG,
)
async def list_queue(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    page, per_page = paging(request)
    query = request.query_params
    listing = await queue.list_queue(
        viewer,
        reason=query.get("reason"),
        community=query.get("community"),
        state=query.get("state") or "open",
        page=page,
        per_page=per_page,
    )
    items = []
    for item in listing.items:
        item["flags"] = await flags.flags_for_item(item["id"])
        items.append(item_json(item))
    return ok(page_json(listing, items))


@operation(
    "GET",
    "/moderation/items/{id}",
    "One review item with its content, rule hits, flags and the author's history (moderators)",
    auth=True,
    response=ITEM,
    tag=TAG,
)
async def get_item(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    item = await queue.get_item(viewer, request.path_params["id"])
    data = item_json(item)
    history = item["history"]
    if history:
        data["author"] = {
            "username": history["username"],
            "trust_level": history["trust_level"],
            "status": history["status"],
            "published_posts": history["published_posts"],
            "upheld_against": history["upheld_against"],
            "account_age_days": history["account_age_days"],
            "decisions": [audit_json(entry) for entry in history["decisions"]],
            "recent_posts": [
                {"id": p["id"], "thread": p["thread"], "status": p["status"], "title": p["title"]}
                for p in history["recent_posts"]
            ],
        }
    data["appeal"] = (
        {
            "state": item["appeal"]["state"],
            "reason": item["appeal"]["reason"],
            "decision": item["appeal"]["decision"],
        }
        if item["appeal"]
        else None
    )
    return ok(data)


@operation(
    "POST",
    "/moderation/items/{id}/decision",
    "Decide a review item: approve, hide, remove, restore, edit, warn, suspend or ban",
    auth=True,
    body=DECISION_BODY,
    response=obj(
        {
            "item_id": {"type": "integer"},
            "action": {"type": "string"},
            "member_action": {"type": ["string", "null"]},
            "status": {"type": "string"},
            "state": {"type": "string"},
            "appeal": {"type": ["string", "null"]},
        },
        ["item_id", "action", "status", "state"],
    ),
    tag=TAG,
)
async def decide(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    result = await decisions.decide(
        viewer,
        request.path_params["id"],
        body.get("action"),
        body.get("note") or "",
        body=body.get("body"),
        days=body.get("days"),
        member_action=body.get("member_action"),
        rules=rules_for(settings_of(request).data_dir),
    )
    return ok(result)


@operation(
    "POST",
    "/moderation/items/{id}/appeal",
    "Appeal a decision about your content, once; a different moderator decides",
    auth=True,
    status=201,
    body=obj({"reason": string(decisions.NOTE_MAX, min_length=10)}, ["reason"]),
    response=obj(
        {"id": {"type": "integer"}, "item_id": {"type": "integer"}, "state": {"type": "string"}}
    ),
    tag=TAG,
)
async def appeal(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    return ok(await decisions.appeal(viewer, request.path_params["id"], body.get("reason")), 201)


@operation(
    "GET",
    "/moderation/audit",
    "The moderation log, newest first (moderators: their communities; admins: all)",
    auth=True,
    query=PAGING,
    response=list_of(AUDIT_ENTRY),
    tag=TAG,
)
async def audit_log(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    page, per_page = paging(request)
    entries = await audit.list_entries(viewer, page=page, per_page=per_page)
    return ok(page_json(entries, [audit_json(entry) for entry in entries.items]))


@operation(
    "POST",
    "/moderation/screen",
    "Screen a text without storing it, as if a new member posted it (moderators)",
    auth=True,
    body=obj({"text": string(20000, min_length=1), "community": string(48)}, ["text"]),
    response=SCREEN_RESULT,
    tag=TAG,
)
async def screen_text(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    queue.ensure_moderator(viewer)
    body = await json_body(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > 20_000:
        from forum.errors import Invalid

        raise Invalid({"text": "Send the text to screen, up to 20,000 characters."})
    verdict = screen(Draft(text=text), rules_for(settings_of(request).data_dir))
    return ok({**verdict.as_json(), "code": verdict.code, "hits": verdict.for_moderators()})


@operation(
    "GET",
    "/me/notices",
    "Messages from the moderators about your content; reading them marks them read",
    auth=True,
    response=obj({"items": {"type": "array", "items": {"type": "object"}}}),
    tag=TAG,
)
async def my_notices(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    listing = await notices.list_notices(viewer)
    await notices.mark_all_read(viewer)
    return ok(
        {
            "items": [
                {
                    "id": notice["id"],
                    "item_id": notice["item_id"],
                    "kind": notice["kind"],
                    "message": notice["message"],
                    "can_appeal": notice["can_appeal"],
                    "read": notice["read_at"] is not None,
                    "created_at": iso(notice["created_at"]),
                }
                for notice in listing
            ]
        }
    )


@operation(
    "POST",
    "/communities/{slug}/moderators",
    "Appoint a moderator of this community (admins)",
    auth=True,
    status=201,
    body=obj({"username": string(32, min_length=3)}, ["username"]),
    response=obj({"community": {"type": "string"}, "username": {"type": "string"}}),
    tag=TAG,
)
async def appoint(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    result = await appointments.appoint_moderator(
        viewer, request.path_params["slug"], body.get("username")
    )
    return ok(result, 201)


@operation(
    "DELETE",
    "/communities/{slug}/moderators/{username}",
    "Dismiss a moderator of this community (admins)",
    auth=True,
    response=obj({"community": {"type": "string"}, "username": {"type": "string"}}),
    tag=TAG,
)
async def dismiss(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    result = await appointments.dismiss_moderator(
        viewer, request.path_params["slug"], request.path_params["username"]
    )
    return ok(result)
