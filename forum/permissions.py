"""Every "may this person see / do this" decision, in one place.

Checks are pure functions of a Viewer (who is asking, built once per request) and the rows in
question. `ensure_*` raise NotFound for what the viewer may not see, so existence never leaks,
and Forbidden for what they may see but not do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from forum.errors import Forbidden, NotFound, NotSignedIn
from forum.tables import DELETED, HELD, HIDDEN, PUBLISHED, REMOVED

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Viewer:
    """Who is asking: a visitor (id None) or a signed-in person and their memberships."""

    id: int | None = None
    username: str = ""
    display_name: str = ""
    role: str = "visitor"
    status: str = "active"
    trust_level: int = 0
    suspended_until: datetime | None = None
    member_of: frozenset[int] = field(default_factory=frozenset)
    moderates: frozenset[int] = field(default_factory=frozenset)
    # Messages from moderators not yet read (moderation.notices).
    unread_notices: int = 0
    # Notifications not yet read: the bell in the header (forum.notifications).
    unread_notifications: int = 0
    # Private messages not yet read, in conversations not muted (forum.messages).
    unread_messages: int = 0
    # The members this person blocked (forum.blocks): their posts are collapsed for them.
    blocked: frozenset[int] = field(default_factory=frozenset)

    @property
    def signed_in(self) -> bool:
        return self.id is not None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_suspended(self) -> bool:
        if self.status == "banned":
            return True
        if self.status != "suspended":
            return False
        return self.suspended_until is None or self.suspended_until > datetime.now(UTC)


VISITOR = Viewer()


def is_member(viewer: Viewer, community_id: int) -> bool:
    return community_id in viewer.member_of


def moderates(viewer: Viewer, community_id: int) -> bool:
    """Admins moderate everywhere; moderators where they were appointed."""
    return viewer.is_admin or community_id in viewer.moderates


def can_view_community(viewer: Viewer, community: Row) -> bool:
    if community["visibility"] == "public":
        return True
    return is_member(viewer, community["id"]) or moderates(viewer, community["id"])


def ensure_can_view_community(viewer: Viewer, community: Row | None) -> Row:
    if community is None or not can_view_community(viewer, community):
        raise NotFound("We couldn't find that community.")
    return community


def ensure_signed_in(viewer: Viewer) -> None:
    if not viewer.signed_in:
        raise NotSignedIn("Please sign in first.")


def ensure_active(viewer: Viewer) -> None:
    """Signed in and not suspended or banned: the bar for writing anything."""
    ensure_signed_in(viewer)
    if viewer.is_suspended:
        raise Forbidden("Your account is suspended, so you can't post or change things now.")


def ensure_can_post_in(viewer: Viewer, community: Row) -> None:
    """Members post in communities they joined; moderators where they moderate."""
    ensure_active(viewer)
    if community.get("archived"):
        raise Forbidden("This community is archived: it can be read but not added to.")
    if not (is_member(viewer, community["id"]) or moderates(viewer, community["id"])):
        raise Forbidden("Join this community to post in it.")


def ensure_can_create_community(viewer: Viewer) -> None:
    ensure_active(viewer)
    if not viewer.is_admin:
        raise Forbidden("Only administrators can create communities.")


def can_view_content(viewer: Viewer, item: Row, community_id: int) -> bool:
    """Published content is for everyone who may see the community; held content also for its
    author; hidden and removed content for moderators. Deleted content shows to nobody."""
    status = item["status"]
    if status == PUBLISHED:
        return True
    if status == DELETED:
        return False
    if moderates(viewer, community_id):
        return status in (HELD, HIDDEN, REMOVED)
    author = item.get("author")
    return status == HELD and viewer.signed_in and author == viewer.id


def moderates_content(viewer: Viewer, community_id: int | None) -> bool:
    """Who moderates content: a community's moderators, or, for content outside any community
    (a story on its author's blog alone), every moderator, as for other site-wide items."""
    if community_id is None:
        return viewer.is_admin or bool(viewer.moderates)
    return moderates(viewer, community_id)


def can_view_story(viewer: Viewer, story: Row, community: Row | None) -> bool:
    """Published stories are for everyone who may see their community (everyone, outside any
    community); drafts and withdrawn stories for their author alone; held, hidden and removed
    ones for their author and the moderators."""
    is_author = viewer.signed_in and story.get("author") == viewer.id
    if is_author:
        return True
    if community is not None and not can_view_community(viewer, community):
        return False
    status = story["status"]
    if status == PUBLISHED:
        return True
    if status in (HELD, HIDDEN, REMOVED):
        return moderates_content(viewer, community["id"] if community else None)
    return False


def ensure_can_view_thread(viewer: Viewer, thread: Row | None, community: Row | None) -> Row:
    if thread is None or community is None or not can_view_community(viewer, community):
        raise NotFound("We couldn't find that conversation.")
    if not can_view_content(viewer, thread, community["id"]):
        raise NotFound("We couldn't find that conversation.")
    return thread


def ensure_can_edit_post(viewer: Viewer, post: Row, community_id: int) -> None:
    """Authors edit their own posts; moderators edit in their communities."""
    ensure_active(viewer)
    if post["status"] == DELETED:
        raise NotFound("We couldn't find that post.")
    if post.get("author") == viewer.id or moderates(viewer, community_id):
        return
    raise Forbidden("You can only change your own posts.")


def ensure_can_delete_post(viewer: Viewer, post: Row) -> None:
    """Only the author deletes (moderators hide or remove instead, which is audited)."""
    ensure_active(viewer)
    if post["status"] == DELETED:
        raise NotFound("We couldn't find that post.")
    if post.get("author") != viewer.id:
        raise Forbidden("You can only delete your own posts.")


# A member's level (moderation.trust) before they may start private conversations: new
# accounts first need a record in the communities, so a spammer can't register and message.
MIN_TRUST_TO_MESSAGE = 1


def may_start_conversations(viewer: Viewer) -> bool:
    """Members with a record (trust level 1 and up), verified clinicians and moderators."""
    return viewer.signed_in and (
        viewer.trust_level >= MIN_TRUST_TO_MESSAGE
        or viewer.role in ("clinician", "moderator", "admin")
        or bool(viewer.moderates)
    )


def ensure_can_start_conversations(viewer: Viewer) -> None:
    ensure_active(viewer)
    if not may_start_conversations(viewer):
        raise Forbidden(
            "New members can start private conversations once they have taken part in the "
            "communities for a little while (a few posts over a day or more). You can still "
            "reply when someone writes to you."
        )


def ensure_can_change_role(viewer: Viewer) -> None:
    ensure_active(viewer)
    if not viewer.is_admin:
        raise Forbidden("Only administrators can change roles.")
