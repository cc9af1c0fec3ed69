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
    # The reply the asker (or a moderator) marked as the answer (forum.answers).
    accepted_post = Integer(null=True, default=None)
    # For "ask a clinician": which specialty should answer (forum.clinicians.SPECIALTIES).
    specialty = Varchar(length=40, null=True, default=None)


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
    # The author's clinician credential when they posted ("Nurse · Cardiology"), or None if
    # they were not a verified clinician then; badges render from this, never from today's.
    author_credential = Varchar(length=160, null=True, default=None)


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


# People and expertise ---------------------------------------------------------------------


class ExperienceTag(Table, tablename="experience_tag"):
    """A member's lived experience in one community ("Patient · since 2009 · pump user").

    One per person and community (unique index). Shown beside their name there and on their
    profile unless they hide it; others vouch for it, moderators confirm it."""

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    community = ForeignKey(Community, null=False, on_delete=OnDelete.cascade, index=True)
    relation = Varchar(length=16)
    since_year = Integer(null=True, default=None)
    # Treatments or procedures lived through: a JSON list of short free tags.
    treatments = Text(default="[]")
    note = Varchar(length=280, default="")
    hidden = Boolean(default=False)
    # Derived: how many members vouch for it (ExperienceVouch rows), kept for the thread page.
    vouch_count = Integer(default=0)
    confirmed_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    confirmed_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class ExperienceVouch(Table, tablename="experience_vouch"):
    """A member vouching for another's experience tag; one per person and tag (unique index)."""

    tag = ForeignKey(ExperienceTag, null=False, on_delete=OnDelete.cascade, index=True)
    voucher = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz()


class ClinicianApplication(Table, tablename="clinician_application"):
    """A member's application to be a verified clinician, and once approved their verification.

    `status`: pending, approved, rejected or revoked. An approved application verifies its
    author until `expires_at`. Decisions go through moderation's queue and audit log."""

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    profession = Varchar(length=80)
    specialty = Varchar(length=40)
    # More specialties they answer questions in, comma-wrapped (",cardiology,nursing,").
    other_specialties = Varchar(length=400, default="")
    license_region = Varchar(length=80)
    license_number = Varchar(length=64)
    evidence_url = Varchar(length=500, null=True, default=None)
    status = Varchar(length=16, default="pending")
    decision_note = Text(default="")
    decided_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    decided_at = Timestamptz(null=True, default=None)
    expires_at = Timestamptz(null=True, default=None)
    revoked_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    revoked_at = Timestamptz(null=True, default=None)
    revoke_note = Text(default="")
    created_at = Timestamptz()


class Reaction(Table, tablename="reaction"):
    """A reaction to a post: helpful, support or me too; one of each per person (unique index)."""

    post = ForeignKey(Post, null=False, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=12)
    created_at = Timestamptz()


class BadgeAward(Table, tablename="badge_award"):
    """A badge a member earned (forum.badges); one of each per person (unique index)."""

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    badge = Varchar(length=32)
    awarded_at = Timestamptz()


class ProfilePrivacy(Table, tablename="profile_privacy"):
    """Who sees each part of a member's profile: everyone, members (signed in) or only_me.

    One row per person (unique index); no row means the defaults of forum.profiles."""

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    bio = Varchar(length=12, default="everyone")
    communities = Varchar(length=12, default="everyone")
    experience = Varchar(length=12, default="everyone")
    badges = Varchar(length=12, default="everyone")
    activity = Varchar(length=12, default="everyone")


# Stories, follows, notifications and e-mail (issue 6) -----------------------------------------

# A story's own statuses beside the shared ones: a draft only its author sees, and a story its
# author withdrew (terminal: it stays readable to them, to nobody else).
DRAFT = "draft"
WITHDRAWN = "withdrawn"
STORY_STATUSES = (DRAFT, PUBLISHED, WITHDRAWN, HELD, HIDDEN, REMOVED)


class Story(Table, tablename="story"):
    """A member's long-form story, on their blog and optionally in a community.

    `content_warnings` is a JSON list of short phrases the reader clicks through first.
    Consent (that anyone identifiable agreed) is confirmed once, at first publishing."""

    author = ForeignKey(User, null=True, on_delete=OnDelete.set_null, index=True)
    # Cascade, not set null: a private community's story must never become a public one.
    community = ForeignKey(Community, null=True, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=200)
    summary = Varchar(length=500, default="")
    body = Text()
    body_html = Text()
    policy_version = Integer()
    content_warnings = Text(default="[]")
    status = Varchar(length=16, default=DRAFT)
    label = Varchar(length=300, null=True, default=None)
    consent_confirmed_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    consent_confirmed_at = Timestamptz(null=True, default=None)
    comment_count = Integer(default=0)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    published_at = Timestamptz(null=True, default=None)
    edited_at = Timestamptz(null=True, default=None)
    withdrawn_at = Timestamptz(null=True, default=None)


class StoryRevision(Table, tablename="story_revision"):
    """A previous version of a published story, kept whenever it is edited."""

    story = ForeignKey(Story, null=False, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=200)
    summary = Varchar(length=500, default="")
    body = Text()
    body_html = Text()
    policy_version = Integer()
    content_warnings = Text(default="[]")
    edited_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz()


class StoryComment(Table, tablename="story_comment"):
    """A comment under a story, screened and moderated like a reply."""

    story = ForeignKey(Story, null=False, on_delete=OnDelete.cascade, index=True)
    author = ForeignKey(User, null=True, on_delete=OnDelete.set_null, index=True)
    body = Text()
    body_html = Text()
    policy_version = Integer()
    status = Varchar(length=16, default=PUBLISHED)
    label = Varchar(length=300, null=True, default=None)
    created_at = Timestamptz()
    edited_at = Timestamptz(null=True, default=None)


FOLLOW_KINDS = ("thread", "story", "community", "blog", "member")


class Follow(Table, tablename="follow"):
    """Someone follows (or mutes) a thread, a story, a community, a member's story blog or a
    member. One row per person and target (unique index); `muted` silences a thread or story
    entirely, `auto` marks follows made by writing rather than by choice."""

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    target_kind = Varchar(length=16)
    target_id = Integer()
    muted = Boolean(default=False)
    auto = Boolean(default=False)
    created_at = Timestamptz()


class Notification(Table, tablename="notification"):
    """Something a member should hear about. `subject` ("post:12", "story:3", …) is unique
    per recipient, so one piece of content never notifies the same person twice."""

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=24)
    subject = Varchar(length=64)
    actor = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    community_id = Integer(null=True, default=None)
    thread_id = Integer(null=True, default=None)
    post_id = Integer(null=True, default=None)
    story_id = Integer(null=True, default=None)
    comment_id = Integer(null=True, default=None)
    item_id = Integer(null=True, default=None)
    message = Text(default="")
    created_at = Timestamptz()
    read_at = Timestamptz(null=True, default=None)


EMAIL_MODES = ("none", "immediate", "daily")


class EmailSetting(Table, tablename="email_setting"):
    """How a member wants e-mail: none, each notification at once, or a daily digest.
    No row means the default (the daily digest). One row per member (unique index)."""

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    mode = Varchar(length=16, default="daily")
    updated_at = Timestamptz()


class MailOutbox(Table, tablename="mail_outbox"):
    """One e-mail to send. `key` is unique ("n:<notification>", "digest:<user>:<day>"), so
    nothing is enqueued twice; senders claim a row atomically before sending it."""

    key = Varchar(length=80)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=16)  # notification or digest
    # Gone with its notification: content removed before the mail left is never mailed.
    notification = ForeignKey(Notification, null=True, on_delete=OnDelete.cascade)
    period_start = Timestamptz(null=True, default=None)
    period_end = Timestamptz(null=True, default=None)
    status = Varchar(length=16, default="pending")  # pending, sending, sent, failed, skipped
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz()
    claimed_by = Varchar(length=64, null=True, default=None)
    claimed_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz()
