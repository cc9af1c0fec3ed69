"""Pages for reading threads, starting them, replying, editing and deleting posts."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum import communities, insights, threads
from forum.clinicians import SPECIALTIES
from forum.errors import KindredError
from forum.permissions import ensure_can_delete_post, ensure_can_edit_post
from forum.validation import positive_int
from forum.web.post_list import posts_html
from forum.web.render import form_failed, page, redirect
from forum.web.session import (
    csrf_token,
    get_viewer,
    read_form,
    remember_session_viewer,
    session_user,
    settings_of,
)
from moderation import forms as moderation_forms


def _int_param(request: Request, name: str) -> int:
    value = request.path_params[name]
    return value if isinstance(value, int) else -1


async def thread_page(request: Request) -> Response:
    thread_id = _int_param(request, "thread_id")
    number = positive_int(request.query_params.get("page"), 1, maximum=10_000)
    signed_in = session_user(request)
    data = None
    if signed_in is not None:  # who is reading and the thread in one round trip
        viewer, data = await threads.get_thread_for_session(*signed_in, thread_id, page=number)
        remember_session_viewer(request, viewer)
    if data is None:
        data = await threads.get_thread(await get_viewer(request), thread_id, page=number)
    templates = request.app.state.templates
    data["posts_html"] = posts_html(templates, data, csrf_token(request))
    return await page(request, "threads/thread.html", data)


async def new_thread(request: Request) -> Response:
    viewer = await get_viewer(request)
    slug = request.path_params["slug"]
    if not viewer.signed_in:
        return redirect(f"/login?next=/c/{slug}/new", "Sign in to start a conversation.", request)
    community = await communities.get_community(viewer, slug)
    if request.method == "GET":
        return await page(
            request,
            "threads/new.html",
            {
                "community": community,
                "values": {"kind": request.query_params.get("kind", "discussion")},
                "specialties": SPECIALTIES,
            },
        )
    form = await read_form(request)
    values = {
        key: str(form.get(key, "")) for key in ("title", "body", "kind", "specialty", "anonymous")
    }
    if moderation_forms.wants_redaction(form):
        return await moderation_forms.redacted_form(
            request,
            "threads/new.html",
            values,
            ("title", "body"),
            {"community": community, "specialties": SPECIALTIES},
        )
    try:
        created = await threads.start_thread(
            settings_of(request),
            viewer,
            slug,
            threads.Draft(
                title=values["title"],
                body=values["body"],
                kind=values["kind"] or "discussion",
                confirm_phi=moderation_forms.confirmed_phi(form),
                specialty=values["specialty"],
                anonymous=values["anonymous"] == "1",
            ),
        )
    except KindredError as error:
        return await form_failed(
            request,
            "threads/new.html",
            error,
            {
                "community": community,
                "values": values,
                "specialties": SPECIALTIES,
                **moderation_forms.error_context(error),
            },
        )
    typical = await insights.typical_reply(community["id"])
    return redirect(
        f"/t/{created['id']}",
        moderation_forms.after_posting(
            request,
            created["moderation"],
            f"Your post is up. People here usually reply within {typical}."
            if typical
            else "Your post is up. We'll let you know in your notifications when someone replies.",
        ),
        request,
    )


async def reply(request: Request) -> Response:
    viewer = await get_viewer(request)
    thread_id = _int_param(request, "thread_id")
    if not viewer.signed_in:
        return redirect(f"/login?next=/t/{thread_id}", "Sign in to reply.", request)
    form = await read_form(request)
    body = str(form.get("body", ""))
    anonymous = str(form.get("anonymous", ""))  # forum.anonymity
    if moderation_forms.wants_redaction(form):
        data = await threads.get_thread(viewer, thread_id)
        return await moderation_forms.redacted_form(
            request,
            "threads/thread.html",
            {"body": body, "anonymous": anonymous},
            ("body",),
            data,
        )
    try:
        created = await threads.post_reply(
            settings_of(request),
            viewer,
            thread_id,
            body,
            confirm_phi=moderation_forms.confirmed_phi(form),
            anonymous=anonymous == "1",
        )
    except KindredError as error:
        if error.status == 404:
            raise
        data = await threads.get_thread(viewer, thread_id)
        return await form_failed(
            request,
            "threads/thread.html",
            error,
            {
                **data,
                "values": {"body": body, "anonymous": anonymous},
                **moderation_forms.error_context(error),
            },
        )
    data = await threads.get_thread(viewer, thread_id)
    last_page = data["posts"].pages
    return redirect(
        f"/t/{thread_id}?page={last_page}#post-{created['id']}",
        moderation_forms.after_posting(request, created["moderation"], "Your reply is posted."),
        request,
    )


async def edit_post(request: Request) -> Response:
    viewer = await get_viewer(request)
    post = await threads.get_post(viewer, _int_param(request, "post_id"))
    # Only the author or a moderator gets the form; everyone else learns nothing new.
    ensure_can_edit_post(viewer, post, post["community_id"])
    if request.method == "GET":
        return await page(request, "threads/edit.html", {"post": post, "values": post})
    form = await read_form(request)
    values = {"body": str(form.get("body", "")), "title": form.get("title")}
    if moderation_forms.wants_redaction(form):
        return await moderation_forms.redacted_form(
            request, "threads/edit.html", {**post, **values}, ("body", "title"), {"post": post}
        )
    try:
        edited = await threads.edit_post(
            viewer,
            post["id"],
            values["body"],
            title=str(values["title"]) if values["title"] is not None else None,
            settings=settings_of(request),
            confirm_phi=moderation_forms.confirmed_phi(form),
        )
    except KindredError as error:
        if error.status == 404:
            raise
        return await form_failed(
            request,
            "threads/edit.html",
            error,
            {
                "post": post,
                "values": {**post, **values},
                **moderation_forms.error_context(error),
            },
        )
    return redirect(
        f"/t/{post['thread']}#post-{post['id']}",
        moderation_forms.after_posting(request, edited["moderation"], "Your changes are saved."),
        request,
    )


async def delete_post(request: Request) -> Response:
    """Deleting asks first (a page, so it works without JavaScript); only the POST deletes."""
    viewer = await get_viewer(request)
    if request.method == "GET":
        post = await threads.get_post(viewer, _int_param(request, "post_id"))
        ensure_can_delete_post(viewer, post)
        return await page(request, "threads/delete.html", {"post": post})
    await read_form(request)
    post = await threads.delete_post(viewer, _int_param(request, "post_id"))
    return redirect(f"/t/{post['thread']}", "Your post is deleted.", request)


async def post_history(request: Request) -> Response:
    viewer = await get_viewer(request)
    post = await threads.get_post(viewer, _int_param(request, "post_id"))
    history = await threads.revisions(viewer, post["id"])
    return await page(request, "threads/history.html", {"post": post, "history": history})


routes = [
    Route("/t/{thread_id:int}", thread_page),
    Route("/c/{slug}/new", new_thread, methods=["GET", "POST"]),
    Route("/t/{thread_id:int}/reply", reply, methods=["POST"]),
    Route("/p/{post_id:int}/edit", edit_post, methods=["GET", "POST"]),
    Route("/p/{post_id:int}/delete", delete_post, methods=["GET", "POST"]),
    Route("/p/{post_id:int}/history", post_history),
]
