"""Pages for people and expertise: experience tags, clinicians' verification, reactions,
accepted answers, the unanswered list, privacy, the data export and deleting an account.

Every control is a small form that works without JavaScript; the services decide who may do
what.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum import answers, clinicians, communities, experience, profiles, reactions
from forum.errors import KindredError
from forum.permissions import Viewer
from forum.validation import positive_int
from forum.web.render import form_failed, page, redirect, safe_next
from forum.web.session import get_viewer, read_form, settings_of, sign_out


def _int_param(request: Request, name: str) -> int:
    value = request.path_params[name]
    return value if isinstance(value, int) else -1


def _int(value: Any) -> int:
    try:
        return int(str(value))
    except ValueError:
        return -1


def _back(form: Any, default: str) -> str:
    return safe_next(str(form.get("next", "")), default)


# Experience tags ----------------------------------------------------------------------------


async def _experience_context(viewer: Viewer) -> dict[str, Any]:
    joined = await communities.list_communities(viewer, 1, 100)
    mine = await experience.my_tags(viewer)
    return {
        "tags": mine,
        "communities": [c for c in joined.items if c["is_member"] or c["id"] in viewer.moderates],
        "relations": experience.RELATIONS,
        "relation_names": experience.RELATION_NAMES,
        "relation_hints": experience.RELATION_HINTS,
    }


async def experience_page(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/me/experience")
    if request.method == "GET":
        context = await _experience_context(viewer)
        chosen = request.query_params.get("community", "")
        existing = next((t for t in context["tags"] if t["community_slug"] == chosen), None)
        values = (
            {
                "community": chosen,
                "relation": existing["relation"],
                "since": existing["since_year"] or "",
                "treatments": ", ".join(existing["treatments"]),
                "note": existing["note"],
            }
            if existing
            else {"community": chosen, "relation": "patient"}
        )
        return await page(request, "people/experience.html", {**context, "values": values})
    form = await read_form(request)
    values = {
        key: str(form.get(key, ""))
        for key in ("community", "relation", "since", "treatments", "note")
    }
    try:
        tag, created = await experience.declare(
            viewer,
            values["community"],
            values["relation"],
            since=values["since"],
            treatments=values["treatments"],
            note=values["note"],
        )
    except KindredError as error:
        if error.status in (401, 404) and not error.fields:
            raise
        return await form_failed(
            request,
            "people/experience.html",
            error,
            {**await _experience_context(viewer), "values": values},
        )
    said = "added" if created else "updated"
    return redirect(
        "/me/experience",
        f"Your experience in {tag['community_name']} is {said}: “{tag['label']}”.",
        request,
    )


async def experience_visibility(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/me/experience")
    form = await read_form(request)
    hidden = str(form.get("hidden", "")) == "1"
    tag = await experience.set_hidden(viewer, _int_param(request, "tag_id"), hidden)
    message = (
        f"“{tag['label']}” is hidden: only you can see it."
        if hidden
        else f"“{tag['label']}” shows beside your name in {tag['community_name']} again."
    )
    return redirect(_back(form, "/me/experience"), message, request)


async def experience_delete(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/me/experience")
    await read_form(request)
    await experience.remove(viewer, _int_param(request, "tag_id"))
    return redirect("/me/experience", "Your experience tag is deleted.", request)


async def vouch(request: Request) -> Response:
    viewer = await get_viewer(request)
    form = await read_form(request)
    if not viewer.signed_in:
        return redirect("/login", "Sign in to vouch for someone's experience.", request)
    back = _back(form, "/")
    tag_id = _int_param(request, "tag_id")
    try:
        if str(form.get("undo", "")) == "1":
            await experience.unvouch(viewer, tag_id)
            message = "You no longer vouch for this experience."
        else:
            await experience.vouch(viewer, tag_id)
            message = "Thank you: you vouch for this experience."
    except KindredError as error:
        if error.status in (401, 404):
            raise
        message = error.message
    return redirect(back, message, request)


async def confirm(request: Request) -> Response:
    viewer = await get_viewer(request)
    form = await read_form(request)
    if not viewer.signed_in:
        return redirect("/login")
    back = _back(form, "/")
    confirmed = str(form.get("confirmed", "1")) == "1"
    try:
        await experience.confirm(
            viewer, _int_param(request, "tag_id"), confirmed, str(form.get("note", ""))
        )
        message = (
            "The experience is confirmed; the log records it."
            if confirmed
            else "The confirmation is withdrawn; the log records it."
        )
    except KindredError as error:
        if error.status in (401, 404):
            raise
        message = error.message
    return redirect(back, message, request)


# Clinicians -------------------------------------------------------------------------------


async def _clinician_context(viewer: Viewer) -> dict[str, Any]:
    latest = await clinicians.latest_application(viewer.id)  # type: ignore[arg-type]
    current = await clinicians.current_verification(viewer.id)
    return {
        "latest": latest,
        "current": current,
        "current_credential": clinicians.credential_label(current) if current else None,
        "specialties": clinicians.SPECIALTIES,
        "specialty_names": clinicians.SPECIALTY_NAMES,
    }


async def clinician_page(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/me/clinician")
    if request.method == "GET":
        return await page(
            request,
            "people/clinician_apply.html",
            {**await _clinician_context(viewer), "values": {"other_specialties": []}},
        )
    form = await read_form(request)
    values: dict[str, Any] = {
        key: str(form.get(key, ""))
        for key in ("profession", "specialty", "license_region", "license_number", "evidence_url")
    }
    values["other_specialties"] = [str(v) for v in form.getlist("other_specialties")]
    try:
        await clinicians.apply(viewer, clinicians.Application(**values))
    except KindredError as error:
        if error.status in (401,):
            raise
        return await form_failed(
            request,
            "people/clinician_apply.html",
            error,
            {**await _clinician_context(viewer), "values": values},
        )
    return redirect(
        "/me/clinician",
        "Your application is with the moderators. You'll get a message here when it's decided.",
        request,
    )


async def application_page(request: Request) -> Response:
    viewer = await get_viewer(request)
    application_id = _int_param(request, "application_id")
    if not viewer.signed_in:
        return redirect(f"/login?next=/mod/clinician-applications/{application_id}")
    application = await clinicians.get_application(viewer, application_id)
    trail = []
    if viewer.is_admin or viewer.moderates:
        from moderation import audit

        if application["item_id"]:
            trail = (
                await audit.list_entries(viewer, item_id=application["item_id"], per_page=50)
            ).items
    return await page(
        request,
        "people/application.html",
        {
            "application": application,
            "trail": trail,
            "specialty_names": clinicians.SPECIALTY_NAMES,
            "values": {"action": "approve", "valid_days": str(clinicians.VALID_DAYS)},
        },
    )


async def decide_application(request: Request) -> Response:
    viewer = await get_viewer(request)
    application_id = _int_param(request, "application_id")
    if not viewer.signed_in:
        return redirect(f"/login?next=/mod/clinician-applications/{application_id}")
    form = await read_form(request)
    values = {key: str(form.get(key, "")) for key in ("action", "note", "valid_days")}
    try:
        result = await clinicians.decide(
            viewer,
            application_id,
            values["action"],
            values["note"],
            valid_days=values["valid_days"] or None,
        )
    except KindredError as error:
        if error.status in (401, 404):
            raise
        application = await clinicians.get_application(viewer, application_id)
        return await form_failed(
            request,
            "people/application.html",
            error,
            {
                "application": application,
                "trail": [],
                "specialty_names": clinicians.SPECIALTY_NAMES,
                "values": values,
            },
        )
    done = "approved" if result["status"] == clinicians.APPROVED else "rejected"
    return redirect(
        "/mod", f"The application is {done}. The applicant has been told; it's in the log.", request
    )


async def clinicians_page(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/mod/clinicians")
    listing = await clinicians.verified_clinicians(viewer)
    return await page(request, "people/clinicians.html", {"clinicians": listing})


async def revoke(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/mod/clinicians")
    form = await read_form(request)
    username = request.path_params["username"]
    back = _back(form, "/mod/clinicians")
    try:
        await clinicians.revoke(viewer, username, form.get("note"))
        message = (
            f"{username}'s verification has ended. Their earlier answers keep their badge; "
            "it's in the log."
        )
    except KindredError as error:
        if error.status in (401, 404):
            raise
        message = "; ".join(error.fields.values()) if error.fields else error.message
    return redirect(back, message, request)


async def unanswered_page(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/clinicians/unanswered")
    specialty = request.query_params.get("specialty") or None
    used, listing = await answers.unanswered(
        viewer,
        specialty=specialty,
        page=positive_int(request.query_params.get("page"), 1, maximum=10_000),
    )
    return await page(
        request,
        "people/unanswered.html",
        {
            "threads": listing,
            "used": used,
            "specialty": specialty if specialty in clinicians.SPECIALTY_KEYS else "",
            "specialties": clinicians.SPECIALTIES,
            "specialty_names": clinicians.SPECIALTY_NAMES,
        },
    )


# Reactions and accepted answers -------------------------------------------------------------


async def react(request: Request) -> Response:
    viewer = await get_viewer(request)
    post_id = _int_param(request, "post_id")
    form = await read_form(request)
    if not viewer.signed_in:
        return redirect("/login", "Sign in to react to a post.", request)
    # A button per kind; "-helpful" (or undo=1) takes the viewer's reaction back.
    kind = str(form.get("kind", ""))
    undo = kind.startswith("-") or str(form.get("undo", "")) == "1"
    kind = kind.removeprefix("-")
    settings = settings_of(request)
    try:
        if undo:
            result = await reactions.unreact(settings, viewer, post_id, kind)
        else:
            result = await reactions.react(settings, viewer, post_id, kind)
    except KindredError as error:
        if error.status in (401, 404):
            raise
        from forum import threads

        post = await threads.get_post(viewer, post_id)
        message = "; ".join(error.fields.values()) if error.fields else error.message
        return redirect(f"/t/{post['thread']}#post-{post_id}", message, request)
    back = _back(form, f"/t/{result['thread']}")
    return redirect(f"{back.split('#')[0]}#post-{post_id}")


async def who_reacted(request: Request) -> Response:
    """Who reacted to a post, for anyone who may read it."""
    from forum import threads

    viewer = await get_viewer(request)
    post = await threads.get_post(viewer, _int_param(request, "post_id"))
    summary = await reactions.summary(viewer, post["id"])
    return await page(request, "people/reactions.html", {"post": post, "summary": summary})


async def accept(request: Request) -> Response:
    viewer = await get_viewer(request)
    thread_id = _int_param(request, "thread_id")
    form = await read_form(request)
    if not viewer.signed_in:
        return redirect(f"/login?next=/t/{thread_id}")
    post_id = _int(form.get("post_id", ""))
    back = _back(form, f"/t/{thread_id}")
    try:
        if str(form.get("undo", "")) == "1":
            await answers.clear_accepted_answer(viewer, thread_id)
            message = "The answer is no longer marked as accepted."
        else:
            await answers.accept_answer(viewer, thread_id, post_id)
            message = "Marked as the accepted answer. Thank you: it helps the next person asking."
    except KindredError as error:
        if error.status in (401, 404):
            raise
        message = error.message
    anchor = f"#post-{post_id}" if post_id > 0 else ""
    return redirect(back.split("#")[0] + anchor, message, request)


# Privacy, export and deleting an account --------------------------------------------------


async def settings_extras(viewer: Viewer) -> dict[str, Any]:
    """What the settings page shows from this feature: privacy choices and links."""
    return {
        "privacy": await profiles.privacy_of(viewer.id),  # type: ignore[arg-type]
        "privacy_fields": profiles.PRIVACY_FIELDS,
        "privacy_names": profiles.PRIVACY_NAMES,
        "audiences": profiles.AUDIENCES,
        "audience_names": profiles.AUDIENCE_NAMES,
    }


async def privacy(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/settings")
    form = await read_form(request)
    changes = {name: form.get(name) for name in profiles.PRIVACY_FIELDS if name in form}
    try:
        await profiles.set_privacy(viewer, changes)
    except KindredError as error:
        if error.status == 401:
            raise
        message = "; ".join(error.fields.values()) if error.fields else error.message
        return redirect("/settings#privacy-heading", message, request)
    return redirect("/settings#privacy-heading", "Your privacy choices are saved.", request)


async def export(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/settings")
    data = await profiles.export_data(viewer)
    return Response(
        profiles.export_json(data),
        media_type="application/json",
        headers={
            "content-disposition": f'attachment; filename="kindred-{viewer.username}.json"',
            "cache-control": "no-store",
        },
    )


async def delete_account(request: Request) -> Response:
    """Asks first on its own page (works without JavaScript); only the POST deletes."""
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/settings/delete")
    if request.method == "GET":
        return await page(request, "people/delete_account.html", {"values": {"posts": "keep"}})
    form = await read_form(request)
    remove = str(form.get("posts", "keep")) == "remove"
    try:
        await profiles.delete_account(
            settings_of(request), viewer, form.get("password"), remove_posts=remove
        )
    except KindredError as error:
        if error.status == 401:
            raise
        return await form_failed(
            request,
            "people/delete_account.html",
            error,
            {"values": {"posts": "remove" if remove else "keep"}},
        )
    sign_out(request)
    return redirect(
        "/",
        "Your account is deleted and you're signed out. Thank you for being part of Kindred.",
        request,
    )


routes = [
    Route("/me/experience", experience_page, methods=["GET", "POST"]),
    Route("/me/experience/{tag_id:int}/visibility", experience_visibility, methods=["POST"]),
    Route("/me/experience/{tag_id:int}/delete", experience_delete, methods=["POST"]),
    Route("/experience/{tag_id:int}/vouch", vouch, methods=["POST"]),
    Route("/experience/{tag_id:int}/confirm", confirm, methods=["POST"]),
    Route("/me/clinician", clinician_page, methods=["GET", "POST"]),
    Route("/mod/clinician-applications/{application_id:int}", application_page),
    Route(
        "/mod/clinician-applications/{application_id:int}/decide",
        decide_application,
        methods=["POST"],
    ),
    Route("/mod/clinicians", clinicians_page),
    Route("/mod/clinicians/{username}/revoke", revoke, methods=["POST"]),
    Route("/clinicians/unanswered", unanswered_page),
    Route("/p/{post_id:int}/react", react, methods=["POST"]),
    Route("/p/{post_id:int}/reactions", who_reacted),
    Route("/t/{thread_id:int}/accept", accept, methods=["POST"]),
    Route("/settings/privacy", privacy, methods=["POST"]),
    Route("/settings/export", export),
    Route("/settings/delete", delete_account, methods=["GET", "POST"]),
]
