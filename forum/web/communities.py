"""Pages for the home page, community pages, joining, leaving and creating communities."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum import admin, communities, follows, stories, threads
from forum.errors import KindredError
from forum.guidelines import GuidelinesNotAccepted
from forum.validation import positive_int
from forum.web import guidelines as web_guidelines
from forum.web.render import form_failed, page, redirect
from forum.web.session import get_viewer, read_form


async def home(request: Request) -> Response:
    viewer = await get_viewer(request)
    listing = await communities.list_communities(
        viewer, positive_int(request.query_params.get("page"), 1, maximum=10_000), per_page=30
    )
    recent = await threads.recent_threads(viewer)
    return await page(request, "home.html", {"communities": listing, "recent": recent})


async def community_page(request: Request) -> Response:
    viewer = await get_viewer(request)
    community = await communities.get_community(viewer, request.path_params["slug"])
    kind = request.query_params.get("kind")
    expert = request.query_params.get("expert") == "1"
    _, listing = await threads.list_threads(
        viewer,
        community["slug"],
        page=positive_int(request.query_params.get("page"), 1, maximum=10_000),
        kind=kind,
        expert_answered=expert,
        community=community,
    )
    return await page(
        request,
        "communities/community.html",
        {
            "community": community,
            "threads": listing,
            "kind": kind,
            "expert": expert,
            # Recent stories are featured on the community's page (forum.stories).
            "stories": await stories.recent_stories(viewer, community["id"], limit=3),
            "follow_state": await follows.state(viewer, "community", community["id"]),
            # Guidelines to accept and the orientation for new members (forum.guidelines).
            **await web_guidelines.community_extras(viewer, community),
        },
    )


async def join(request: Request) -> Response:
    viewer = await get_viewer(request)
    slug = request.path_params["slug"]
    if not viewer.signed_in:
        return redirect(
            f"/login?next=/c/{slug}", "Sign in or register to join this community.", request
        )
    form = await read_form(request)
    try:
        community = await communities.join(
            viewer, slug, accepted_version=form.get("accept_guidelines_version")
        )
    except GuidelinesNotAccepted as error:
        return await web_guidelines.join_failed(request, viewer, slug, error)
    return redirect(
        f"/c/{community['slug']}", f"You've joined {community['name']}. Welcome!", request
    )


async def leave(request: Request) -> Response:
    viewer = await get_viewer(request)
    await read_form(request)
    community = await communities.leave(viewer, request.path_params["slug"])
    return redirect(f"/c/{community['slug']}", f"You've left {community['name']}.", request)


async def new_community(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/communities/new")
    if request.method == "GET":
        if not viewer.is_admin:
            from forum.errors import Forbidden

            raise Forbidden("Only administrators can create communities.")
        return await page(request, "communities/new.html", {"values": {"visibility": "public"}})
    form = await read_form(request)
    values = {key: str(form.get(key, "")) for key in ("slug", "name", "description", "visibility")}
    try:
        community = await admin.create_community(viewer, **values)  # logged
    except KindredError as error:
        if not error.fields:
            raise
        return await form_failed(request, "communities/new.html", error, {"values": values})
    return redirect(f"/c/{community['slug']}", "The community is ready.", request)


routes = [
    Route("/", home),
    Route("/communities/new", new_community, methods=["GET", "POST"]),
    Route("/c/{slug}", community_page),
    Route("/c/{slug}/join", join, methods=["POST"]),
    Route("/c/{slug}/leave", leave, methods=["POST"]),
]
