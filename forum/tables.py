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
    # Members may post without their name here (forum.anonymity); off unless its moderators
    # turn it on, for communities where stigma keeps people silent.
    allow_anonymous = Boolean(default=False)


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
    # Its opening post is anonymous (forum.anonymity): lists never name who started it.
    anonymous = Boolean(default=False)
    # Bumped by database triggers whenever its posts or their reactions change, so a process
    # may keep a page's posts in memory until it moves (forum.threads, migration page_cache).
    page_version = Integer(default=0)


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
    # Posted without the author's name (forum.anonymity): readers see only `pseudonym`
    # ("Anonymous member 2", stable per thread and author); `author` stays for rate limits,
    # trust, moderation and the author's own rights, and is never shown.
    anonymous = Boolean(default=False)
    pseudonym = Varchar(length=40, null=True, default=None)


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
    # A new private message (forum.messages): the conversation it is in.
    conversation_id = Integer(null=True, default=None)


EMAIL_MODES = ("none", "immediate", "daily")


class EmailSetting(Table, tablename="email_setting"):
    """How a member wants e-mail: none, each notification at once, or a daily digest, which
    comes in the morning of their time zone (an IANA name). No row means the default (the
    daily digest, UTC). One row per member (unique index)."""

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    mode = Varchar(length=16, default="daily")
    time_zone = Varchar(length=64, default="UTC")
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
    # pending, sending, delivering, sent, failed, skipped, interrupted (forum/mail.py)
    status = Varchar(length=16, default="pending")
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz()
    claimed_by = Varchar(length=64, null=True, default=None)
    claimed_at = Timestamptz(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    last_error = Text(default="")
    created_at = Timestamptz()


# Running a community: guidelines, onboarding, site settings, invitations (issue 7) ------------


class CommunityGuidelines(Table, tablename="community_guidelines"):
    """One version of a community's guidelines (markdown and its sanitized HTML). The highest
    version is the current one; earlier versions stay for the record. Unique on (community,
    version) by a unique index."""

    community = ForeignKey(Community, null=False, on_delete=OnDelete.cascade, index=True)
    version = Integer()
    body = Text()
    body_html = Text()
    policy_version = Integer()
    # What changed, in a line, shown to members asked to accept the new version.
    note = Varchar(length=300, default="")
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz()


class MemberOnboarding(Table, tablename="member_onboarding"):
    """A member's onboarding in one community: the guidelines version they accepted (0: none
    yet) and when they saw the orientation. One row per person and community (unique index)."""

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    community = ForeignKey(Community, null=False, on_delete=OnDelete.cascade, index=True)
    accepted_version = Integer(default=0)
    accepted_at = Timestamptz(null=True, default=None)
    oriented_at = Timestamptz(null=True, default=None)


class SiteSetting(Table, tablename="site_setting"):
    """One site-wide setting an administrator changes (forum.site_settings): the disclaimer,
    the privacy notice, crisis resources, the registration mode. Unique on `key` (index)."""

    key = Varchar(length=48)
    value = Text(default="")
    # For markdown settings, the sanitized HTML made from `value`.
    value_html = Text(default="")
    edited_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    updated_at = Timestamptz()


class InviteCode(Table, tablename="invite_code"):
    """A code that lets people register while registration is invite-only. Unique on `code`."""

    code = Varchar(length=40)
    note = Varchar(length=200, default="")
    max_uses = Integer(default=1)
    uses = Integer(default=0)
    expires_at = Timestamptz(null=True, default=None)
    revoked = Boolean(default=False)
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz()


# Private conversations, blocks and names for one community (issue 9) ------------------------

# Who may start a conversation with a member (forum.messages); no row means "communities".
MESSAGE_AUDIENCES = ("anyone", "communities", "nobody")


class Conversation(Table, tablename="conversation"):
    """A private conversation between two or more members (forum.messages). Nobody else
    reads it: moderators see a message only when a participant reports it (or screening
    holds it), and every such look is in the audit log."""

    subject = Varchar(length=200, default="")
    created_by = ForeignKey(User, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
    last_message_at = Timestamptz(index=True)


class ConversationMember(Table, tablename="conversation_member"):
    """A participant in a conversation and their state in it: the last message they read
    (unread counts), muted, and when they left. One row per person and conversation
    (unique index)."""

    conversation = ForeignKey(Conversation, null=False, on_delete=OnDelete.cascade, index=True)
    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    last_read_id = Integer(default=0)
    muted = Boolean(default=False)
    joined_at = Timestamptz()
    left_at = Timestamptz(null=True, default=None)


class PrivateMessage(Table, tablename="private_message"):
    """One message in a conversation: its markdown and the sanitized HTML made from it, by
    the same content pipeline and screening as posts."""

    conversation = ForeignKey(Conversation, null=False, on_delete=OnDelete.cascade, index=True)
    sender = ForeignKey(User, null=True, on_delete=OnDelete.set_null, index=True)
    body = Text()
    body_html = Text()
    policy_version = Integer()
    status = Varchar(length=16, default=PUBLISHED)
    label = Varchar(length=300, null=True, default=None)
    created_at = Timestamptz()


class MessageSetting(Table, tablename="message_setting"):
    """Who may start a conversation with a member: anyone, members of a community they share,
    or nobody. One row per member (unique index); no row means the default."""

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade)
    audience = Varchar(length=16, default="communities")
    updated_at = Timestamptz()


class Block(Table, tablename="member_block"):
    """A member blocks another (forum.blocks): no messages either way, no mentions, no
    follows, and the blocked member's posts collapsed for the blocker. One row per pair
    (unique index)."""

    blocker = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    blocked = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz()


class MessageReport(Table, tablename="message_report"):
    """A participant reported a message to the moderators. `shared` is the JSON list of the
    earlier messages they chose to show with it: moderators see those and nothing else."""

    message = ForeignKey(PrivateMessage, null=False, on_delete=OnDelete.cascade, index=True)
    reporter = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    item_id = Integer(null=True, default=None)
    reason = Varchar(length=16)
    note = Text(default="")
    shared = Text(default="[]")
    created_at = Timestamptz()


class CommunityName(Table, tablename="community_name"):
    """The name a member uses in one community instead of their display name (forum.aliases),
    so what they write there can't be joined to the rest of their activity by other members.
    Kept apart from Membership so that leaving a community never puts their own name back on
    what they wrote there. One per person and community, and unique within a community
    (case-insensitive), by unique indexes."""

    user = ForeignKey(User, null=False, on_delete=OnDelete.cascade, index=True)
    community = ForeignKey(Community, null=False, on_delete=OnDelete.cascade, index=True)
    display_name = Varchar(length=64)
    created_at = Timestamptz()
    updated_at = Timestamptz()
