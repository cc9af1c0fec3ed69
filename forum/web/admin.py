"""Administrators' pages under /admin: communities (create, edit, archive), moderators
(appoint, dismiss), site settings and invite codes, and people (search, change roles).

Every change goes through forum.admin or forum.site_settings, which log it in the moderation
log. For anyone but an administrator these pages don't exist (404)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum import admin, site_settings
from forum.errors import KindredError
from forum.permissions import Viewer
from forum.tables import ROLES
from forum.validation import positive_int
from forum.web.render import form_failed, page, redirect
from forum.web.session import get_viewer, read_form, settings_of


async def _admin(request: Request) -> Viewer | None:
    """The administrator asking, or None for a visitor (sent to sign in); 404 for others."""
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return None
    site_settings.ensure_admin(viewer)
    return viewer


def _to_login(request: Request) -> Response:
    return redirect(f"/login?next={request.url.path}")


def _page_number(request: Request) -> int:
    return positive_int(request.query_params.get("page"), 1, maximum=10_000)


async def index(request: Request) -> Response:
    viewer = await _admin(request)
    if viewer is None:
        return _to_login(request)
    return await page(request, "admin/index.html", {"current": "index"})


# Communities ---------------------------------------------------------------------------------

COMMUNITY_FIELDS = ("slug", "name", "description", "visibility")


async def communities_page(request: Request) -> Response:
    viewer = await _admin(request)
    if viewer is None:
        return _to_login(request)
    listing = await admin.list_communities(viewer, page=_page_number(request))
    context: dict[str, Any] = {
        "current": "communities",
        "communities": listing,
        "values": {"visibility": "public"},
    }
    if request.method == "GET":
        return await page(request, "admin/communities.html", context)
    form = await read_form(request)
    values = {key: str(form.get(key, "")) for key in COMMUNITY_FIELDS}
    try:
        created = await admin.create_community(viewer, **values)
    except KindredError as error:
        if not error.fields:
            raise
        return await form_failed(
            request, "admin/communities.html", error, {**context, "values": values}
        )
    return redirect(
        f"/admin/communities/{created['slug']}",
        f"{created['name']} is ready. Appoint its moderators and write its guidelines next.",
        request,
    )


async def community_page(request: Request) -> Response:
    viewer = await _admin(request)
    if viewer is None:
        return _to_login(request)
    community = await admin.get_community(viewer, request.path_params["slug"])
    context = {"current": "communities", "community": community, "values": community}
    if request.method == "GET":
        return await page(request, "admin/community.html", context)
    form = await read_form(request)
    values = {key: str(form.get(key, "")) for key in ("name", "description", "visibility")}
    try:
        await admin.edit_community(viewer, community["slug"], **values)
    except KindredError as error:
        if not error.fields:
            raise
        return await form_failed(
            request, "admin/community.html", error, {**context, "values": values}
        )
    return redirect(f"/admin/communities/{community['slug']}", "Your changes are saved.", request)


async def archive(request: Request) -> Response:
    viewer = await _admin(request)
    if viewer is None:
        return _to_login(request)
    form = await read_form(request)
    archived = form.get("archived") == "1"
    community = await admin.set_archived(
        viewer, request.path_params["slug"], archived, str(form.get("note", ""))
    )
    message = (
        f"{community['name']} is archived: it can be read, not added to."
        if archived
        else f"{community['name']} is open again."
    )
    return redirect(f"/admin/communities/{community['slug']}", message, request)


# Moderators ----------------------------------------------------------------------------------


async def moderators_page(request: Request) -> Response:
    viewer = await _admin(request)
    if viewer is None:
        return _to_login(request)
    if request.method == "POST":
        form = await read_form(request)
        slug, username = str(form.get("community", "")), str(form.get("username", ""))
        try:
            if form.get("dismiss"):
                await admin.dismiss(viewer, slug, username)
                message = f"{username} no longer moderates {slug}."
            else:
                await admin.appoint(viewer, slug, username)
                message = f"{username} now moderates {slug}."
        except KindredError as error:  # the person can't be appointed, or isn't found
            message = error.message
        target = str(form.get("back", "")) or "/admin/moderators"
        if not target.startswith("/admin/"):
            target = "/admin/moderators"
        return redirect(target, message, request)
    return await page(
        request,
        "admin/moderators.html",
        {"current": "moderators", "communities": await admin.moderators(viewer)},
    )


# Site settings and invitations ---------------------------------------------------------------


async def _settings_context(viewer: Viewer, request: Request) -> dict[str, Any]:
    site = await site_settings.load()
    settings = settings_of(request)
    return {
        "current": "settings",
        "site_values": site,
        "values": {
            "disclaimer": site.disclaimer,
            "privacy": site.privacy,
            "crisis_resources": site_settings.resources_text(site.crisis_resources),
            "registration": site.registration,
        },
        "modes": site_settings.REGISTRATION_NAMES,
        "invites": await site_settings.list_invites(viewer),
        "mail": {
            "smtp_host": settings.smtp_host,
            "smtp_port": settings.smtp_port,
            "smtp_user": settings.smtp_user,
            "smtp_starttls": settings.smtp_starttls,
            "mail_from": settings.mail_from,
            "mail_dir": str(settings.mail_dir),
        },
    }


async def settings_page(request: Request) -> Response:
    viewer = await _admin(request)
    if viewer is None:
        return _to_login(request)
    if request.method == "GET":
        return await page(request, "admin/settings.html", await _settings_context(viewer, request))
    form = await read_form(request)
    changes = {key: str(form.get(key, "")) for key in site_settings.KEYS if key in form}
    try:
        await site_settings.save(settings_of(request), viewer, changes)
    except KindredError as error:
        if not error.fields:
            raise
        context = await _settings_context(viewer, request)
        return await form_failed(
            request,
            "admin/settings.html",
            error,
            {**context, "values": {**context["values"], **changes}},
        )
    return redirect("/admin/settings", "The site's settings are saved.", request)


async def create_invite(request: Request) -> Response:
    viewer = await _admin(request)
    if viewer is None:
        return _to_login(request)
    form = await read_form(request)
    values = {key: str(form.get(key, "")) for key in ("max_uses", "days", "note")}
    try:
        invite = await site_settings.create_invite(viewer, **values)
    except KindredError as error:
        if not error.fields:
            raise
        context = await _settings_context(viewer, request)
        return await form_failed(
            request,
            "admin/settings.html",
            error,
            {**context, "invite_values": values},
            message_key="invite_error",
        )
    return redirect(
        "/admin/settings#invites",
        f"New invite code: {invite['code']} (for {invite['max_uses']} "
        f"{'person' if invite['max_uses'] == 1 else 'people'}).",
        request,
    )


async def revoke_invite(request: Request) -> Response:
    viewer = await _admin(request)
    if viewer is None:
        return _to_login(request)
    await read_form(request)
    invite_id = request.path_params["invite_id"]
    await site_settings.revoke_invite(viewer, invite_id)
    return redirect("/admin/settings#invites", "That invite code no longer works.", request)


# People --------------------------------------------------------------------------------------


async def users_page(request: Request) -> Response:
    viewer = await _admin(request)
    if viewer is None:
        return _to_login(request)
    query = request.query_params.get("q", "")
    role = request.query_params.get("role", "")
    listing = await admin.list_users(viewer, query=query, role=role, page=_page_number(request))
    return await page(
        request,
        "admin/users.html",
        {
            "current": "users",
            "users": listing,
            "query": query,
            "role": role if role in ROLES else "",
            "roles": admin.ROLE_NAMES,
        },
    )


async def change_role(request: Request) -> Response:
    viewer = await _admin(request)
    if viewer is None:
        return _to_login(request)
    form = await read_form(request)
    username = request.path_params["username"]
    try:
        user = await admin.change_role(
            viewer, username, form.get("role"), str(form.get("note", ""))
        )
    except KindredError as error:
        if error.status == 404:
            raise
        return redirect(f"/admin/users?q={quote(username)}", error.message, request)
    return redirect(
        f"/admin/users?q={quote(user['username'])}",
        f"{user['username']} is now {admin.ROLE_NAMES[user['role']].split(' (')[0].lower()}.",
        request,
    )


routes = [
    Route("/admin", index),
    Route("/admin/communities", communities_page, methods=["GET", "POST"]),
    Route("/admin/communities/{slug}", community_page, methods=["GET", "POST"]),
    Route("/admin/communities/{slug}/archive", archive, methods=["POST"]),
    Route("/admin/moderators", moderators_page, methods=["GET", "POST"]),
    Route("/admin/settings", settings_page, methods=["GET", "POST"]),
    Route("/admin/settings/invites", create_invite, methods=["POST"]),
    Route("/admin/settings/invites/{invite_id:int}/revoke", revoke_invite, methods=["POST"]),
    Route("/admin/users", users_page),
    Route("/admin/users/{username}/role", change_role, methods=["POST"]),
]
