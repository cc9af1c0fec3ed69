"""API routes for running a site: the community-health figures (moderators of a community,
admins) and administrators' work (communities, people and roles, site settings, invite
codes). Every change is logged in the moderation log by the services."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from forum import admin, insights, site_settings
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
from forum.errors import Invalid
from forum.web.session import settings_of

TAG = "admin"
PERIOD = (
    ("from", {"type": "string", "format": "date", "description": "first day (UTC), with to"}),
    ("to", {"type": "string", "format": "date", "description": "last day (UTC), inclusive"}),
    (
        "days",
        {"type": "integer", "enum": list(insights.PRESETS), "description": "or: ending today"},
    ),
)
FIGURE = obj(
    {
        "key": {"type": "string"},
        "label": {"type": "string"},
        "value": {"type": ["number", "null"]},
        "kind": {"type": "string", "enum": ["count", "share", "seconds"]},
    },
    ["key", "label", "value", "kind"],
)
SERIES = obj(
    {
        "key": {"type": "string"},
        "title": {"type": "string"},
        "label_heading": {"type": "string"},
        "value_heading": {"type": "string"},
        "points": {
            "type": "array",
            "items": {"type": "array", "items": {"type": ["string", "integer"]}},
        },
    },
    ["key", "title", "points"],
)
INSIGHTS = obj(
    {
        "community": {"type": ["string", "null"]},
        "from": {"type": "string", "format": "date"},
        "to": {"type": "string", "format": "date"},
        "figures": {"type": "array", "items": FIGURE},
        "series": {"type": "array", "items": SERIES},
    },
    ["from", "to", "figures", "series"],
)
USER = obj(
    {
        "id": {"type": "integer"},
        "username": {"type": "string"},
        "display_name": {"type": "string"},
        "email": {"type": ["string", "null"]},
        "role": {"type": "string"},
        "status": {"type": "string"},
        "trust_level": {"type": "integer"},
        "created_at": {"type": "string"},
    },
    ["id", "username", "role"],
)
RESOURCE = obj(
    {
        "region": string(60),
        "name": string(120),
        "contact": string(300),
        "url": string(300),
    },
    ["region", "name"],
)
SETTINGS = obj(
    {
        "disclaimer": string(site_settings.TEXT_MAX),
        "privacy": string(site_settings.TEXT_MAX),
        "crisis_resources": {"type": "array", "items": RESOURCE},
        "registration": string(16, enum=list(site_settings.REGISTRATION_MODES)),
    }
)
INVITE = obj(
    {
        "id": {"type": "integer"},
        "code": {"type": "string"},
        "note": {"type": "string"},
        "max_uses": {"type": "integer"},
        "uses": {"type": "integer"},
        "expires_at": {"type": ["string", "null"]},
        "revoked": {"type": "boolean"},
    },
    ["id", "code", "max_uses", "uses"],
)


def insights_json(board: insights.Dashboard) -> dict[str, Any]:
    return {
        "community": board.community["slug"] if board.community else None,
        "from": board.period.first.isoformat(),
        "to": board.period.last.isoformat(),
        "figures": [
            {"key": f.key, "label": f.label, "value": f.value, "kind": f.kind}
            for f in board.figures
        ],
        "series": [
            {
                "key": s.key,
                "title": s.title,
                "label_heading": s.label_heading,
                "value_heading": s.value_heading,
                "points": [[label, value] for label, value in s.points],
            }
            for s in board.series
        ],
    }


@operation(
    "GET",
    "/admin/insights",
    "The site's health figures over a period (admins)",
    tag=TAG,
    auth=True,
    query=PERIOD,
    response=INSIGHTS,
)
async def site_insights(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    board = await insights.dashboard(viewer, insights.parse_period(request.query_params))
    return ok(insights_json(board))


@operation(
    "GET",
    "/communities/{slug}/insights",
    "A community's health figures over a period (its moderators, admins)",
    tag=TAG,
    auth=True,
    query=PERIOD,
    response=INSIGHTS,
)
async def community_insights(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    board = await insights.dashboard(
        viewer, insights.parse_period(request.query_params), request.path_params["slug"]
    )
    return ok(insights_json(board))


@operation(
    "GET", "/admin/settings", "The site's settings (admins)", tag=TAG, auth=True, response=SETTINGS
)
async def get_settings(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    site_settings.ensure_admin(viewer)
    return ok((await site_settings.load()).as_json())


@operation(
    "PATCH",
    "/admin/settings",
    "Change some of the site's settings (admins); each change is logged",
    tag=TAG,
    auth=True,
    body=SETTINGS,
    response=SETTINGS,
)
async def patch_settings(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    site_settings.ensure_admin(viewer)
    body = await json_body(request)
    changes: dict[str, Any] = {}
    for key in site_settings.KEYS:
        if key not in body:
            continue
        value = body[key]
        if key == "crisis_resources":
            value = _resource_lines(value)
        changes[key] = value
    unknown = sorted(set(body) - set(site_settings.KEYS))
    if unknown:
        raise Invalid({name: "Not a setting." for name in unknown})
    site = await site_settings.save(settings_of(request), viewer, changes)
    return ok(site.as_json())


def _resource_lines(value: Any) -> str:
    """The API's list of resources as the lines the settings page edits."""
    if not isinstance(value, list):
        raise Invalid({"crisis_resources": "Send a list of {region, name, contact?, url?}."})
    lines = []
    for item in value:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(key, ""), str) for key in ("region", "name", "contact", "url")
        ):
            raise Invalid({"crisis_resources": "Each resource is {region, name, contact?, url?}."})
        parts = [item.get(key, "") for key in ("region", "name", "contact", "url")]
        if any("|" in part or "\n" in part for part in parts):
            raise Invalid({"crisis_resources": "Resources can't contain | or line breaks."})
        lines.append(" | ".join(parts))
    return "\n".join(lines)


@operation(
    "GET",
    "/admin/users",
    "People, newest first, by username, display name or e-mail, and role (admins)",
    tag=TAG,
    auth=True,
    query=(*PAGING, ("q", {"type": "string"}), ("role", {"type": "string"})),
    response=list_of(USER),
)
async def list_users(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    page, per_page = paging(request)
    listing = await admin.list_users(
        viewer,
        query=request.query_params.get("q", ""),
        role=request.query_params.get("role", ""),
        page=page,
        per_page=per_page,
    )
    return ok(
        page_json(listing, [{**row, "created_at": iso(row["created_at"])} for row in listing.items])
    )


@operation(
    "POST",
    "/admin/users/{username}/role",
    "Change a person's site role (admins); logged",
    tag=TAG,
    auth=True,
    body=obj(
        {
            "role": string(16, enum=["member", "clinician", "moderator", "admin"]),
            "note": string(500),
        },
        ["role"],
    ),
    response=obj({"username": {"type": "string"}, "role": {"type": "string"}}),
)
async def change_role(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    user = await admin.change_role(
        viewer, request.path_params["username"], body.get("role"), body.get("note") or ""
    )
    return ok({"username": user["username"], "role": user["role"]})


@operation(
    "PATCH",
    "/admin/communities/{slug}",
    "Change a community's name, description or visibility (admins); logged",
    tag=TAG,
    auth=True,
    body=obj(
        {
            "name": string(80, min_length=2),
            "description": string(4000),
            "visibility": string(16, enum=["public", "private"]),
        }
    ),
    response=obj({"slug": {"type": "string"}, "name": {"type": "string"}}),
)
async def edit_community(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    current = await admin.get_community(viewer, request.path_params["slug"])
    row = await admin.edit_community(
        viewer,
        current["slug"],
        name=body.get("name", current["name"]),
        description=body.get("description", current["description"]),
        visibility=body.get("visibility", current["visibility"]),
    )
    return ok(
        {
            "slug": row["slug"],
            "name": row["name"],
            "description": row["description"],
            "visibility": row["visibility"],
            "archived": bool(row["archived"]),
        }
    )


@operation(
    "POST",
    "/admin/communities/{slug}/archive",
    "Archive a community, or bring it back (admins); logged",
    tag=TAG,
    auth=True,
    body=obj({"archived": {"type": "boolean"}, "note": string(500)}, ["archived"]),
    response=obj({"slug": {"type": "string"}, "archived": {"type": "boolean"}}),
)
async def archive(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    if not isinstance(body.get("archived"), bool):
        raise Invalid({"archived": "Send true to archive, false to bring it back."})
    row = await admin.set_archived(
        viewer, request.path_params["slug"], body["archived"], body.get("note") or ""
    )
    return ok({"slug": row["slug"], "archived": bool(row["archived"])})


def invite_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "code": row["code"],
        "note": row["note"],
        "max_uses": row["max_uses"],
        "uses": row["uses"],
        "expires_at": iso(row["expires_at"]),
        "revoked": bool(row["revoked"]),
    }


@operation(
    "GET", "/admin/invites", "Invite codes (admins)", tag=TAG, auth=True, response=list_of(INVITE)
)
async def list_invites(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    page, per_page = paging(request)
    listing = await site_settings.list_invites(viewer, page, per_page)
    return ok(page_json(listing, [invite_json(row) for row in listing.items]))


@operation(
    "POST",
    "/admin/invites",
    "Create an invite code (admins); logged without the code",
    tag=TAG,
    auth=True,
    status=201,
    body=obj(
        {
            "max_uses": {"type": "integer", "minimum": 1, "maximum": 1000},
            "days": {"type": "integer", "minimum": 1, "maximum": 365},
            "note": string(200),
        }
    ),
    response=INVITE,
)
async def create_invite(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    row = await site_settings.create_invite(
        viewer,
        max_uses=body.get("max_uses", 1),
        days=body.get("days", 30),
        note=body.get("note") or "",
    )
    return ok(invite_json(row), 201)


@operation(
    "POST",
    "/admin/invites/{id}/revoke",
    "Stop an invite code working (admins); logged",
    tag=TAG,
    auth=True,
    response=obj({"revoked": {"type": "boolean"}}),
)
async def revoke_invite(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    await site_settings.revoke_invite(viewer, request.path_params["id"])
    return ok({"revoked": True})
