"""Accounts: registering, signing in, sessions' epoch, profiles and roles."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from forum import content, db, ratelimit
from forum.auth import burn_verification, hash_password, verify_password
from forum.errors import Conflict, Forbidden, Invalid, KindredError, NotFound
from forum.permissions import Viewer, ensure_active, ensure_can_change_role
from forum.settings import RateLimit, Settings
from forum.tables import ROLES, User
from forum.validation import Form

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{2,31}$")
RESERVED_USERNAMES = frozenset(
    {
        "admin", "administrator", "moderator", "mod", "kindred", "system", "support", "staff",
        "anonymous", "former-member", "nobody", "root", "api", "login", "register", "me",
    }
)  # fmt: skip
PASSWORD_MIN = 10
PASSWORD_MAX = 256
# The most common passwords long enough to pass the length rule.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890", "12345678910", "qwertyuiop", "password12", "password123",
        "password1234", "iloveyou12", "0987654321", "1111111111", "abcdefghij",
        "qwerty1234", "letmein123", "welcome123", "passw0rd12", "1q2w3e4r5t",
        "qwertyuiop1", "administrator", "changeme123", "trustno1234",
    }
)  # fmt: skip
BIO_MAX = 2000
# Failed sign-ins lock an account for the address they came from after the sign_in_user limit;
# for every address at once only after this many times as many (guessing spread over a botnet).
ACCOUNT_WIDE_FAILURES = 10
DISPLAY_NAME_MAX = 64

# Columns safe to hand to templates and the API: never the password hash or e-mail.
PUBLIC_COLUMNS = (
    User.id,
    User.username,
    User.display_name,
    User.role,
    User.bio,
    User.bio_html,
    User.trust_level,
    User.status,
    User.created_at,
)


@dataclass(frozen=True)
class Registration:
    username: str
    password: str
    email: str = ""
    display_name: str = ""


def _check_username(form: Form, raw: Any) -> str:
    username = form.text("username", raw, label="Username", max_length=32).lower()
    if "username" in form.errors:
        return username
    if not USERNAME_RE.match(username):
        form.fail(
            "username",
            "Usernames are 3 to 32 letters, numbers, - or _, starting with a letter or number.",
        )
    elif username in RESERVED_USERNAMES:
        form.fail("username", "That username is reserved. Please choose another.")
    return username


def _check_password(form: Form, raw: Any, username: str, field: str = "password") -> str:
    if not isinstance(raw, str) or not raw:
        form.fail(field, "Please choose a password.")
        return ""
    if len(raw) < PASSWORD_MIN:
        form.fail(
            field, f"Passwords need at least {PASSWORD_MIN} characters; a short phrase works well."
        )
    elif len(raw) > PASSWORD_MAX:
        form.fail(field, f"Passwords can be at most {PASSWORD_MAX} characters.")
    elif raw.lower() in COMMON_PASSWORDS or raw.lower() == username.lower():
        form.fail(field, "That password is too easy to guess. Please choose another.")
    return raw


def _check_email(form: Form, raw: Any) -> str | None:
    email = form.text("email", raw, label="E-mail", max_length=254, required=False)
    if email and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
        form.fail("email", "That doesn't look like an e-mail address (name@example.org).")
    return email or None


async def register(
    settings: Settings,
    data: Registration,
    *,
    ip: str = "",
    role: str = "member",
    self_service: bool = False,
    invite_code: Any = None,
) -> dict[str, Any]:
    """Create a member account. Registration is rate limited per address.

    `self_service`: a person registering themself (the web form, the API), so the site's
    registration mode applies: closed, or invite-only with a working `invite_code` (one use
    of it is spent). Administrators' tools (`kindred create-user`, the demo) are not bound."""
    from forum import site_settings

    if self_service:
        role = "member"
        if await site_settings.registration_mode() == site_settings.CLOSED:
            await site_settings.check_registration(None)
    form = Form()
    username = _check_username(form, data.username)
    password = _check_password(form, data.password, username)
    email = _check_email(form, data.email)
    display_name = (
        form.text(
            "display_name",
            data.display_name,
            label="Display name",
            max_length=DISPLAY_NAME_MAX,
            required=False,
        )
        or username
    )
    if role not in ROLES:
        form.fail("role", f"Role must be one of: {', '.join(ROLES)}.")
    form.check()
    if ip:
        await ratelimit.hit(f"register:{ip}", settings.rate_limits["register_ip"])
    if await User.exists().where(User.username == username):
        raise Conflict(
            "That username is taken.",
            {"username": "That username is taken. Please choose another."},
        )
    password_hash = await hash_password(password, settings.password_cost)
    try:
        async with db.transaction():
            if self_service:  # an invite's use is spent only with the account it made
                await site_settings.check_registration(invite_code)
            rows = await User.insert(
                User(
                    username=username,
                    display_name=display_name,
                    email=email,
                    password_hash=password_hash,
                    role=role,
                    created_at=datetime.now(UTC),
                )
            ).returning(*PUBLIC_COLUMNS)
    except KindredError:
        raise
    except Exception as error:  # a concurrent registration took the name first
        if await User.exists().where(User.username == username):
            raise Conflict(
                "That username is taken.",
                {"username": "That username is taken. Please choose another."},
            ) from error
        raise
    return rows[0]


async def authenticate(
    settings: Settings, username: Any, password: Any, *, ip: str = ""
) -> dict[str, Any]:
    """The account for these credentials. Attempts are limited per address, and failures per
    account and address, so guessing is slow but a person who knows their password is never
    locked out by someone else's guesses from another address. Guesses spread over many
    addresses meet a ceiling for the account (ACCOUNT_WIDE_FAILURES times the limit)."""
    if (
        not isinstance(username, str)
        or not isinstance(password, str)
        or not username
        or not password
    ):
        raise Invalid({"username": "Please enter your username and password."})
    name = username.strip().lower()[:64]
    if ip:
        await ratelimit.hit(f"signin-ip:{ip}", settings.rate_limits["sign_in_ip"])
    rule = settings.rate_limits["sign_in_user"]
    failures = (
        (f"signin-fail:{name}:{ip}", rule),
        (f"signin-fail:{name}", RateLimit(rule.limit * ACCOUNT_WIDE_FAILURES, rule.window)),
    )
    # Each attempt counts as a failure before the password is checked, and is given back if it
    # was right: attempts sent all at once can't all slip past a check made before counting.
    for key, failure_rule in failures:
        await ratelimit.hit(key, failure_rule)
    row = (
        await User.select(User.id, User.password_hash, User.status)
        .where(User.username == name)
        .first()
    )
    if row is None:
        await burn_verification(settings.password_cost)
        ok = False
    else:
        ok = await verify_password(password[:PASSWORD_MAX], row["password_hash"])
    if not ok:
        raise Invalid(
            {"password": "That username and password don't match. Please try again."},
            "That username and password don't match.",
        )
    for key, failure_rule in failures:
        await ratelimit.release(key, failure_rule)
    if row["status"] in ("banned", "deleted"):
        raise Forbidden(
            "This account can't sign in. If you think this is a mistake, contact the moderators."
        )
    return await get_user_row(row["id"])


async def get_user_row(user_id: int) -> dict[str, Any]:
    row = await User.select(*PUBLIC_COLUMNS, User.session_epoch).where(User.id == user_id).first()
    if row is None:
        raise NotFound("We couldn't find that person.")
    return row


# Who is asking, with their memberships, blocks and unread counts: one statement, several rows
# (one per membership and block). Arguments: viewer_arguments(user id).
VIEWER_SQL = (
    'SELECT u.*, m."community", m."role" AS "membership_role", m."blocked" FROM ('
    'SELECT u."id", u."username", u."display_name", u."role", u."status", u."trust_level", '
    'u."suspended_until", u."session_epoch", u."unread_notices", '
    # The bell's count, in the same query: no page pays a query of its own for it. Counted
    # here, once, not once per membership and block row of the join below.
    '(SELECT COUNT(*) FROM "notification" n WHERE n."user" = u."id" AND n."read_at" IS NULL) '
    'AS "unread_notifications", '
    # Unread private messages (forum.messages), likewise: conversations not left or muted,
    # messages others sent that were delivered, not from someone this person blocked.
    '(SELECT COUNT(*) FROM "conversation_member" cm JOIN "private_message" pm '
    'ON pm."conversation" = cm."conversation" AND pm."id" > cm."last_read_id" '
    'WHERE cm."user" = u."id" AND cm."left_at" IS NULL AND cm."muted" = {} '
    'AND pm."status" = \'published\' AND COALESCE(pm."sender", 0) <> u."id" '
    'AND NOT EXISTS (SELECT 1 FROM "member_block" b WHERE b."blocker" = u."id" '
    'AND b."blocked" = pm."sender")) AS "unread_messages" '
    'FROM "kindred_user" u WHERE u."id" = {}) u '
    # Memberships and blocks (forum.blocks) as rows of one join.
    'LEFT JOIN (SELECT ms."user" AS "owner", ms."community", '
    'ms."role", NULL AS "blocked" FROM "membership" ms WHERE ms."user" = {} UNION ALL '
    'SELECT mb."blocker", NULL, NULL, mb."blocked" FROM "member_block" mb '
    'WHERE mb."blocker" = {}) m ON m."owner" = u."id"'
)


def viewer_arguments(user_id: int) -> tuple[Any, ...]:
    return (False, user_id, user_id, user_id)


def valid_session(user_id: Any, epoch: Any) -> bool:
    """Whether a session's user id and epoch are worth a query at all."""
    return (
        isinstance(user_id, int)
        and not isinstance(user_id, bool)
        and isinstance(epoch, int)
        and 0 < user_id < 2**63
    )


async def load_viewer(user_id: Any, epoch: Any) -> Viewer | None:
    """The Viewer for a session or token, or None if it was revoked. One query."""
    if not valid_session(user_id, epoch):
        return None
    return viewer_from_rows(await db.read(VIEWER_SQL, *viewer_arguments(user_id)), epoch)


def viewer_from_rows(rows: list[dict[str, Any]], epoch: int) -> Viewer | None:
    """VIEWER_SQL's rows as a Viewer, or None if the account is gone or the epoch moved on."""
    if not rows or rows[0]["session_epoch"] != epoch or rows[0]["status"] == "deleted":
        return None
    first = rows[0]
    member_of = frozenset(r["community"] for r in rows if r["community"] is not None)
    moderates = frozenset(r["community"] for r in rows if r["membership_role"] == "moderator")
    blocked = frozenset(r["blocked"] for r in rows if r["blocked"] is not None)
    suspended_until = first["suspended_until"]
    if isinstance(suspended_until, str):
        suspended_until = datetime.fromisoformat(suspended_until)
    return Viewer(
        id=first["id"],
        username=first["username"],
        display_name=first["display_name"],
        role=first["role"],
        status=first["status"],
        trust_level=first["trust_level"],
        suspended_until=suspended_until,
        member_of=member_of,
        moderates=moderates,
        unread_notices=first["unread_notices"] or 0,
        unread_notifications=first["unread_notifications"] or 0,
        unread_messages=first["unread_messages"] or 0,
        blocked=blocked,
    )


async def session_epoch(user_id: int) -> int:
    row = await User.select(User.session_epoch).where(User.id == user_id).first()
    if row is None:
        raise NotFound("We couldn't find that person.")
    return row["session_epoch"]


async def sign_out_everywhere(viewer: Viewer) -> int:
    """Invalidate every session and token of this person; returns the new epoch."""
    ensure_active_or_suspended(viewer)
    await User.update({User.session_epoch: User.session_epoch + 1}).where(User.id == viewer.id)
    return await session_epoch(viewer.id)  # type: ignore[arg-type]


def ensure_active_or_suspended(viewer: Viewer) -> None:
    """Suspended people may still manage their own account's security."""
    from forum.permissions import ensure_signed_in

    ensure_signed_in(viewer)


async def change_password(settings: Settings, viewer: Viewer, current: Any, new: Any) -> int:
    """Change the password and sign out every other session; returns the new epoch."""
    ensure_active_or_suspended(viewer)
    row = await User.select(User.password_hash).where(User.id == viewer.id).first()
    form = Form()
    if (
        not isinstance(current, str)
        or row is None
        or not await verify_password(current, row["password_hash"])
    ):
        form.fail("current_password", "That isn't your current password.")
    _check_password(form, new, viewer.username, field="new_password")
    form.check()
    new_hash = await hash_password(new, settings.password_cost)
    await User.update(
        {User.password_hash: new_hash, User.session_epoch: User.session_epoch + 1}
    ).where(User.id == viewer.id)
    return await session_epoch(viewer.id)  # type: ignore[arg-type]


async def update_profile(
    viewer: Viewer, *, display_name: Any = None, bio: Any = None
) -> dict[str, Any]:
    """Change the display name and/or bio; fields left None stay as they are."""
    ensure_active(viewer)
    form = Form()
    changes: dict[Any, Any] = {}
    if display_name is not None:
        changes[User.display_name] = form.text(
            "display_name", display_name, label="Display name", max_length=DISPLAY_NAME_MAX
        )
    if bio is not None:
        text = form.text(
            "bio", bio, label="Bio", max_length=BIO_MAX, required=False, multiline=True
        )
        changes[User.bio] = text
        changes[User.bio_html] = content.render(text).html if text else ""
    form.check()
    if changes:
        await User.update(changes).where(User.id == viewer.id)
    return await get_user_row(viewer.id)  # type: ignore[arg-type]


async def get_profile(username: str) -> dict[str, Any]:
    """A public profile. Deleted accounts are not found."""
    row = (
        await User.select(*PUBLIC_COLUMNS)
        .where((User.username == str(username).lower()[:64]) & (User.status != "deleted"))
        .first()
    )
    if row is None:
        raise NotFound("We couldn't find that person.")
    return row


async def set_role(viewer: Viewer, username: str, role: str) -> dict[str, Any]:
    """Admins change a person's site role."""
    ensure_can_change_role(viewer)
    form = Form()
    form.choice("role", role, ROLES, label="Role")
    form.check()
    profile = await get_profile(username)
    await User.update({User.role: role}).where(User.id == profile["id"])
    return await get_user_row(profile["id"])
