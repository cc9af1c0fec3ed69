"""Pages for private conversations: the inbox, a conversation, starting one (from a profile or a
post), replying, leaving, muting, reporting a message, who may message you, and blocking."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum import blocks, messages, threads
from forum.errors import KindredError
from forum.tables import MESSAGE_AUDIENCES
from forum.validation import positive_int
from forum.web.render import form_failed, page, redirect, safe_next
from forum.web.session import get_viewer, read_form, settings_of
from moderation import forms as moderation_forms

SENT = "Your message is sent."


def _int_param(request: Request, name: str) -> int:
    value = request.path_params[name]
    return value if isinstance(value, int) else -1


def _after_sending(request: Request, result: dict[str, Any]) -> str:
    """The notice after sending; crisis resources on the next page if the words called for it."""
    moderation = result["moderation"]
    if moderation.get("resources"):
        request.session[moderation_forms.CRISIS_SESSION_KEY] = 1
    if moderation.get("action") == "hold":
        why = next((r["message"] for r in moderation["reasons"] if r["family"] != "crisis"), "")
        return f"Your message is waiting for a moderator before it's delivered. {why}".strip()
    if moderation.get("resources"):
        return f"{SENT} You're not alone: the people below are there to help, any time."
    return SENT


async def inbox(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/messages")
    listing = await messages.list_conversations(
        viewer, page=positive_int(request.query_params.get("page"), 1, maximum=10_000)
    )
    return await page(request, "messages/inbox.html", {"conversations": listing})


async def _new_context(request: Request) -> dict[str, Any]:
    """What the new-conversation form starts with: who it's for and, from a post, a subject."""
    viewer = await get_viewer(request)
    query = request.query_params
    values: dict[str, Any] = {"to": (query.get("to") or "")[:400], "subject": "", "body": ""}
    post_id = positive_int(query.get("post"), 0, maximum=2**31 - 1)
    if post_id:
        try:
            post: dict[str, Any] | None = await threads.get_post(viewer, post_id)
        except KindredError:
            post = None
        # Only posts shown under their author's own name lead to a conversation.
        if post and post.get("author_username"):
            values["to"] = post["author_username"]
            values["subject"] = f"About “{post['thread_title']}”"[:200]
    return {"values": values, "may_start": messages.may_start_conversations(viewer)}


async def new_conversation(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect(f"/login?next={request.url.path}?{request.url.query}")
    if request.method == "GET":
        return await page(request, "messages/new.html", await _new_context(request))
    form = await read_form(request)
    values = {key: str(form.get(key, "")) for key in ("to", "subject", "body")}
    context = {"values": values, "may_start": messages.may_start_conversations(viewer)}
    if moderation_forms.wants_redaction(form):
        return await moderation_forms.redacted_form(
            request, "messages/new.html", values, ("subject", "body"), context
        )
    try:
        result = await messages.start_conversation(
            settings_of(request),
            viewer,
            values["to"],
            values["body"],
            values["subject"],
            confirm_phi=moderation_forms.confirmed_phi(form),
        )
    except KindredError as error:
        return await form_failed(
            request,
            "messages/new.html",
            error,
            {**context, **moderation_forms.error_context(error)},
        )
    return redirect(
        f"/messages/{result['conversation']}#message-{result['id']}",
        _after_sending(request, result),
        request,
    )


async def _conversation_page(
    request: Request, conversation_id: int, extra: dict[str, Any] | None = None, status: int = 200
) -> Response:
    viewer = await get_viewer(request)
    before = positive_int(request.query_params.get("before"), 0, maximum=2**31 - 1) or None
    data = await messages.get_conversation(viewer, conversation_id, before=before)
    return await page(
        request,
        "messages/conversation.html",
        {**data, "report_reasons": REPORT_REASON_NAMES, **(extra or {})},
        status=status,
    )


async def conversation(request: Request) -> Response:
    viewer = await get_viewer(request)
    conversation_id = _int_param(request, "conversation_id")
    if not viewer.signed_in:
        return redirect(f"/login?next=/messages/{conversation_id}")
    return await _conversation_page(request, conversation_id)


async def reply(request: Request) -> Response:
    viewer = await get_viewer(request)
    conversation_id = _int_param(request, "conversation_id")
    if not viewer.signed_in:
        return redirect(f"/login?next=/messages/{conversation_id}")
    form = await read_form(request)
    body = str(form.get("body", ""))
    if moderation_forms.wants_redaction(form):
        data = await messages.get_conversation(viewer, conversation_id, mark_read=False)
        return await moderation_forms.redacted_form(
            request,
            "messages/conversation.html",
            {"body": body},
            ("body",),
            {**data, "report_reasons": REPORT_REASON_NAMES},
        )
    try:
        result = await messages.send_message(
            settings_of(request),
            viewer,
            conversation_id,
            body,
            confirm_phi=moderation_forms.confirmed_phi(form),
        )
    except KindredError as error:
        if error.status == 404:
            raise
        data = await messages.get_conversation(viewer, conversation_id, mark_read=False)
        return await form_failed(
            request,
            "messages/conversation.html",
            error,
            {
                **data,
                "report_reasons": REPORT_REASON_NAMES,
                "values": {"body": body},
                **moderation_forms.error_context(error),
            },
        )
    return redirect(
        f"/messages/{conversation_id}#message-{result['id']}",
        _after_sending(request, result),
        request,
    )


async def leave(request: Request) -> Response:
    viewer = await get_viewer(request)
    await read_form(request)
    await messages.leave(viewer, _int_param(request, "conversation_id"))
    return redirect("/messages", "You've left the conversation.", request)


async def mute(request: Request) -> Response:
    viewer = await get_viewer(request)
    form = await read_form(request)
    conversation_id = _int_param(request, "conversation_id")
    result = await messages.set_muted(viewer, conversation_id, form.get("muted"))
    notice = (
        "Muted: you won't be notified of new messages here."
        if result["muted"]
        else "Unmuted: you'll be notified of new messages here."
    )
    return redirect(f"/messages/{conversation_id}", notice, request)


REPORT_REASON_NAMES = {
    "harassment": "Harassment or abuse",
    "spam": "Spam or selling something",
    "misinformation": "Dangerous health claims",
    "privacy": "Shares someone's private details",
    "crisis": "Someone may be in danger",
    "other": "Something else",
}


async def report(request: Request) -> Response:
    viewer = await get_viewer(request)
    message_id = _int_param(request, "message_id")
    if not viewer.signed_in:
        return redirect("/login?next=/messages")
    message = await messages.get_message(viewer, message_id)
    context: dict[str, Any] = {
        "message": message,
        "back": await messages.message_link(viewer, message),
        "reasons": REPORT_REASON_NAMES,
        "max_shared": messages.MAX_SHARED,
        "values": {"reason": "harassment", "include_previous": "0"},
    }
    if request.method == "GET":
        return await page(request, "messages/report.html", context)
    form = await read_form(request)
    values = {key: str(form.get(key, "")) for key in ("reason", "note", "include_previous")}
    try:
        result = await messages.report_message(
            settings_of(request),
            viewer,
            message_id,
            values["reason"],
            values["note"],
            include_previous=values["include_previous"] or 0,
            block_sender=form.get("block") == "1",
        )
    except KindredError as error:
        if error.status == 404:
            raise
        return await form_failed(
            request, "messages/report.html", error, {**context, "values": values}
        )
    notice = "Thank you. A moderator will look at the message"
    notice += (
        f" and the {result['shared']} before it you shared."
        if result["shared"]
        else " you reported."
    )
    if result["blocked"]:
        notice += " You've blocked the sender."
    return redirect(context["back"], notice, request)


async def unsend(request: Request) -> Response:
    """Unsending asks first (a page, so it works without JavaScript); only the POST unsends."""
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/messages")
    message_id = _int_param(request, "message_id")
    message = await messages.get_message(viewer, message_id)
    if not message["mine"]:
        return redirect(f"/messages/{message['conversation']}")
    back = await messages.message_link(viewer, message)
    if request.method == "GET":
        return await page(request, "messages/unsend.html", {"message": message, "back": back})
    await read_form(request)
    try:
        await messages.unsend_message(viewer, message_id)
    except KindredError as error:
        if error.status == 404:
            raise
        return await form_failed(
            request, "messages/unsend.html", error, {"message": message, "back": back}
        )
    return redirect(
        back,
        "Your message is unsent: nobody in the conversation can read it any more.",
        request,
    )


async def settings_page(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/messages/settings")
    if request.method == "POST":
        form = await read_form(request)
        try:
            await messages.set_audience(viewer, form.get("audience"))
        except KindredError as error:
            data = await messages.message_settings(viewer)
            return await form_failed(
                request,
                "messages/settings.html",
                error,
                {**data, "audiences": messages.AUDIENCE_NAMES, "choices": MESSAGE_AUDIENCES},
            )
        return redirect("/messages/settings", "Saved: who may message you.", request)
    data = await messages.message_settings(viewer)
    return await page(
        request,
        "messages/settings.html",
        {**data, "audiences": messages.AUDIENCE_NAMES, "choices": MESSAGE_AUDIENCES},
    )


async def block(request: Request) -> Response:
    viewer = await get_viewer(request)
    username = request.path_params["username"]
    if not viewer.signed_in:
        return redirect(f"/login?next=/u/{username}")
    form = await read_form(request)
    back = safe_next(str(form.get("next") or ""), f"/u/{username}")
    if form.get("undo") == "1":
        person = await blocks.unblock(viewer, username)
        return redirect(back, f"You've unblocked {person['display_name']}.", request)
    person = await blocks.block(viewer, username)
    return redirect(
        back,
        f"You've blocked {person['display_name']}. You won't hear from them, and their posts "
        "are folded away for you.",
        request,
    )


routes = [
    Route("/messages", inbox),
    Route("/messages/new", new_conversation, methods=["GET", "POST"]),
    Route("/messages/settings", settings_page, methods=["GET", "POST"]),
    Route("/messages/{conversation_id:int}", conversation),
    Route("/messages/{conversation_id:int}/reply", reply, methods=["POST"]),
    Route("/messages/{conversation_id:int}/leave", leave, methods=["POST"]),
    Route("/messages/{conversation_id:int}/mute", mute, methods=["POST"]),
    Route("/messages/report/{message_id:int}", report, methods=["GET", "POST"]),
    Route("/messages/unsend/{message_id:int}", unsend, methods=["GET", "POST"]),
    Route("/u/{username}/block", block, methods=["POST"]),
]
