"""Pages for registering, signing in and out, profiles and account settings."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum import accounts, mail, profiles
from forum.errors import KindredError
from forum.web import people
from forum.web import stories as web_stories
from forum.web.render import form_failed, page, redirect, safe_next
from forum.web.session import (
    client_ip,
    get_viewer,
    read_form,
    settings_of,
    sign_in,
    sign_out,
)


async def register_page(request: Request) -> Response:
    if request.method == "GET":
        return await page(
            request, "accounts/register.html", {"next": safe_next(request.query_params.get("next"))}
        )
    form = await read_form(request)
    values = {
        key: str(form.get(key, "")) for key in ("username", "email", "display_name", "invite_code")
    }
    target = safe_next(str(form.get("next", "")))
    try:
        user = await accounts.register(
            settings_of(request),
            accounts.Registration(
                username=values["username"],
                password=str(form.get("password", "")),
                email=values["email"],
                display_name=values["display_name"],
            ),
            ip=client_ip(request),
            self_service=True,
            invite_code=values["invite_code"],
        )
    except KindredError as error:
        return await form_failed(
            request, "accounts/register.html", error, {"values": values, "next": target}
        )
    sign_in(request, {**user, "session_epoch": 0})
    return redirect(
        target,
        f"Welcome to Kindred, {user['display_name']}. Join a community to start posting.",
        request,
    )


async def login_page(request: Request) -> Response:
    if request.method == "GET":
        return await page(
            request, "accounts/login.html", {"next": safe_next(request.query_params.get("next"))}
        )
    form = await read_form(request)
    username = str(form.get("username", ""))
    target = safe_next(str(form.get("next", "")))
    try:
        user = await accounts.authenticate(
            settings_of(request), username, str(form.get("password", "")), ip=client_ip(request)
        )
    except KindredError as error:
        return await form_failed(
            request,
            "accounts/login.html",
            error,
            {"values": {"username": username}, "next": target},
        )
    sign_in(request, user)
    return redirect(target, f"Welcome back, {user['display_name']}.", request)


async def logout(request: Request) -> Response:
    await read_form(request)
    sign_out(request)
    return redirect("/", "You're signed out.", request)


async def profile_page(request: Request) -> Response:
    viewer = await get_viewer(request)
    profile = await profiles.profile(viewer, request.path_params["username"])
    # Their stories and the follow buttons (forum.web.stories).
    extras = await web_stories.profile_extras(viewer, profile)
    return await page(request, "accounts/profile.html", {"profile": profile, **extras})


async def settings_page(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/settings")
    me = await accounts.get_user_row(viewer.id)  # type: ignore[arg-type]
    extras = await people.settings_extras(viewer)  # privacy, export, deleting the account
    extras["email_settings"] = await mail.email_settings(viewer)  # forum.mail
    extras["time_zones"] = mail.time_zones()
    if request.method == "GET":
        return await page(request, "accounts/settings.html", {"values": me, **extras})
    form = await read_form(request)
    values = {"display_name": str(form.get("display_name", "")), "bio": str(form.get("bio", ""))}
    try:
        await accounts.update_profile(viewer, **values)
    except KindredError as error:
        return await form_failed(
            request, "accounts/settings.html", error, {"values": {**me, **values}, **extras}
        )
    return redirect("/settings", "Your profile is saved.", request)


async def change_password(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/settings")
    form = await read_form(request)
    try:
        epoch = await accounts.change_password(
            settings_of(request), viewer, form.get("current_password"), form.get("new_password")
        )
    except KindredError as error:
        me = await accounts.get_user_row(viewer.id)  # type: ignore[arg-type]
        return await form_failed(
            request,
            "accounts/settings.html",
            error,
            {"values": me, **await people.settings_extras(viewer)},
            message_key="password_error",
        )
    sign_in(request, {"id": viewer.id, "session_epoch": epoch})
    return redirect(
        "/settings", "Your password is changed. Other devices have been signed out.", request
    )


async def sign_out_everywhere(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login")
    await read_form(request)
    await accounts.sign_out_everywhere(viewer)
    sign_out(request)
    return redirect("/login", "You're signed out on every device.", request)


routes = [
    Route("/register", register_page, methods=["GET", "POST"]),
    Route("/login", login_page, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/u/{username}", profile_page),
    Route("/settings", settings_page, methods=["GET", "POST"]),
    Route("/settings/password", change_password, methods=["POST"]),
    Route("/settings/sign-out-everywhere", sign_out_everywhere, methods=["POST"]),
]
