"""The forum's tables: people, communities, threads, posts and their history.

Changed only through migrations in forum/piccolo_migrations. Times are UTC.
"""

from __future__ import annotations

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

# Content statuses, shared by posts, threads and (later) stories and comments.
PUBLISHED = "published"
HELD = "held"
HIDDEN = "hidden"
REMOVED = "removed"
DELETED = "deleted"
STATUSES = (PUBLISHED, HELD, HIDDEN, REMOVED, DELETED)

ROLES = ("member", "clinician", "moderator", "admin")
THREAD_KINDS = ("discussion", "ask_clinician")
VISIBILITIES = ("public", "private")


class User(Table, tablename="kindred_user"):
    """A person with an account. `session_epoch` invalidates old sessions and tokens."""

    username = Varchar(length=32, unique=True)
    display_name = Varchar(length=64)
    email = Varchar(length=254, null=True, default=None)
    password_hash = Varchar(length=255)
    role = Varchar(length=16, default="member")
    bio = Text(default="")
    bio_html = Text(default="")
    session_epoch = Integer(default=0)
    trust_level = Integer(default=0)
    status = Varchar(length=16, default="active")
    suspended_until = Timestamptz(null=True, default=None)
    # Moderators' messages not yet read (moderation.notices keeps the messages themselves).
    unread_notices = Integer(default=0)
    created_at = Timestamptz()


class Community(Table, tablename="community"):
    """A condition-specific community; private ones are invisible to non-members."""

    slug = Varchar(length=48, unique=True)
    name = Varchar(length=80)
    description = Text(default="")
    description_html = Text(default="")
    visibility = Varchar(length=16, default="public")
    archived = Boolean(default=False)
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz()


class Membership(Table, tablename="membership"):
    """A member of a community; `role` is member or moderator. One row per person and community."""

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    community = ForeignKey(Community, null=False, on_delete=OnDelete.cascade, index=True)
    role = Varchar(length=16, default="member")
    joined_at = Timestamptz()


class Thread(Table, tablename="thread"):
    """A conversation in a community. `reply_count` counts published replies."""

    community = ForeignKey(Community, null=False, on_delete=OnDelete.cascade, index=True)
    author = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    title = Varchar(length=200)
    kind = Varchar(length=20, default="discussion")
    status = Varchar(length=16, default=PUBLISHED)
    reply_count = Integer(default=0)
    expert_answered = Boolean(default=False)
    created_at = Timestamptz()
    last_activity_at = Timestamptz(index=True)


class Post(Table, tablename="post"):
    """One message in a thread: its markdown source and the sanitized HTML made from it."""

    thread = ForeignKey(Thread, null=False, on_delete=OnDelete.cascade, index=True)
    author = ForeignKey(User, null=True, on_delete=OnDelete.set_null, index=True)
    is_opening = Boolean(default=False)
    body = Text()
    body_html = Text()
    policy_version = Integer()
    status = Varchar(length=16, default=PUBLISHED)
    # What readers are told about the post by screening ("discusses a health claim…"), if any.
    label = Varchar(length=300, null=True, default=None)
    created_at = Timestamptz(index=True)
    edited_at = Timestamptz(null=True, default=None)


class PostRevision(Table, tablename="post_revision"):
    """A previous version of a post, kept whenever it is edited."""

    post = ForeignKey(Post, null=False, on_delete=OnDelete.cascade, index=True)
    body = Text()
    body_html = Text()
    policy_version = Integer()
    edited_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz()


class RateLimitHit(Table, tablename="rate_limit_hit"):
    """A fixed-window counter in the database, so limits hold across app instances.

    Unique on (key, window_start), by a unique index in the migrations.
    """

    key = Varchar(length=200)
    window_start = Integer()
    count = Integer(default=0)
