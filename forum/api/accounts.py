"""API routes for accounts: register, token, me, public profiles."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from forum import accounts, profiles
from forum.api.base import api_viewer, iso, json_body, obj, ok, operation, string
from forum.api.people import PUBLIC_PROFILE, public_profile_json
from forum.web.session import client_ip, settings_of, signer_of

PROFILE = obj(
    {
        "id": {"type": "integer"},
        "username": {"type": "string"},
        "display_name": {"type": "string"},
        "bio": {"type": "string"},
        "bio_html": {"type": "string"},
        "role": {"type": "string"},
        "trust_level": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
    },
    ["id", "username", "display_name"],
)


def profile_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "username": row["username"],
        "display_name": row["display_name"],
        "bio": row["bio"],
        "bio_html": row["bio_html"],
        "role": row["role"],
        "trust_level": row["trust_level"],
        "created_at": iso(row["created_at"]),
    }


@operation(
    "POST",
    "/auth/register",
    "Create a member account",
    tag="accounts",
    status=201,
    body=obj(
        {
            "username": string(32, min_length=3),
            "password": string(256, min_length=10),
            "email": string(254),
            "display_name": string(64),
            "invite_code": string(
                40, description="needed while the site's registration is invite-only"
            ),
        },
        ["username", "password"],
    ),
    response=obj({"id": {"type": "integer"}, "username": {"type": "string"}}, ["id", "username"]),
)
async def register(request: Request) -> Response:
    body = await json_body(request)
    user = await accounts.register(
        settings_of(request),
        accounts.Registration(
            username=body.get("username"),  # type: ignore[arg-type]
            password=body.get("password"),  # type: ignore[arg-type]
            email=body.get("email") or "",
            display_name=body.get("display_name") or "",
        ),
        ip=client_ip(request),
        self_service=True,
        invite_code=body.get("invite_code"),
    )
    return ok({"id": user["id"], "username": user["username"]}, 201)


@operation(
    "POST",
    "/auth/token",
    "Exchange a username and password for a bearer token",
    tag="accounts",
    body=obj({"username": string(64), "password": string(256)}, ["username", "password"]),
    response=obj(
        {"token": {"type": "string"}, "expires_at": {"type": "string", "format": "date-time"}},
        ["token", "expires_at"],
    ),
)
async def token(request: Request) -> Response:
    from datetime import UTC, datetime, timedelta

    body = await json_body(request)
    settings = settings_of(request)
    user = await accounts.authenticate(
        settings, body.get("username"), body.get("password"), ip=client_ip(request)
    )
    expires = datetime.now(UTC) + timedelta(seconds=settings.token_max_age)
    return ok(
        {
            "token": signer_of(request).issue_token(user["id"], user["session_epoch"]),
            "expires_at": iso(expires),
        }
    )


@operation(
    "GET",
    "/me",
    "The signed-in person",
    tag="accounts",
    auth=True,
    response=obj(
        {**PROFILE["properties"], "roles": {"type": "array", "items": {"type": "string"}}},
        ["id", "username", "display_name", "roles", "trust_level"],
    ),
)
async def me(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    row = await accounts.get_user_row(viewer.id)  # type: ignore[arg-type]
    return ok({**profile_json(row), "roles": [row["role"]]})


@operation(
    "PATCH",
    "/me",
    "Change display name or bio",
    tag="accounts",
    auth=True,
    body=obj({"display_name": string(64), "bio": string(2000)}),
    response=PROFILE,
)
async def update_me(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    row = await accounts.update_profile(
        viewer, display_name=body.get("display_name"), bio=body.get("bio")
    )
    return ok(profile_json(row))


@operation(
    "POST",
    "/me/sign-out-everywhere",
    "Revoke every session and token",
    tag="accounts",
    auth=True,
    response=obj({"signed_out": {"type": "boolean"}}),
)
async def sign_out_everywhere(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    await accounts.sign_out_everywhere(viewer)
    return ok({"signed_out": True})


@operation(
    "GET",
    "/users/{username}",
    "A public profile, with experience tags and badges (as the member's privacy allows)",
    tag="accounts",
    response=PUBLIC_PROFILE,
)
async def user_profile(request: Request) -> Response:
    viewer = await api_viewer(request)
    profile = await profiles.profile(viewer, request.path_params["username"])
    return ok(public_profile_json(profile))
