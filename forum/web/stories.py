"""Pages for stories: the list, a story with its content warning and comments, writing,
editing, publishing, withdrawing, a member's story blog, and flagging stories and comments.

The story page never shows a story's words before the reader clicked through its content
warning: without the click (?show=1) it shows the warning and a link, nothing else.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from forum import follows, stories
from forum.errors import Forbidden, KindredError
from forum.validation import positive_int
from forum.web.render import form_failed, page, redirect
from forum.web.session import get_viewer, read_form, settings_of
from moderation import flags
from moderation import forms as moderation_forms
from moderation.posting import rules_for

FIELDS = ("title", "summary", "body", "community", "other_warnings")


def _int_param(request: Request, name: str) -> int:
    value = request.path_params[name]
    return value if isinstance(value, int) else -1


def _page_number(request: Request) -> int:
    return positive_int(request.query_params.get("page"), 1, maximum=10_000)


def _values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {key: str(form.get(key, "")) for key in FIELDS}
    values["warnings"] = [str(item) for item in form.getlist("warning")][: stories.WARNINGS_MAX * 2]
    values["confirm_consent"] = str(form.get("confirm_consent", "")) == "1"
    return values


def _draft(values: dict[str, Any]) -> stories.StoryDraft:
    warnings = [*values["warnings"], *values["other_warnings"].replace("\n", ",").split(",")]
    return stories.StoryDraft(
        title=values["title"],
        summary=values["summary"],
        body=values["body"],
        community=values["community"],
        content_warnings=[item for item in warnings if item.strip()],
    )


def _form_values(story: dict[str, Any], community: dict[str, Any] | None) -> dict[str, Any]:
    """A stored story as the form shows it: suggested warnings ticked, the rest as text."""
    warnings = stories.warnings_of(story)
    return {
        "title": story["title"],
        "summary": story["summary"],
        "body": story["body"],
        "community": community["slug"] if community else "",
        "warnings": [w for w in warnings if w in stories.SUGGESTED_WARNINGS],
        "other_warnings": ", ".join(w for w in warnings if w not in stories.SUGGESTED_WARNINGS),
    }


async def _form_context(request: Request, **extra: Any) -> dict[str, Any]:
    viewer = await get_viewer(request)
    return {
        "communities": await stories.my_communities(viewer),
        "suggested_warnings": stories.SUGGESTED_WARNINGS,
        "consent_message": stories.CONSENT_MESSAGE,
        **extra,
    }


async def list_page(request: Request) -> Response:
    viewer = await get_viewer(request)
    community, listing = await stories.list_stories(
        viewer, page=_page_number(request), community=request.query_params.get("community")
    )
    return await page(request, "stories/list.html", {"stories": listing, "community": community})


async def blog_page(request: Request) -> Response:
    viewer = await get_viewer(request)
    person, listing = await stories.blog(
        viewer, request.path_params["username"], page=_page_number(request)
    )
    states = await follows.states(viewer, [("blog", person["id"]), ("member", person["id"])])
    return await page(
        request,
        "stories/blog.html",
        {
            "person": person,
            "stories": listing,
            "blog_state": states.get(("blog", person["id"])),
        },
    )


async def profile_extras(viewer: Any, profile: dict[str, Any]) -> dict[str, Any]:
    """What a profile page shows of stories: the newest few, and the follow buttons."""
    _, listing = await stories.blog(viewer, profile["username"], per_page=3)
    states = await follows.states(viewer, [("blog", profile["id"]), ("member", profile["id"])])
    return {
        "profile_stories": listing,
        "blog_state": states.get(("blog", profile["id"])),
        "member_state": states.get(("member", profile["id"])),
    }


async def story_page(request: Request) -> Response:
    viewer = await get_viewer(request)
    data = await stories.get_story(viewer, _int_param(request, "story_id"))
    story = data["story"]
    # The reader clicks through a content warning; the author (and moderators) see it all.
    gated = bool(story["warnings"]) and request.query_params.get("show") != "1"
    data["gated"] = gated and not data["mine"] and not data["moderates"]
    data["follow_state"] = await follows.state(viewer, "story", story["id"])
    return await page(request, "stories/story.html", data)


async def new_story(request: Request) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login?next=/s/new", "Sign in to write a story.", request)
    if request.method == "GET":
        community = request.query_params.get("community", "")
        return await page(
            request,
            "stories/form.html",
            await _form_context(request, values={"community": community}, story=None),
        )
    form = await read_form(request)
    values = _values(form)
    publish = str(form.get("action", "")) == "publish"
    if moderation_forms.wants_redaction(form):
        return await moderation_forms.redacted_form(
            request, "stories/form.html", values, ("title", "summary", "body"),
            await _form_context(request, story=None),
        )  # fmt: skip
    try:
        created = await stories.create_story(
            settings_of(request),
            viewer,
            _draft(values),
            publish=publish,
            confirm_consent=values["confirm_consent"],
            confirm_phi=moderation_forms.confirmed_phi(form),
        )
    except KindredError as error:
        return await form_failed(
            request,
            "stories/form.html",
            error,
            await _form_context(
                request, values=values, story=None, **moderation_forms.error_context(error)
            ),
        )
    return redirect(f"/s/{created['id']}", _after(request, created, publish), request)


def _after(request: Request, result: dict[str, Any], publish: bool) -> str:
    if not publish:
        return "Your draft is saved. Only you can see it until you publish it."
    return moderation_forms.after_posting(
        request, result["moderation"], "Your story is published. Thank you for sharing it."
    )


async def edit_story(request: Request) -> Response:
    viewer = await get_viewer(request)
    story_id = _int_param(request, "story_id")
    if not viewer.signed_in:
        return redirect(f"/login?next=/s/{story_id}/edit")
    data = await stories.get_story(viewer, story_id)
    if not data["can_edit"]:
        raise Forbidden("Only the author can change this story, while it's a draft or up.")
    story, community = data["story"], data["community"]
    if request.method == "GET":
        return await page(
            request,
            "stories/form.html",
            await _form_context(request, values=_form_values(story, community), story=story),
        )
    form = await read_form(request)
    values = _values(form)
    if story["status"] != stories.DRAFT:
        values["community"] = community["slug"] if community else ""
    publish = str(form.get("action", "")) == "publish" and story["status"] == stories.DRAFT
    if moderation_forms.wants_redaction(form):
        return await moderation_forms.redacted_form(
            request, "stories/form.html", values, ("title", "summary", "body"),
            await _form_context(request, story=story),
        )  # fmt: skip
    settings = settings_of(request)
    try:
        result = await stories.edit_story(
            settings,
            viewer,
            story_id,
            _draft(values),
            confirm_phi=moderation_forms.confirmed_phi(form),
        )
        if publish:
            result = await stories.publish_story(
                settings,
                viewer,
                story_id,
                confirm_consent=values["confirm_consent"],
                confirm_phi=moderation_forms.confirmed_phi(form),
            )
    except KindredError as error:
        if error.status == 404:
            raise
        return await form_failed(
            request,
            "stories/form.html",
            error,
            await _form_context(
                request, values=values, story=story, **moderation_forms.error_context(error)
            ),
        )
    if publish:
        message = _after(request, result, True)
    elif result.get("moderation"):
        message = moderation_forms.after_posting(
            request, result["moderation"], "Your changes are saved."
        )
    else:
        message = "Your changes are saved."
    return redirect(f"/s/{story_id}", message, request)


async def publish(request: Request) -> Response:
    viewer = await get_viewer(request)
    story_id = _int_param(request, "story_id")
    if not viewer.signed_in:
        return redirect(f"/login?next=/s/{story_id}")
    form = await read_form(request)
    try:
        result = await stories.publish_story(
            settings_of(request),
            viewer,
            story_id,
            confirm_consent=str(form.get("confirm_consent", "")) == "1",
            confirm_phi=moderation_forms.confirmed_phi(form),
        )
    except KindredError as error:
        if error.status == 404:
            raise
        data = await stories.get_story(viewer, story_id)
        data.update(gated=False, follow_state=None, **moderation_forms.error_context(error))
        return await form_failed(request, "stories/story.html", error, data, "publish_error")
    return redirect(f"/s/{story_id}", _after(request, result, True), request)


async def withdraw(request: Request) -> Response:
    """Withdrawing asks first (a page, so it works without JavaScript); only the POST does it."""
    viewer = await get_viewer(request)
    story_id = _int_param(request, "story_id")
    if not viewer.signed_in:
        return redirect(f"/login?next=/s/{story_id}")
    if request.method == "GET":
        data = await stories.get_story(viewer, story_id)
        if not data["can_withdraw"]:
            raise Forbidden("Only the author can withdraw this story.")
        return await page(request, "stories/withdraw.html", data)
    await read_form(request)
    await stories.withdraw_story(viewer, story_id)
    return redirect(
        f"/s/{story_id}", "Your story is withdrawn. Nobody else can read it now.", request
    )


async def history(request: Request) -> Response:
    viewer = await get_viewer(request)
    story_id = _int_param(request, "story_id")
    data = await stories.get_story(viewer, story_id)
    versions = await stories.revisions(viewer, story_id)
    return await page(request, "stories/history.html", {**data, "history": versions})


async def comment(request: Request) -> Response:
    viewer = await get_viewer(request)
    story_id = _int_param(request, "story_id")
    if not viewer.signed_in:
        return redirect(f"/login?next=/s/{story_id}", "Sign in to comment.", request)
    form = await read_form(request)
    body = str(form.get("body", ""))
    if moderation_forms.wants_redaction(form):
        data = await stories.get_story(viewer, story_id)
        data.update(gated=False, follow_state=None)
        return await moderation_forms.redacted_form(
            request, "stories/story.html", {"body": body}, ("body",), data
        )
    try:
        created = await stories.post_comment(
            settings_of(request),
            viewer,
            story_id,
            body,
            confirm_phi=moderation_forms.confirmed_phi(form),
        )
    except KindredError as error:
        if error.status == 404:
            raise
        data = await stories.get_story(viewer, story_id)
        data.update(gated=False, follow_state=None)
        return await form_failed(
            request,
            "stories/story.html",
            error,
            {**data, "values": {"body": body}, **moderation_forms.error_context(error)},
        )
    return redirect(
        f"/s/{story_id}?show=1#comment-{created['id']}",
        moderation_forms.after_posting(request, created["moderation"], "Your comment is posted."),
        request,
    )


async def delete_comment(request: Request) -> Response:
    viewer = await get_viewer(request)
    comment_id = _int_param(request, "comment_id")
    if request.method == "GET":
        found = await stories.get_comment(viewer, comment_id)
        if found["author"] != viewer.id:
            raise Forbidden("You can only delete your own comments.")
        return await page(request, "stories/delete_comment.html", {"comment": found})
    await read_form(request)
    deleted = await stories.delete_comment(viewer, comment_id)
    return redirect(f"/s/{deleted['story']}?show=1", "Your comment is deleted.", request)


async def _flag(request: Request, kind: str, object_id: int, back: str) -> Response:
    viewer = await get_viewer(request)
    if not viewer.signed_in:
        return redirect("/login", "Sign in to flag something.", request)
    form = await read_form(request)
    try:
        await flags.flag_content(
            viewer,
            kind,
            object_id,
            form.get("reason"),
            form.get("note") or "",
            rules=rules_for(settings_of(request).data_dir),
        )
    except KindredError as error:
        if error.status in (401, 404):
            raise
        message = error.message if not error.fields else "; ".join(error.fields.values())
        return redirect(back, message, request)
    return redirect(back, "Thank you for flagging this. A moderator will look at it.", request)


async def flag_story(request: Request) -> Response:
    story_id = _int_param(request, "story_id")
    return await _flag(request, "story", story_id, f"/s/{story_id}?show=1")


async def flag_comment(request: Request) -> Response:
    viewer = await get_viewer(request)
    comment_id = _int_param(request, "comment_id")
    found = await stories.get_comment(viewer, comment_id)
    return await _flag(
        request, "comment", comment_id, f"/s/{found['story']}?show=1#comment-{comment_id}"
    )


routes = [
    Route("/stories", list_page),
    Route("/s/new", new_story, methods=["GET", "POST"]),
    Route("/s/{story_id:int}", story_page),
    Route("/s/{story_id:int}/edit", edit_story, methods=["GET", "POST"]),
    Route("/s/{story_id:int}/publish", publish, methods=["POST"]),
    Route("/s/{story_id:int}/withdraw", withdraw, methods=["GET", "POST"]),
    Route("/s/{story_id:int}/history", history),
    Route("/s/{story_id:int}/comments", comment, methods=["POST"]),
    Route("/s/{story_id:int}/flag", flag_story, methods=["POST"]),
    Route("/comments/{comment_id:int}/delete", delete_comment, methods=["GET", "POST"]),
    Route("/comments/{comment_id:int}/flag", flag_comment, methods=["POST"]),
    Route("/u/{username}/stories", blog_page),
]
