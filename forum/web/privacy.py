"""Pages for privacy within a community: the name a member goes by there (forum.aliases),
whether the community allows anonymous posts (forum.anonymity, for its moderators), and a
moderator's audited request to see who wrote an anonymous post (moderation.reveal)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum import aliases, anonymity, communities
from forum.errors import KindredError
from forum.permissions import Viewer
from forum.web.render import form_failed, page, redirect
from forum.web.session import get_viewer, read_form
from moderation import queue, reveal


async def _context(viewer: Viewer, slug: str) -> dict[str, Any]:
    community = await communities.get_community(viewer, slug)
    name = await aliases.name_in(viewer.id, community["id"])
    return {"community": community, "current_name": name, "values": {"display_name": name or ""}}


async def privacy_page(request: Request) -> Response:
    viewer = await get_viewer(request)
    slug = request.path_params["slug"]
    if not viewer.signed_in:
        return redirect(f"/login?next=/c/{slug}/privacy")
    return await page(request, "privacy/community.html", await _context(viewer, slug))


async def set_name(request: Request) -> Response:
    viewer = await get_viewer(request)
    slug = request.path_params["slug"]
    form = await read_form(request)
    name = str(form.get("display_name", ""))
    if form.get("clear") == "1":
        name = ""
    try:
        result = await aliases.set_name(viewer, slug, name)
    except KindredError as error:
        if error.status in (401, 404):
            raise
        context = await _context(viewer, slug)
        return await form_failed(
            request,
            "privacy/community.html",
            error,
            {**context, "values": {"display_name": name}},
        )
    notice = (
        f"Here you now go by “{result['display_name']}”."
        if result["display_name"]
        else "Here you now go by your own display name."
    )
    return redirect(f"/c/{slug}/privacy", notice, request)


async def set_anonymous(request: Request) -> Response:
    viewer = await get_viewer(request)
    slug = request.path_params["slug"]
    form = await read_form(request)
    community = await anonymity.set_allow_anonymous(viewer, slug, form.get("allow") == "1")
    notice = (
        "Members can now post anonymously here."
        if community["allow_anonymous"]
        else "Anonymous posting is now off here; what was posted anonymously stays anonymous."
    )
    return redirect(f"/c/{slug}/privacy", notice, request)


async def reveal_author(request: Request) -> Response:
    viewer = await get_viewer(request)
    item_id = request.path_params["item_id"]
    if not viewer.signed_in:
        return redirect(f"/login?next=/mod/items/{item_id}")
    queue.ensure_moderator(viewer)
    form = await read_form(request)
    reason = str(form.get("reason", ""))
    try:
        await reveal.reveal_author(viewer, item_id, reason)
    except KindredError as error:
        if error.status in (401, 403, 404):
            raise
        from moderation.web import ACTION_NAMES, REASON_NAMES

        item = await queue.get_item(viewer, item_id)
        return await form_failed(
            request,
            "moderation/item.html",
            error,
            {
                "item": item,
                "reason_names": REASON_NAMES,
                "action_names": ACTION_NAMES,
                "values": {"reason": reason, "body": item.get("post_body") or "", "days": "7"},
            },
        )
    return redirect(
        f"/mod/items/{item_id}",
        "The author is shown below. Your reason is in the moderation log.",
        request,
    )


routes = [
    Route("/c/{slug}/privacy", privacy_page),
    Route("/c/{slug}/privacy/name", set_name, methods=["POST"]),
    Route("/c/{slug}/privacy/anonymous", set_anonymous, methods=["POST"]),
    Route("/mod/items/{item_id:int}/reveal", reveal_author, methods=["POST"]),
]
