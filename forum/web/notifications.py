"""Pages for notifications (the list behind the bell, marking them read), following and muting,
e-mail preferences, and one-click unsubscribing from an e-mail's link."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum import follows, mail, notifications
from forum.errors import KindredError
from forum.validation import positive_int
from forum.web.render import page, redirect, safe_next
from forum.web.session import get_viewer, read_form, signer_of

FOLLOW_MESSAGES = {
    "follow": "You're following {name}. You'll hear about what's new.",
    "unfollow": "You've stopped following {name}.",
    "mute": "{name} is muted: you won't hear about it, even when mentioned.",
    "unmute": "{name} is unmuted; you're following it again.",
}


async def list_page(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/notifications")
    unread_only = request.query_params.get("unread") == "1"
    listing = await notifications.list_notifications(
        viewer,
        page=positive_int(request.query_params.get("page"), 1, maximum=10_000),
        unread_only=unread_only,
    )
    return await page(
        request,
        "notifications/list.html",
        {"notifications": listing, "unread_only": unread_only},
    )


async def open_one(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/notifications")
    notification_id = request.path_params["notification_id"]
    return redirect(await notifications.open_notification(viewer, notification_id))


async def mark_read(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/notifications")
    form = await read_form(request)
    ids = [int(value) for value in form.getlist("id") if str(value).isdigit()]
    await notifications.mark_read(viewer, ids or None)
    message = "Marked as read." if ids else "All caught up: everything is marked as read."
    return redirect("/notifications", message, request)


async def following_page(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/notifications/following")
    return await page(
        request, "notifications/following.html", {"follows": await follows.list_follows(viewer)}
    )


async def follow(request: Request) -> Response:
    viewer = await get_viewer(request)
    form = await read_form(request)
    back = safe_next(str(form.get("next", "")), "/notifications/following")
    if not viewer.signed_in:
        return redirect(f"/login?next={back}", "Sign in to follow.", request)
    action = str(form.get("action", ""))
    try:
        result = await follows.change(viewer, form.get("kind"), form.get("target"), action)
    except KindredError as error:
        if error.status == 404:
            raise
        message = error.message if not error.fields else "; ".join(error.fields.values())
        return redirect(back, message, request)
    name = f"“{result['name']}”" if result["kind"] in ("thread", "story") else result["name"]
    message = FOLLOW_MESSAGES[action].format(name=name)
    return redirect(back, message[0].upper() + message[1:], request)


async def email_settings(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/settings")
    form = await read_form(request)
    try:
        await mail.update_email_settings(
            viewer,
            mode=form.get("email_mode"),
            email=str(form.get("email", "")),
            time_zone=form.get("time_zone"),
        )
    except KindredError as error:
        message = error.message if not error.fields else " ".join(error.fields.values())
        return redirect("/settings#email", message, request)
    return redirect("/settings#email", "Your e-mail settings are saved.", request)


async def unsubscribe(request: Request) -> Response:
    """One click from an e-mail stops all e-mail, signed in or not (the link is the proof).
    A POST is the RFC 8058 one-click form mail programs send from List-Unsubscribe."""
    token = request.path_params["token"]
    try:
        user = await mail.unsubscribe(signer_of(request), token)
    except KindredError:
        return await page(request, "notifications/unsubscribed.html", {"user": None}, status=400)
    return await page(request, "notifications/unsubscribed.html", {"user": user})


routes = [
    Route("/notifications", list_page),
    Route("/notifications/read", mark_read, methods=["POST"]),
    Route("/notifications/following", following_page),
    Route("/notifications/{notification_id:int}", open_one),
    Route("/follow", follow, methods=["POST"]),
    Route("/settings/email", email_settings, methods=["POST"]),
    Route("/unsubscribe/{token}", unsubscribe, methods=["GET", "POST"]),
]
