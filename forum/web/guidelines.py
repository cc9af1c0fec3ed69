"""Pages for community guidelines (reading, accepting, editing), the orientation for new
members, joining with the guidelines accepted, and the site's own notices: /privacy,
/disclaimer and /crisis."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum import communities, guidelines
from forum.errors import KindredError
from forum.permissions import Viewer, moderates
from forum.validation import positive_int
from forum.web.render import form_failed, page, redirect, safe_next
from forum.web.session import get_viewer, read_form, settings_of
from moderation.posting import rules_for


async def community_extras(viewer: Viewer, community: dict[str, Any]) -> dict[str, Any]:
    """What the community page shows about guidelines and onboarding (one query)."""
    return {"onboarding": await guidelines.state(viewer, community)}


async def _join_context(viewer: Viewer, slug: Any) -> dict[str, Any]:
    community = await communities.get_community(viewer, slug)
    return {"community": community, "guidelines": await guidelines.current(community["id"])}


async def join_failed(request: Request, viewer: Viewer, slug: Any, error: KindredError) -> Response:
    """Joining without accepting the guidelines: the join page again, saying why."""
    return await form_failed(
        request, "guidelines/join.html", error, await _join_context(viewer, slug)
    )


async def join_page(request: Request) -> Response:
    """The guidelines and an "I accept" box, before joining (the form posts to /c/{slug}/join)."""
    viewer = await get_viewer(request)
    slug = request.path_params["slug"]
    if not viewer.signed_in:
        return redirect(
            f"/login?next=/c/{slug}/join", "Sign in or register to join this community.", request
        )
    context = await _join_context(viewer, slug)
    if context["community"]["is_member"]:
        return redirect(f"/c/{context['community']['slug']}")
    return await page(request, "guidelines/join.html", context)


async def guidelines_page(request: Request) -> Response:
    viewer = await get_viewer(request)
    slug = request.path_params["slug"]
    community = await communities.get_community(viewer, slug)
    requested = request.query_params.get("version")
    if requested:
        shown = await guidelines.get_version(
            viewer, community["slug"], positive_int(requested, 0, maximum=2**31 - 1)
        )
    else:
        shown = await guidelines.current(community["id"])
    _, versions = await guidelines.versions(viewer, community["slug"])
    state = await guidelines.state(viewer, community)
    return await page(
        request,
        "guidelines/page.html",
        {
            "community": community,
            "shown": shown,
            "versions": versions,
            "onboarding": state,
            "next": safe_next(request.query_params.get("next"), f"/c/{community['slug']}"),
        },
    )


async def accept(request: Request) -> Response:
    viewer = await get_viewer(request)
    slug = request.path_params["slug"]
    if not viewer.signed_in:
        return redirect(f"/login?next=/c/{slug}/guidelines")
    form = await read_form(request)
    target = safe_next(str(form.get("next", "")), f"/c/{slug}")
    try:
        await guidelines.accept(viewer, slug, form.get("accept_guidelines_version"))
    except KindredError as error:
        if error.status in (401, 403, 404):
            raise
        community = await communities.get_community(viewer, slug)
        _, versions = await guidelines.versions(viewer, community["slug"])
        return await form_failed(
            request,
            "guidelines/page.html",
            error,
            {
                "community": community,
                "shown": await guidelines.current(community["id"]),
                "versions": versions,
                "onboarding": await guidelines.state(viewer, community),
                "next": target,
            },
        )
    return redirect(target, "Thank you for accepting the guidelines. You can post again.", request)


async def edit(request: Request) -> Response:
    viewer = await get_viewer(request)
    slug = request.path_params["slug"]
    if not viewer.signed_in:
        return redirect(f"/login?next=/c/{slug}/guidelines/edit")
    community = await communities.get_community(viewer, slug)
    if not moderates(viewer, community["id"]):
        from forum.errors import Forbidden

        raise Forbidden("Only this community's moderators can change its guidelines.")
    current = await guidelines.current(community["id"])
    if request.method == "GET":
        values = {"body": current["body"] if current else "", "note": ""}
        return await page(
            request,
            "guidelines/edit.html",
            {"community": community, "current": current, "values": values},
        )
    form = await read_form(request)
    values = {"body": str(form.get("body", "")), "note": str(form.get("note", ""))}
    try:
        saved = await guidelines.publish(viewer, community["slug"], values["body"], values["note"])
    except KindredError as error:
        if not error.fields:
            raise
        return await form_failed(
            request,
            "guidelines/edit.html",
            error,
            {"community": community, "current": current, "values": values},
        )
    return redirect(
        f"/c/{community['slug']}/guidelines",
        f"Version {saved['version']} of the guidelines is published. Members will be asked to "
        "accept it before they post again.",
        request,
    )


async def welcome(request: Request) -> Response:
    """The orientation, any time."""
    viewer = await get_viewer(request)
    community = await communities.get_community(viewer, request.path_params["slug"])
    state = await guidelines.state(viewer, community)
    return await page(
        request, "guidelines/welcome.html", {"community": community, "onboarding": state}
    )


async def dismiss_welcome(request: Request) -> Response:
    viewer = await get_viewer(request)
    slug = request.path_params["slug"]
    if not viewer.signed_in:
        return redirect(f"/login?next=/c/{slug}")
    await read_form(request)
    community = await guidelines.mark_oriented(viewer, slug)
    return redirect(
        f"/c/{community['slug']}",
        f"You can read this again any time at “How {community['name']} works”.",
        request,
    )


async def privacy(request: Request) -> Response:
    site = await request.app.state.site_settings.get()
    return await page(
        request,
        "guidelines/notice.html",
        {"heading": "Privacy", "html": site.privacy_html, "kind": "privacy"},
    )


async def disclaimer(request: Request) -> Response:
    site = await request.app.state.site_settings.get()
    return await page(
        request,
        "guidelines/notice.html",
        {"heading": "Medical disclaimer", "html": site.disclaimer_html, "kind": "disclaimer"},
    )


async def crisis(request: Request) -> Response:
    """Where to find help now: the crisis resources screening would show (the site's own, if
    its administrators set them)."""
    await request.app.state.site_settings.get()  # brings moderation's resources up to date
    resources = rules_for(settings_of(request).data_dir).resources
    return await page(request, "guidelines/crisis.html", {"resources": resources})


routes = [
    Route("/c/{slug}/join", join_page, methods=["GET"]),
    Route("/c/{slug}/guidelines", guidelines_page),
    Route("/c/{slug}/guidelines/accept", accept, methods=["POST"]),
    Route("/c/{slug}/guidelines/edit", edit, methods=["GET", "POST"]),
    Route("/c/{slug}/welcome", welcome),
    Route("/c/{slug}/welcome/dismiss", dismiss_welcome, methods=["POST"]),
    Route("/privacy", privacy),
    Route("/disclaimer", disclaimer),
    Route("/crisis", crisis),
]
