"""Moderation pages: the review queue at /mod, an item with its decision form, the audit log,
the "test a rule" page, the rules themselves, members' flag form and their notices.

Every page works without JavaScript; every decision is made by the services, which check who
may do what.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum import threads
from forum.content import excerpt
from forum.errors import KindredError, NotFound
from forum.validation import positive_int
from forum.web.render import form_failed, page, redirect
from forum.web.session import get_viewer, read_form, settings_of
from moderation import appointments, audit, decisions, flags, notices, queue
from moderation.items import REASONS
from moderation.posting import rules_for
from moderation.rulebook import RuleSet
from moderation.screening import Draft, screen

REASON_NAMES = {
    "crisis": "Crisis",
    "misinformation": "Misinformation",
    "privacy": "Personal details",
    "harassment": "Harassment",
    "spam": "Spam",
    "watched_word": "Watched word",
    "link": "Link",
    "trust": "New member",
    "appeal": "Appeal",
    "clinician": "Clinician application",
    "other": "Other",
}
ACTION_NAMES = {
    "approve": "Approve: publish it",
    "hide": "Hide it from members",
    "remove": "Remove it",
    "restore": "Restore it",
    "edit": "Edit it (the earlier version is kept)",
}


def _rules(request: Request) -> RuleSet:
    return rules_for(settings_of(request).data_dir)


def _int_param(request: Request, name: str) -> int:
    value = request.path_params[name]
    return value if isinstance(value, int) else -1


async def _signed_in(request: Request) -> Any:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return None
    return viewer


async def queue_page(request: Request) -> Response:
    viewer = await _signed_in(request)
    if viewer is None:
        return redirect("/login?next=/mod")
    query = request.query_params
    filters = {
        "reason": query.get("reason") or "",
        "community": query.get("community") or "",
        "state": query.get("state") or "open",
    }
    listing = await queue.list_queue(
        viewer,
        reason=filters["reason"] or None,
        community=filters["community"] or None,
        state=filters["state"],
        page=positive_int(query.get("page"), 1, maximum=10_000),
    )
    return await page(
        request,
        "moderation/queue.html",
        {
            "items": listing,
            "filters": filters,
            "reasons": REASONS,
            "reason_names": REASON_NAMES,
            "communities": await queue.moderated_communities(viewer),
            "query_base": "/mod?"
            + "&".join(f"{key}={value}" for key, value in filters.items() if value)
            + "&",
        },
    )


async def _item_page(
    request: Request, item_id: int, extra: dict[str, Any] | None = None, status: int = 200
) -> Response:
    viewer = await get_viewer(request)
    item = await queue.get_item(viewer, item_id)
    context = {
        "item": item,
        "reason_names": REASON_NAMES,
        "action_names": ACTION_NAMES,
        "values": {"body": item.get("post_body") or "", "days": "7"},
        **(extra or {}),
    }
    return await page(request, "moderation/item.html", context, status=status)


async def item_page(request: Request) -> Response:
    viewer = await _signed_in(request)
    if viewer is None:
        return redirect(f"/login?next=/mod/items/{_int_param(request, 'item_id')}")
    queue.ensure_moderator(viewer)
    item = await decisions.load_item(viewer, _int_param(request, "item_id"))
    if item["kind"] == "clinician_application":  # decided on its own page (forum.web.people)
        return redirect(f"/mod/clinician-applications/{item['object_id']}")
    return await _item_page(request, item["id"])


async def decide(request: Request) -> Response:
    viewer = await get_viewer(request)
    item_id = _int_param(request, "item_id")
    form = await read_form(request)
    values = {
        key: str(form.get(key, "")) for key in ("action", "note", "body", "days", "member_action")
    }
    action, member_action = values["action"], values["member_action"] or None
    if action == "member":  # "leave the post as it is; only act on the member"
        action, member_action = member_action or "warn", None
    try:
        result = await decisions.decide(
            viewer,
            item_id,
            action,
            values["note"],
            body=values["body"] if action == "edit" else None,
            days=values["days"] or None,
            member_action=member_action,
            rules=_rules(request),
        )
    except KindredError as error:
        if error.status == 404:
            raise
        item = await queue.get_item(viewer, item_id)
        return await form_failed(
            request,
            "moderation/item.html",
            error,
            {
                "item": item,
                "reason_names": REASON_NAMES,
                "action_names": ACTION_NAMES,
                "values": values,
            },
        )
    done = result["member_action"] or result["action"]
    return redirect(
        "/mod", f"Done: {done}. The author has been told, and it's in the log.", request
    )


async def audit_page(request: Request) -> Response:
    viewer = await _signed_in(request)
    if viewer is None:
        return redirect("/login?next=/mod/audit")
    entries = await audit.list_entries(
        viewer, page=positive_int(request.query_params.get("page"), 1, maximum=100_000)
    )
    return await page(request, "moderation/audit.html", {"entries": entries})


async def screen_page(request: Request) -> Response:
    viewer = await _signed_in(request)
    if viewer is None:
        return redirect("/login?next=/mod/screen")
    queue.ensure_moderator(viewer)
    context: dict[str, Any] = {"values": {"text": ""}}
    if request.method == "POST":
        form = await read_form(request)
        text = str(form.get("text", ""))[:20_000]
        context = {"values": {"text": text}, "verdict": screen(Draft(text=text), _rules(request))}
    return await page(request, "moderation/screen.html", context)


async def rules_page(request: Request) -> Response:
    viewer = await _signed_in(request)
    if viewer is None:
        return redirect("/login?next=/mod/rules")
    queue.ensure_moderator(viewer)
    return await page(request, "moderation/rules.html", {"rules": _rules(request)})


async def appoint(request: Request) -> Response:
    viewer = await get_viewer(request)
    form = await read_form(request)
    slug, username = str(form.get("community", "")), str(form.get("username", ""))
    try:
        if form.get("dismiss"):
            await appointments.dismiss_moderator(viewer, slug, username)
            message = f"{username} no longer moderates {slug}."
        else:
            await appointments.appoint_moderator(viewer, slug, username)
            message = f"{username} now moderates {slug}."
    except KindredError as error:
        if error.status in (401, 403):
            raise
        message = error.message
    return redirect("/mod", message, request)


async def flag(request: Request) -> Response:
    """A post's flag form on a page of its own (GET), and sending it (POST)."""
    viewer = await get_viewer(request)
    post_id = _int_param(request, "post_id")
    if not viewer.signed_in:
        return redirect(f"/login?next=/p/{post_id}/flag", "Sign in to flag a post.", request)
    post = await threads.get_post(viewer, post_id)
    context = {"post": post, "excerpt": excerpt(post["body"] or "", 300)}
    if request.method == "GET":
        try:
            await flags.ensure_can_flag_post(viewer, post_id)
        except KindredError as error:
            if error.status in (401, 404):
                raise
            return redirect(f"/t/{post['thread']}#post-{post_id}", error.message, request)
        return await page(request, "moderation/flag.html", context)
    form = await read_form(request)
    try:
        await flags.flag_post(
            viewer, post_id, form.get("reason"), form.get("note") or "", rules=_rules(request)
        )
    except KindredError as error:
        if error.status in (401, 404):
            raise
        values = {"reason": str(form.get("reason", "")), "note": str(form.get("note", ""))}
        return await form_failed(
            request, "moderation/flag.html", error, {**context, "values": values}
        )
    return redirect(
        f"/t/{post['thread']}#post-{post_id}",
        "Thank you for flagging this. A moderator will look at it.",
        request,
    )


async def notices_page(request: Request) -> Response:
    viewer = await _signed_in(request)
    if viewer is None:
        return redirect("/login?next=/notices")
    listing = await notices.list_notices(viewer)
    appealed = await decisions.appealed_items(viewer, [n["item_id"] for n in listing])
    await notices.mark_all_read(viewer)
    return await page(
        request, "moderation/notices.html", {"notices": listing, "appealed": appealed}
    )


async def appeal(request: Request) -> Response:
    viewer = await get_viewer(request)
    item_id = _int_param(request, "item_id")
    if not viewer.signed_in:
        return redirect("/login?next=/notices")
    form = await read_form(request)
    try:
        await decisions.appeal(viewer, item_id, form.get("reason"))
    except KindredError as error:
        if error.status == 404:
            raise NotFound("We couldn't find that decision.") from error
        listing = await notices.list_notices(viewer)
        appealed = await decisions.appealed_items(viewer, [n["item_id"] for n in listing])
        return await form_failed(
            request,
            "moderation/notices.html",
            error,
            {
                "notices": listing,
                "appealed": appealed,
                "appeal_item": item_id,
                "values": {"reason": str(form.get("reason", ""))},
            },
        )
    return redirect(
        "/notices",
        "Your appeal is sent. A different moderator will look at it, and you'll hear back here.",
        request,
    )


routes = [
    Route("/mod", queue_page),
    Route("/mod/items/{item_id:int}", item_page),
    Route("/mod/items/{item_id:int}/decide", decide, methods=["POST"]),
    Route("/mod/audit", audit_page),
    Route("/mod/screen", screen_page, methods=["GET", "POST"]),
    Route("/mod/rules", rules_page),
    Route("/mod/moderators", appoint, methods=["POST"]),
    Route("/p/{post_id:int}/flag", flag, methods=["GET", "POST"]),
    Route("/notices", notices_page),
    Route("/notices/{item_id:int}/appeal", appeal, methods=["POST"]),
]
