"""Stories: a member's long-form posts on their own blog, optionally shared in a community.

A story starts as a draft only its author sees. Publishing screens it like a post (it may be
held for a moderator), and the first time asks the author to confirm they have the consent of
anyone identifiable in it; who confirmed and when is kept. Edits after publishing are screened
too and keep the earlier version. The author can withdraw a story at any time: it then shows
to nobody else. Content warnings ("pregnancy loss") are shown first, and the reader clicks
through to the story.

Comments are screened and moderated like replies. Every change that readers or search could
notice writes a search outbox row ("story", id) in its transaction; notifications are written
in the same transaction too (forum.notifications).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from forum import content, db, follows, guidelines, notifications, ratelimit
from forum.communities import find_community
from forum.errors import Conflict, Forbidden, Invalid, KindredError, NotFound
from forum.pagination import Page
from forum.permissions import (
    Viewer,
    can_view_community,
    can_view_content,
    can_view_story,
    ensure_active,
    ensure_can_post_in,
    ensure_signed_in,
    moderates_content,
)
from forum.settings import Settings
from forum.tables import (
    DELETED,
    DRAFT,
    HELD,
    HIDDEN,
    PUBLISHED,
    REMOVED,
    WITHDRAWN,
    Story,
    StoryComment,
    StoryRevision,
)
from forum.validation import Form
from moderation import posting
from search import outbox

TITLE_MIN = 5
TITLE_MAX = 200
SUMMARY_MAX = 500
BODY_MAX = 50_000
COMMENT_MAX = 10_000
WARNING_MAX = 60
WARNINGS_MAX = 5
# Offered on the form; authors may write their own.
SUGGESTED_WARNINGS = (
    "pregnancy loss",
    "graphic medical images",
    "death and dying",
    "suicide or self-harm",
    "eating disorders",
    "abuse or violence",
)
CONSENT_MESSAGE = (
    "Before publishing, please confirm you have the consent of anyone who could be recognised "
    "in your story."
)
COMMENT_PLACEHOLDERS = {
    DELETED: "This comment was deleted by its author.",
    HIDDEN: "This comment is hidden while a moderator reviews it.",
    REMOVED: "This comment was removed by a moderator.",
}
STATUS_NAMES = {
    DRAFT: "Draft",
    PUBLISHED: "Published",
    WITHDRAWN: "Withdrawn",
    HELD: "Waiting for review",
    HIDDEN: "Hidden by a moderator",
    REMOVED: "Removed by a moderator",
}


@dataclass(frozen=True)
class StoryDraft:
    """What an author wrote, before it is stored. `community` is a slug, or "" for their blog
    alone; `content_warnings` a list, or text separated by commas or new lines."""

    title: str = ""
    body: str = ""
    summary: str = ""
    community: str = ""
    content_warnings: Any = field(default_factory=tuple)


def _now() -> datetime:
    return datetime.now(UTC)


def _valid_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31


def warnings_of(story: dict[str, Any]) -> list[str]:
    try:
        value = json.loads(story.get("content_warnings") or "[]")
    except ValueError:
        return []
    return [str(item) for item in value] if isinstance(value, list) else []


def _check_warnings(form: Form, raw: Any) -> list[str]:
    if raw is None or raw == "":
        return []
    if isinstance(raw, str):
        items: list[Any] = raw.replace("\n", ",").split(",")
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        form.fail("content_warnings", "Content warnings must be a list of short phrases.")
        return []
    found: dict[str, str] = {}
    for item in items:
        if not isinstance(item, str):
            form.fail("content_warnings", "Content warnings must be a list of short phrases.")
            return []
        phrase = " ".join(item.split())
        if not phrase:
            continue
        if len(phrase) > WARNING_MAX:
            form.fail(
                "content_warnings",
                f"Keep each content warning to {WARNING_MAX} characters, like “pregnancy loss”.",
            )
            return []
        found.setdefault(phrase.lower(), phrase)
    if len(found) > WARNINGS_MAX:
        form.fail("content_warnings", f"Give at most {WARNINGS_MAX} content warnings.")
    return list(found.values())[:WARNINGS_MAX]


def _check(form: Form, draft: StoryDraft) -> tuple[str, str, str, list[str]]:
    title = form.text(
        "title", draft.title, label="Title", max_length=TITLE_MAX, min_length=TITLE_MIN
    )
    summary = form.text(
        "summary", draft.summary, label="Summary", max_length=SUMMARY_MAX, required=False
    )
    body = form.text("body", draft.body, label="Your story", max_length=BODY_MAX, multiline=True)
    warnings = _check_warnings(form, draft.content_warnings)
    return title, summary, body, warnings


async def _community_for(form: Form, viewer: Viewer, slug: Any) -> dict[str, Any] | None:
    """The community a story is shared in: one the author may post in, or None."""
    if slug in (None, ""):
        return None
    if not isinstance(slug, str):
        form.fail("community", "Choose one of your communities, or your blog alone.")
        return None
    community = await find_community(slug)
    if community is None or not can_view_community(viewer, community):
        form.fail("community", "Choose one of your communities, or your blog alone.")
        return None
    try:
        ensure_can_post_in(viewer, community)
    except KindredError as error:
        form.fail("community", error.message)
        return None
    return community


async def load(story_id: Any) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A story and its community (None outside any), unchecked: for services and moderation."""
    if not _valid_id(story_id):
        return None, None
    story = await Story.select().where(Story.id == story_id).first()
    if story is None:
        return None, None
    community = None
    if story["community"] is not None:
        community = await find_community_by_id(story["community"])
    return story, community


async def find_community_by_id(community_id: int) -> dict[str, Any] | None:
    rows = await db.raw('SELECT * FROM "community" WHERE "id" = {}', community_id)
    return rows[0] if rows else None


async def _visible_story(
    viewer: Viewer, story_id: Any
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    story, community = await load(story_id)
    if story is None or not can_view_story(viewer, story, community):
        raise NotFound("We couldn't find that story.")
    return story, community


def _community_id(community: dict[str, Any] | None) -> int | None:
    return community["id"] if community else None


async def _screen(
    settings: Settings,
    viewer: Viewer,
    community: dict[str, Any] | None,
    *,
    title: str,
    text: str,
    kind: str,
    confirm_phi: bool,
) -> tuple[Any, Any, Any]:
    await ratelimit.count_post(settings, viewer.id)
    rules = posting.rules_for(settings.data_dir)
    verdict, standing = await posting.screen_post(
        viewer,
        _community_id(community),  # type: ignore[arg-type]
        text=text,
        title=title,
        kind=kind,
        confirm_phi=confirm_phi,
        rules=rules,
    )
    return verdict, standing, rules


async def _record(
    viewer: Viewer,
    verdict: Any,
    standing: Any,
    rules: Any,
    *,
    kind: str,
    object_id: int,
    community: dict[str, Any] | None,
    raise_trust: bool = True,
) -> None:
    await posting.record(
        viewer,
        verdict,
        standing,
        kind=kind,
        object_id=object_id,
        post_id=None,  # type: ignore[arg-type]
        thread_id=None,  # type: ignore[arg-type]
        community_id=_community_id(community),  # type: ignore[arg-type]
        rules=rules,
        raise_trust=raise_trust,
    )


def _ensure_consent(story: dict[str, Any] | None, confirm_consent: bool) -> None:
    if (story is None or story.get("consent_confirmed_at") is None) and not confirm_consent:
        raise Invalid({"confirm_consent": CONSENT_MESSAGE}, CONSENT_MESSAGE)


# Writing ------------------------------------------------------------------------------------


async def create_story(
    settings: Settings,
    viewer: Viewer,
    draft: StoryDraft,
    *,
    publish: bool = False,
    confirm_consent: bool = False,
    confirm_phi: bool = False,
) -> dict[str, Any]:
    """Save a new story as a draft, or publish it at once (consent and screening first)."""
    ensure_active(viewer)
    form = Form()
    title, summary, body, warnings = _check(form, draft)
    community = await _community_for(form, viewer, draft.community)
    form.check()
    if publish:
        _ensure_consent(None, confirm_consent)
    rendered = content.render(body)
    now = _now()
    verdict = standing = rules = None
    status = DRAFT
    if publish:
        verdict, standing, rules = await _screen(
            settings,
            viewer,
            community,
            title=title,
            text=body,
            kind="story",
            confirm_phi=confirm_phi,
        )
        title, body = verdict.title or title, verdict.text or body
        rendered = content.render(body)
        status = posting.status_for(verdict)
    async with db.transaction():
        rows = await Story.insert(
            Story(
                author=viewer.id,
                community=_community_id(community),
                title=title,
                summary=summary,
                body=body,
                body_html=rendered.html,
                policy_version=rendered.policy_version,
                content_warnings=json.dumps(warnings),
                status=status,
                label=verdict.label if verdict else None,
                consent_confirmed_by=viewer.id if publish else None,
                consent_confirmed_at=now if publish else None,
                created_at=now,
                updated_at=now,
                published_at=now if status == PUBLISHED else None,
            )
        ).returning(*Story.all_columns())
        story = rows[0]
        await follows.auto_follow(viewer.id, "story", story["id"])
        if publish:
            await _after_publishing(viewer, story, community, verdict, standing, rules)
    return _result(story, community, verdict)


async def _after_publishing(
    viewer: Viewer,
    story: dict[str, Any],
    community: dict[str, Any] | None,
    verdict: Any,
    standing: Any,
    rules: Any,
) -> None:
    await _record(
        viewer, verdict, standing, rules, kind="story", object_id=story["id"], community=community
    )
    await outbox.enqueue("story", story["id"])
    if story["status"] == PUBLISHED:
        await notifications.story_published(story, community)


def _result(
    story: dict[str, Any], community: dict[str, Any] | None, verdict: Any
) -> dict[str, Any]:
    return {
        "id": story["id"],
        "title": story["title"],
        "status": story["status"],
        "community": community["slug"] if community else None,
        "moderation": verdict.as_json() if verdict else None,
    }


async def publish_story(
    settings: Settings,
    viewer: Viewer,
    story_id: Any,
    *,
    confirm_consent: bool = False,
    confirm_phi: bool = False,
) -> dict[str, Any]:
    """Publish a draft: consent (the first time), screening, then it is up or held."""
    ensure_active(viewer)
    story, community = await _visible_story(viewer, story_id)
    if story["author"] != viewer.id:
        raise Forbidden("Only the author can publish a story.")
    if story["status"] != DRAFT:
        raise Conflict("This story isn't a draft, so there's nothing to publish.")
    _ensure_consent(story, confirm_consent)
    if community is not None:
        try:
            ensure_can_post_in(viewer, community)
        except KindredError as error:
            raise Invalid({"community": error.message}, error.message) from error
        await guidelines.ensure_accepted(viewer, community)
    verdict, standing, rules = await _screen(
        settings,
        viewer,
        community,
        title=story["title"],
        text=story["body"],
        kind="story",
        confirm_phi=confirm_phi,
    )
    title, body = verdict.title or story["title"], verdict.text or story["body"]
    rendered = content.render(body)
    status = posting.status_for(verdict)
    now = _now()
    changes: dict[Any, Any] = {
        Story.title: title,
        Story.body: body,
        Story.body_html: rendered.html,
        Story.policy_version: rendered.policy_version,
        Story.status: status,
        Story.label: verdict.label,
        Story.updated_at: now,
        Story.published_at: now if status == PUBLISHED else None,
    }
    if story["consent_confirmed_at"] is None:
        changes[Story.consent_confirmed_by] = viewer.id
        changes[Story.consent_confirmed_at] = now
    async with db.transaction():
        rows = (
            await Story.update(changes)
            .where((Story.id == story["id"]) & (Story.status == DRAFT))
            .returning(*Story.all_columns())
        )
        if not rows:
            raise Conflict("This story isn't a draft, so there's nothing to publish.")
        await _after_publishing(viewer, rows[0], community, verdict, standing, rules)
    return _result(rows[0], community, verdict)


async def edit_story(
    settings: Settings,
    viewer: Viewer,
    story_id: Any,
    draft: StoryDraft,
    *,
    confirm_phi: bool = False,
) -> dict[str, Any]:
    """Change a story. Drafts change freely (and may move between communities); a published
    story is screened again, keeps its earlier version, and stays where it was shared."""
    ensure_active(viewer)
    story, community = await _visible_story(viewer, story_id)
    if story["author"] != viewer.id:
        raise Forbidden("Only the author can change a story.")
    if story["status"] not in (DRAFT, PUBLISHED, HELD):
        raise Forbidden(
            "This story can't be changed now: it was withdrawn, or a moderator took it down."
        )
    form = Form()
    title, summary, body, warnings = _check(form, draft)
    if story["status"] == DRAFT:
        community = await _community_for(form, viewer, draft.community)
    elif draft.community not in (None, "") and draft.community != (community or {}).get("slug"):
        form.fail("community", "A published story stays where it was shared.")
    form.check()
    now = _now()
    if story["status"] == DRAFT:
        rendered = content.render(body)
        await Story.update(
            {
                Story.title: title,
                Story.summary: summary,
                Story.body: body,
                Story.body_html: rendered.html,
                Story.policy_version: rendered.policy_version,
                Story.content_warnings: json.dumps(warnings),
                Story.community: _community_id(community),
                Story.updated_at: now,
            }
        ).where(Story.id == story["id"])
        return {**_result({**story, "title": title}, community, None)}
    verdict, standing, rules = await _screen(
        settings, viewer, community, title=title, text=body, kind="story", confirm_phi=confirm_phi
    )
    title, body = verdict.title or title, verdict.text or body
    rendered = content.render(body)
    hold = verdict.held and story["status"] == PUBLISHED
    async with db.transaction():
        await StoryRevision.insert(
            StoryRevision(
                story=story["id"],
                title=story["title"],
                summary=story["summary"],
                body=story["body"],
                body_html=story["body_html"],
                policy_version=story["policy_version"],
                content_warnings=story["content_warnings"],
                edited_by=viewer.id,
                created_at=now,
            )
        )
        await Story.update(
            {
                Story.title: title,
                Story.summary: summary,
                Story.body: body,
                Story.body_html: rendered.html,
                Story.policy_version: rendered.policy_version,
                Story.content_warnings: json.dumps(warnings),
                Story.label: verdict.label,
                Story.updated_at: now,
                Story.edited_at: now,
                **({Story.status: HELD} if hold else {}),
            }
        ).where(Story.id == story["id"])
        await _record(
            viewer,
            verdict,
            standing,
            rules,
            kind="story",
            object_id=story["id"],
            community=community,
            raise_trust=False,
        )
        await outbox.enqueue("story", story["id"])
        if hold:
            await notifications.forget("story", story["id"])
    status = HELD if hold else story["status"]
    return _result({**story, "title": title, "status": status}, community, verdict)


async def withdraw_story(viewer: Viewer, story_id: Any) -> dict[str, Any]:
    """The author takes their story down, whatever its state; only they can read it after."""
    ensure_signed_in(viewer)  # at any time: a suspended author may still take a story down
    story, community = await _visible_story(viewer, story_id)
    if story["author"] != viewer.id:
        raise Forbidden("Only the author can withdraw a story.")
    if story["status"] == WITHDRAWN:
        raise Conflict("This story is already withdrawn.")
    now = _now()
    async with db.transaction():
        await Story.update(
            {Story.status: WITHDRAWN, Story.withdrawn_at: now, Story.updated_at: now}
        ).where(Story.id == story["id"])
        await outbox.enqueue("story", story["id"])
        await notifications.forget("story", story["id"])
    return _result({**story, "status": WITHDRAWN}, community, None)


async def revisions(viewer: Viewer, story_id: Any) -> list[dict[str, Any]]:
    """Earlier versions of a story, for its author and the moderators."""
    story, community = await _visible_story(viewer, story_id)
    if story["author"] != viewer.id and not moderates_content(viewer, _community_id(community)):
        raise NotFound("We couldn't find that story.")
    return await (
        StoryRevision.select(
            StoryRevision.id, StoryRevision.title, StoryRevision.body_html, StoryRevision.created_at
        )
        .where(StoryRevision.story == story["id"])
        .order_by(StoryRevision.id, ascending=False)
    )


# Comments -----------------------------------------------------------------------------------


async def _refresh_comment_count(story_id: int) -> None:
    await db.raw(
        'UPDATE "story" SET "comment_count" = (SELECT COUNT(*) FROM "story_comment" sc '
        'WHERE sc."story" = {} AND sc."status" = {}) WHERE "id" = {}',
        story_id,
        PUBLISHED,
        story_id,
    )


def _ensure_can_comment(
    viewer: Viewer, story: dict[str, Any], community: dict[str, Any] | None
) -> None:
    ensure_active(viewer)
    if story["status"] != PUBLISHED:
        raise Forbidden("This story isn't taking comments right now.")
    if community is not None:
        ensure_can_post_in(viewer, community)


async def post_comment(
    settings: Settings, viewer: Viewer, story_id: Any, body: Any, *, confirm_phi: bool = False
) -> dict[str, Any]:
    """Comment on a story the viewer may see (and, in a community, post in)."""
    story, community = await _visible_story(viewer, story_id)
    _ensure_can_comment(viewer, story, community)
    if community is not None:
        await guidelines.ensure_accepted(viewer, community)
    form = Form()
    text = form.text("body", body, label="Your comment", max_length=COMMENT_MAX, multiline=True)
    form.check()
    verdict, standing, rules = await _screen(
        settings, viewer, community, title="", text=text, kind="comment", confirm_phi=confirm_phi
    )
    text = verdict.text or text
    status = posting.status_for(verdict)
    rendered = content.render(text)
    async with db.transaction():
        rows = await StoryComment.insert(
            StoryComment(
                story=story["id"],
                author=viewer.id,
                body=text,
                body_html=rendered.html,
                policy_version=rendered.policy_version,
                status=status,
                label=verdict.label,
                created_at=_now(),
            )
        ).returning(StoryComment.id, StoryComment.status, StoryComment.created_at)
        comment_id = rows[0]["id"]
        await _record(
            viewer,
            verdict,
            standing,
            rules,
            kind="comment",
            object_id=comment_id,
            community=community,
        )
        await _refresh_comment_count(story["id"])
        await follows.auto_follow(viewer.id, "story", story["id"])
        await outbox.enqueue("story", story["id"])
        if status == PUBLISHED:
            await notifications.comment_posted(viewer.id, story, comment_id, community, text)
    return {
        **rows[0],
        "story": story["id"],
        "body_html": rendered.html,
        "moderation": verdict.as_json(),
    }


async def _load_comment(comment_id: Any) -> dict[str, Any]:
    if not _valid_id(comment_id):
        raise NotFound("We couldn't find that comment.")
    comment = await StoryComment.select().where(StoryComment.id == comment_id).first()
    if comment is None:
        raise NotFound("We couldn't find that comment.")
    return comment


async def get_comment(viewer: Viewer, comment_id: Any) -> dict[str, Any]:
    """One comment the viewer may see, with its story's id."""
    comment = await _load_comment(comment_id)
    story, community = await _visible_story(viewer, comment["story"])
    if not can_view_content(viewer, comment, _community_id(community)):  # type: ignore[arg-type]
        raise NotFound("We couldn't find that comment.")
    return {**comment, "story_title": story["title"]}


async def delete_comment(viewer: Viewer, comment_id: Any) -> dict[str, Any]:
    """The author deletes their comment; the story keeps a placeholder in its place."""
    ensure_active(viewer)
    comment = await get_comment(viewer, comment_id)
    if comment["author"] != viewer.id:
        raise Forbidden("You can only delete your own comments.")
    if comment["status"] == DELETED:
        raise NotFound("We couldn't find that comment.")
    async with db.transaction():
        await StoryComment.update(
            {StoryComment.status: DELETED, StoryComment.edited_at: _now()}
        ).where(StoryComment.id == comment["id"])
        await _refresh_comment_count(comment["story"])
        await outbox.enqueue("story", comment["story"])
        await notifications.forget("comment", comment["id"])
    return {**comment, "status": DELETED}


def _present_comment(
    viewer: Viewer, comment: dict[str, Any], community_id: int | None
) -> dict[str, Any]:
    visible = can_view_content(viewer, comment, community_id)  # type: ignore[arg-type]
    if comment["status"] in (HIDDEN, REMOVED) and moderates_content(viewer, community_id):
        visible = True
    placeholder = None if visible else COMMENT_PLACEHOLDERS.get(comment["status"])
    shown = dict(comment)
    if placeholder:
        shown.update(body="", body_html="", label=None, placeholder=placeholder)
    else:
        shown["placeholder"] = None
    mine = viewer.signed_in and comment["author"] == viewer.id
    shown["can_delete"] = visible and mine and comment["status"] != DELETED
    shown["can_flag"] = (
        visible
        and viewer.signed_in
        and not mine
        and comment["status"] == PUBLISHED
        and not viewer.is_suspended
    )
    return shown


# Reading ------------------------------------------------------------------------------------


async def get_story(viewer: Viewer, story_id: Any) -> dict[str, Any]:
    """A story page: the story, its author and community, its comments, what the viewer may
    do. Held comments show only to their authors and the moderators."""
    story, community = await _visible_story(viewer, story_id)
    community_id = _community_id(community)
    if moderates_content(viewer, community_id):
        where, args = "1 = 1", []
    elif viewer.signed_in:
        where, args = '(sc."status" <> {} OR sc."author" = {})', [HELD, viewer.id]
    else:
        where, args = 'sc."status" <> {}', [HELD]
    # Someone who goes by another name in the story's community is shown by it, with no
    # link to their profile (forum.aliases).
    comments = await db.raw(
        'SELECT sc.*, CASE WHEN cn."display_name" IS NULL THEN u."username" END AS "author_username", '
        'COALESCE(cn."display_name", u."display_name") AS "author_display_name", '
        'u."role" AS "author_role" FROM "story_comment" sc '
        'LEFT JOIN "kindred_user" u ON u."id" = sc."author" '
        'LEFT JOIN "community_name" cn ON cn."user" = sc."author" AND cn."community" = {} '
        f'WHERE sc."story" = {{}} AND {where} ORDER BY sc."created_at", sc."id" LIMIT 500',
        community_id or 0,
        story["id"],
        *args,
    )
    author = await db.raw(
        'SELECT u."id", CASE WHEN cn."display_name" IS NULL THEN u."username" END AS "username", '
        'COALESCE(cn."display_name", u."display_name") AS "display_name", u."role" '
        'FROM "kindred_user" u LEFT JOIN "community_name" cn ON cn."user" = u."id" '
        'AND cn."community" = {} WHERE u."id" = {}',
        community_id or 0,
        story["author"],
    )
    mine = viewer.signed_in and story["author"] == viewer.id
    try:
        _ensure_can_comment(viewer, story, community)
        can_comment = True
    except KindredError:
        can_comment = False
    return {
        "story": {
            **story,
            "warnings": warnings_of(story),
            "status_name": STATUS_NAMES.get(story["status"], story["status"]),
        },
        "community": community,
        "author": author[0] if author else None,
        "comments": [_present_comment(viewer, row, community_id) for row in comments],
        "mine": mine,
        "can_edit": mine
        and story["status"] in (DRAFT, PUBLISHED, HELD)
        and not viewer.is_suspended,
        "can_publish": mine and story["status"] == DRAFT and not viewer.is_suspended,
        "can_withdraw": mine and story["status"] != WITHDRAWN,
        "can_comment": can_comment,
        "can_flag": (
            viewer.signed_in
            and not mine
            and story["status"] == PUBLISHED
            and not viewer.is_suspended
        ),
        "needs_consent": story["consent_confirmed_at"] is None,
        "moderates": moderates_content(viewer, community_id),
    }


_LIST_COLUMNS = (
    's."id", s."title", s."summary", s."body", s."content_warnings", s."status", '
    's."comment_count", s."created_at", s."published_at", s."updated_at", s."edited_at", '
    # Under a name for its community, no username to find the author by (forum.aliases).
    's."author", CASE WHEN cn."display_name" IS NULL THEN u."username" END AS "author_username", '
    'COALESCE(cn."display_name", u."display_name") AS "author_display_name", '
    'c."slug" AS "community_slug", c."name" AS "community_name"'
)
_LIST_JOINS = (
    'FROM "story" s LEFT JOIN "kindred_user" u ON u."id" = s."author" '
    'LEFT JOIN "community" c ON c."id" = s."community" '
    'LEFT JOIN "community_name" cn ON cn."user" = s."author" AND cn."community" = s."community"'
)


def _visible_clause(viewer: Viewer) -> tuple[str, list[Any]]:
    """Published stories the viewer may see: outside any community, in a public one, or in
    one of theirs."""
    where, args = 's."status" = {}', [PUBLISHED]
    if viewer.is_admin:
        return where, args
    ids = sorted(viewer.member_of | viewer.moderates)
    clause = 's."community" IS NULL OR c."visibility" = {}'
    args.append("public")
    if ids:
        clause += f' OR s."community" IN ({", ".join("{}" for _ in ids)})'
        args += ids
    return f"{where} AND ({clause})", args


def _present_listed(row: dict[str, Any]) -> dict[str, Any]:
    warnings = warnings_of(row)
    # With a content warning, a list never shows the story's own words: only its summary.
    preview = row["summary"] or ("" if warnings else content.excerpt(row["body"], 240))
    shown = {key: value for key, value in row.items() if key not in ("body", "content_warnings")}
    return {
        **shown,
        "warnings": warnings,
        "preview": preview,
        "status_name": STATUS_NAMES.get(row["status"], row["status"]),
    }


async def list_stories(
    viewer: Viewer, *, page: int = 1, per_page: int = 20, community: Any = None
) -> tuple[dict[str, Any] | None, Page[dict[str, Any]]]:
    """Published stories the viewer may see, newest first; optionally of one community."""
    where, args = _visible_clause(viewer)
    found = None
    if community not in (None, ""):
        found = await find_community(community)
        if found is None or not can_view_community(viewer, found):
            raise NotFound("We couldn't find that community.")
        where += ' AND s."community" = {}'
        args.append(found["id"])
    total = await db.read(f"SELECT COUNT(*) AS n {_LIST_JOINS} WHERE {where}", *args)
    rows = await db.read(
        f"SELECT {_LIST_COLUMNS} {_LIST_JOINS} WHERE {where} "
        'ORDER BY s."published_at" DESC, s."id" DESC LIMIT {} OFFSET {}',
        *args,
        per_page,
        (page - 1) * per_page,
    )
    return found, Page([_present_listed(row) for row in rows], page, per_page, total[0]["n"])


async def recent_stories(
    viewer: Viewer, community_id: int | None = None, limit: int = 3
) -> list[dict[str, Any]]:
    """The newest published stories (of one community, if given), for featuring."""
    where, args = _visible_clause(viewer)
    if community_id is not None:
        where += ' AND s."community" = {}'
        args.append(community_id)
    rows = await db.read(
        f"SELECT {_LIST_COLUMNS} {_LIST_JOINS} WHERE {where} "
        'ORDER BY s."published_at" DESC, s."id" DESC LIMIT {}',
        *args,
        limit,
    )
    return [_present_listed(row) for row in rows]


async def blog(
    viewer: Viewer, username: Any, *, page: int = 1, per_page: int = 20
) -> tuple[dict[str, Any], Page[dict[str, Any]]]:
    """A member's story blog: their published stories the viewer may see; all of them, drafts
    and withdrawn ones included, for the member themself."""
    rows = await db.raw(
        'SELECT "id", "username", "display_name", "bio_html", "role" FROM "kindred_user" '
        'WHERE "username" = {} AND "status" <> {}',
        str(username).lower()[:64],
        "deleted",
    )
    if not rows:
        raise NotFound("We couldn't find that person.")
    person = rows[0]
    if viewer.signed_in and viewer.id == person["id"]:
        where, args = "1 = 1", []
    else:
        where, args = _visible_clause(viewer)
        # Stories where they go by another name stay off the blog (forum.aliases).
        where += ' AND cn."display_name" IS NULL'
    where = f's."author" = {{}} AND {where}'
    args = [person["id"], *args]
    total = await db.raw(f"SELECT COUNT(*) AS n {_LIST_JOINS} WHERE {where}", *args)
    listed = await db.raw(
        f"SELECT {_LIST_COLUMNS} {_LIST_JOINS} WHERE {where} "
        'ORDER BY COALESCE(s."published_at", s."created_at") DESC, s."id" DESC LIMIT {} OFFSET {}',
        *args,
        per_page,
        (page - 1) * per_page,
    )
    return person, Page([_present_listed(row) for row in listed], page, per_page, total[0]["n"])


async def my_communities(viewer: Viewer) -> list[dict[str, Any]]:
    """Communities the viewer may share a story in, by name."""
    ids = sorted(viewer.member_of | viewer.moderates)
    if viewer.is_admin:
        return await db.raw(
            'SELECT "slug", "name" FROM "community" WHERE "archived" = {} ORDER BY "name"', False
        )
    if not ids:
        return []
    return await db.raw(
        f'SELECT "slug", "name" FROM "community" WHERE "id" IN ({", ".join("{}" for _ in ids)}) '
        'AND "archived" = {} ORDER BY "name"',
        *ids,
        False,
    )
