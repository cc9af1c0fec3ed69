"""Screening on the path of a post: what the forum's services call before and while storing.

    verdict, standing = await posting.screen_post(viewer, community_id, text=…)   # may raise
    async with db.transaction():
        … insert the post with status_for(verdict) and verdict.label …
        await posting.record(viewer, verdict, standing, kind=…, object_id=…, …)

`screen_post` raises ScreeningRejected (422) for a rejected draft, with what to change and the
moderation object for API clients; nothing is stored and the author keeps their text.
"""

from __future__ import annotations

from pathlib import Path

from forum.errors import KindredError
from forum.permissions import Viewer
from forum.tables import HELD, PUBLISHED
from moderation import audit, items, trust
from moderation.rulebook import RuleSet, load_rules
from moderation.screening import Draft, Standing, Verdict, screen

PHI_WARNING_MESSAGE = (
    "Before this goes up: it looks like it includes personal details. "
    "Remove them, or post anyway and a moderator will review it first."
)


class ScreeningRejected(KindredError):
    """A draft screening refused; `extra` carries the moderation object for the API."""

    status = 422
    code = "rejected"

    def __init__(self, verdict: Verdict) -> None:
        message = (
            PHI_WARNING_MESSAGE
            if verdict.phi_warning
            else verdict.message or "This can't be posted as it is."
        )
        super().__init__(message, {"body": verdict.message or message})
        self.code = "phi_warning" if verdict.phi_warning else "rejected"
        self.verdict = verdict
        self.extra = {"moderation": verdict.as_json()}


def rules_for(data_dir: Path | None) -> RuleSet:
    """The built-in rules plus a deployment's own in <data dir>/moderation/, if it has any."""
    return load_rules(data_dir / "moderation" if data_dir is not None else None)


def status_for(verdict: Verdict) -> str:
    return HELD if verdict.held else PUBLISHED


async def screen_post(
    viewer: Viewer,
    community_id: int,
    *,
    text: str,
    title: str = "",
    kind: str = "post",
    confirm_phi: bool = False,
    rules: RuleSet | None = None,
) -> tuple[Verdict, Standing]:
    """Screen a draft by this author for this community; raise if it can't be stored."""
    standing = await trust.standing_of(viewer, community_id)
    verdict = screen(
        Draft(text=text, title=title, kind=kind, author=standing, confirm_phi=confirm_phi),
        rules,
    )
    if not verdict.stored:
        raise ScreeningRejected(verdict)
    return verdict, standing


async def record(
    viewer: Viewer,
    verdict: Verdict,
    standing: Standing,
    *,
    kind: str,
    object_id: int,
    post_id: int,
    thread_id: int,
    community_id: int,
    rules: RuleSet,
    author_id: int | None = None,
    author_name: str | None = None,
    raise_trust: bool = True,
    anonymous: bool = False,
) -> int | None:
    """Write what screening decided, inside the post's transaction: a review item when a
    moderator should look, an audit entry for holds and crisis escalations, and the author's
    trust when a published post earns them a level. The review item's id, if any.

    The author is the viewer unless given (a moderator editing someone else's post). For an
    anonymous post (forum.anonymity) `author_name` is its pseudonym, and the log's entry is
    marked so that it never shows who wrote it."""
    author_id = viewer.id if author_id is None else author_id
    author_name = viewer.username if author_name is None else author_name
    item_id = None
    if verdict.review:
        item_id = await items.open_item(
            kind=kind,
            object_id=object_id,
            post_id=post_id,
            thread_id=thread_id,
            community_id=community_id,
            author_id=author_id,
            source="screening",
            reasons=[items.reason_of(hit.family) for hit in verdict.hits if hit.action != "censor"],
            severity=verdict.severity,
            hits=verdict.for_moderators(),
            label=verdict.label,
            screening_action=verdict.action,
        )
    if verdict.held or verdict.crisis:
        await audit.record(
            None,
            "escalate" if verdict.crisis else "hold",
            kind=kind,
            object_id=object_id,
            item_id=item_id,
            community_id=community_id,
            target_user_id=author_id,
            target_name=author_name,
            note="; ".join(f"{hit.family}: {hit.rule}" for hit in verdict.hits),
            after={"status": status_for(verdict), "action": verdict.action},
            anonymous=anonymous,
        )
    if raise_trust and not verdict.held:
        await trust.raise_after_post(viewer, standing, rules)
    return item_id
