"""Site-wide settings administrators change on /admin/settings: the medical disclaimer, the
privacy notice, crisis resources by region, and whether registration is open, closed or by
invitation. Invite codes live here too.

Settings are rows of a small key/value table. Pages read them from memory: each app keeps a
SiteSettingsCache, loaded at start-up, reloaded at once in the process that saved a change and,
in a server, polled every few seconds so other processes follow. No page pays a query for them.
Crisis resources feed moderation's rules (moderation.rulebook.set_site_resources), so the
panel shown to a person in crisis lists the helplines the administrators chose.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from forum import content, db
from forum.errors import Forbidden, Invalid, NotFound
from forum.pagination import Page
from forum.permissions import Viewer, ensure_active
from forum.settings import Settings
from forum.tables import InviteCode
from forum.validation import Form
from moderation import audit
from moderation.rulebook import Resource, Resources, load_rules, set_site_resources

log = logging.getLogger("kindred.site_settings")

OPEN = "open"
CLOSED = "closed"
INVITE_ONLY = "invite_only"
REGISTRATION_MODES = (OPEN, CLOSED, INVITE_ONLY)
REGISTRATION_NAMES = {
    OPEN: "Open: anyone can register",
    INVITE_ONLY: "By invitation: people need an invite code",
    CLOSED: "Closed: nobody can register",
}
MARKDOWN_KEYS = ("disclaimer", "privacy")
KEYS = (*MARKDOWN_KEYS, "crisis_resources", "registration")
TEXT_MAX = 20_000
RESOURCES_MAX = 40
POLL_SECONDS = 5.0

DEFAULT_DISCLAIMER = (
    "Kindred is a place to share experience, not a substitute for medical care. Talk to your "
    "own clinician before changing a treatment."
)
DEFAULT_PRIVACY = """\
**What we keep, and who sees it.**

- Your username and display name are shown with what you write. Your e-mail address is never
  shown to anyone; it is used only for the notifications you choose and for your account.
- What you write in a **private community** is seen only by its members and moderators.
  Everything else you post can be read by anyone, including people who are not signed in.
- You choose who sees each part of your profile on your settings page.
- When a search finds nothing, we keep the words searched (never who searched), so the
  community can see what people need and can't find.
- Moderators can see posts held for review and the record of moderation decisions.

**Your rights.** You can download everything you wrote and every record about you, and delete
your account, from your settings page.

**Please protect yourself and others.** Don't post anyone's full name, address, phone number
or medical record details: Kindred warns you when a post seems to include them.
"""


@dataclass(frozen=True)
class CrisisResource:
    """A helpline or service shown to a person in crisis, and where it serves."""

    region: str
    name: str
    contact: str = ""
    url: str = ""

    def as_json(self) -> dict[str, str]:
        return {"region": self.region, "name": self.name, "contact": self.contact, "url": self.url}

    def as_line(self) -> str:
        return " | ".join(part for part in (self.region, self.name, self.contact, self.url))


@dataclass(frozen=True)
class SiteSettings:
    """The site's settings as pages show them; defaults where an administrator set nothing."""

    disclaimer: str = DEFAULT_DISCLAIMER
    disclaimer_html: str = ""
    privacy: str = DEFAULT_PRIVACY
    privacy_html: str = ""
    # Empty: moderation's own (moderation/rules/crisis_resources.toml, or the deployment's).
    crisis_resources: tuple[CrisisResource, ...] = ()
    registration: str = OPEN
    updated_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "disclaimer": self.disclaimer,
            "disclaimer_html": self.disclaimer_html,
            "privacy": self.privacy,
            "privacy_html": self.privacy_html,
            "crisis_resources": [r.as_json() for r in self.crisis_resources],
            "registration": self.registration,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
        }


# What the table holds for a setting nobody changed: empty text means Kindred's own.
STORED_DEFAULTS = {"disclaimer": "", "privacy": "", "crisis_resources": "[]", "registration": OPEN}
_DEFAULT_HTML: dict[str, str] = {}


def _default_text(key: str) -> str:
    return DEFAULT_DISCLAIMER if key == "disclaimer" else DEFAULT_PRIVACY


def _default_html(key: str) -> str:
    if key not in _DEFAULT_HTML:
        _DEFAULT_HTML[key] = content.render(_default_text(key)).html
    return _DEFAULT_HTML[key]


def defaults() -> SiteSettings:
    return SiteSettings(
        disclaimer_html=_default_html("disclaimer"), privacy_html=_default_html("privacy")
    )


def _from_rows(rows: list[dict[str, Any]]) -> SiteSettings:
    values: dict[str, Any] = {
        "disclaimer_html": _default_html("disclaimer"),
        "privacy_html": _default_html("privacy"),
    }
    updated: datetime | None = None
    for row in rows:
        key, value = row["key"], row["value"]
        stamp = row["updated_at"]
        if isinstance(stamp, str):
            stamp = datetime.fromisoformat(stamp)
        updated = stamp if updated is None or (stamp and stamp > updated) else updated
        if key in MARKDOWN_KEYS and value.strip():
            values[key] = value
            values[f"{key}_html"] = row["value_html"]
        elif key == "crisis_resources":
            try:
                items = json.loads(value or "[]")
                values[key] = tuple(
                    CrisisResource(
                        str(item.get("region", "")),
                        str(item["name"]),
                        str(item.get("contact", "")),
                        str(item.get("url", "")),
                    )
                    for item in items
                )
            except (ValueError, KeyError, TypeError, AttributeError):
                log.warning("site setting crisis_resources can't be read; using the defaults")
        elif key == "registration" and value in REGISTRATION_MODES:
            values[key] = value
    return SiteSettings(**values, updated_at=updated)


async def load() -> SiteSettings:
    """The current settings, from the database (one query)."""
    rows = await db.raw('SELECT "key", "value", "value_html", "updated_at" FROM "site_setting"')
    return _from_rows(rows)


async def registration_mode() -> str:
    """Open, closed or invite_only, read from the database (registration is rare)."""
    rows = await db.raw('SELECT "value" FROM "site_setting" WHERE "key" = {}', "registration")
    value = rows[0]["value"] if rows else OPEN
    return value if value in REGISTRATION_MODES else OPEN


# Keeping every process up to date ------------------------------------------------------------

# Bumped by every save in this process: caches here reload at their next read.
_generation = 0


def moderation_dir(data_dir: Path) -> Path:
    """The rules folder moderation reads for this deployment (moderation.posting.rules_for)."""
    return data_dir / "moderation"


def apply_to_moderation(data_dir: Path | None, site: SiteSettings) -> None:
    """Point moderation's crisis panel at the administrators' resources (or back to its own)."""
    if data_dir is None:
        return
    folder = moderation_dir(data_dir)
    if not site.crisis_resources:
        set_site_resources(folder, None)
        return
    set_site_resources(folder, None)
    base = load_rules(folder).resources
    set_site_resources(
        folder,
        Resources(
            heading=base.heading,
            message=base.message,
            items=tuple(
                Resource(name=r.name, contact=r.contact, url=r.url, region=r.region)
                for r in site.crisis_resources
            ),
        ),
    )


class SiteSettingsCache:
    """One app's copy of the settings: read by every page without a query."""

    def __init__(self, data_dir: Path | None) -> None:
        self.data_dir = data_dir
        self.current = defaults()
        self._generation = -1
        self._task: asyncio.Task[None] | None = None

    async def reload(self) -> SiteSettings:
        generation = _generation
        site = await load()
        self.current = site
        self._generation = generation
        apply_to_moderation(self.data_dir, site)
        return site

    async def get(self) -> SiteSettings:
        """The settings; reloaded first only if this process saved a change since."""
        if self._generation != _generation:
            await self.reload()
        return self.current

    def start_polling(self, seconds: float = POLL_SECONDS) -> None:
        """Follow changes other processes save, checking every few seconds."""
        if self._task is None:
            self._task = asyncio.create_task(self._poll(seconds))

    async def _poll(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await self.reload()
            except Exception:  # a database hiccup must not end the poller
                log.exception("reloading the site settings failed; will try again")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


# Changing them -------------------------------------------------------------------------------


def ensure_admin(viewer: Viewer) -> None:
    """Administrators only; for anyone else the admin pages don't exist."""
    ensure_active(viewer)
    if not viewer.is_admin:
        raise NotFound()


_LINE_SPLIT = re.compile(r"\s*\|\s*")


def parse_resources(text: Any) -> tuple[CrisisResource, ...]:
    """Crisis resources from lines of `region | name | contact | https://link` (contact and
    link optional). Raises Invalid naming the line at fault."""
    if not isinstance(text, str):
        raise Invalid({"crisis_resources": "Write one resource a line."})
    resources = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = _LINE_SPLIT.split(line.strip())
        if len(parts) < 2 or len(parts) > 4 or not parts[0] or not parts[1]:
            raise Invalid(
                {
                    "crisis_resources": f"Line {number}: write region | name | contact | link "
                    "(contact and link are optional), for example "
                    "“US | 988 Suicide & Crisis Lifeline | Call or text 988 | https://988lifeline.org”."
                }
            )
        region, name = parts[0], parts[1]
        contact = parts[2] if len(parts) > 2 else ""
        url = parts[3] if len(parts) > 3 else ""
        if len(parts) == 3 and contact.startswith(("https://", "http://")):
            contact, url = "", contact
        if url and not re.match(r"^https://[^\s<>\"]+$", url):
            raise Invalid({"crisis_resources": f"Line {number}: links must start with https://."})
        if len(region) > 60 or len(name) > 120 or len(contact) > 300 or len(url) > 300:
            raise Invalid({"crisis_resources": f"Line {number} is too long."})
        resources.append(CrisisResource(region, name, contact, url))
    if len(resources) > RESOURCES_MAX:
        raise Invalid({"crisis_resources": f"At most {RESOURCES_MAX} resources, please."})
    return tuple(resources)


def resources_text(resources: tuple[CrisisResource, ...]) -> str:
    return "\n".join(resource.as_line() for resource in resources)


async def save(settings: Settings, viewer: Viewer, changes: dict[str, Any]) -> SiteSettings:
    """Change some settings (admins). Each change is audited with its value before and after.
    Empty markdown goes back to the default text; empty crisis resources to moderation's own."""
    ensure_admin(viewer)
    form = Form()
    values: dict[str, tuple[str, str]] = {}
    for key, raw in changes.items():
        if key not in KEYS:
            form.fail(key, f"Settings are: {', '.join(KEYS)}.")
        elif key in MARKDOWN_KEYS:
            text = form.text(
                key, raw, label=key.title(), max_length=TEXT_MAX, required=False, multiline=True
            )
            if text == _default_text(key).strip():  # the form showed the default: keep following it
                text = ""
            values[key] = (text, content.render(text).html if text.strip() else "")
        elif key == "registration":
            values[key] = (form.choice(key, raw, REGISTRATION_MODES, label="Registration"), "")
        else:
            try:
                parsed = parse_resources(raw)
            except Invalid as error:
                for field, message in error.fields.items():
                    form.fail(field, message)
                continue
            values[key] = (json.dumps([r.as_json() for r in parsed]), "")
    form.check()
    stored = {row["key"]: row["value"] for row in await db.raw('SELECT * FROM "site_setting"')}
    before = {key: stored.get(key, STORED_DEFAULTS[key]) for key in KEYS}
    now = datetime.now(UTC)
    async with db.transaction():
        for key, (value, html) in values.items():
            if before[key] == value:
                continue
            await db.raw(
                'INSERT INTO "site_setting" ("key", "value", "value_html", "edited_by", '
                '"updated_at") VALUES ({}, {}, {}, {}, {}) ON CONFLICT ("key") DO UPDATE SET '
                '"value" = excluded."value", "value_html" = excluded."value_html", '
                '"edited_by" = excluded."edited_by", "updated_at" = excluded."updated_at"',
                key,
                value,
                html,
                viewer.id,
                now,
            )
            await audit.record(
                viewer,
                "edit_setting",
                kind="site_setting",
                note=key,
                before={key: _short(before[key])},
                after={key: _short(value)},
            )
    return await published(settings)


def _short(value: str | None) -> str | None:
    if value is None:
        return None
    return value if len(value) <= 300 else value[:300] + "…"


async def published(settings: Settings) -> SiteSettings:
    """After a change: this process's caches reload at their next read, and moderation's crisis
    panel follows at once."""
    global _generation
    _generation += 1
    site = await load()
    apply_to_moderation(settings.data_dir, site)
    return site


# Invite codes --------------------------------------------------------------------------------

INVITE_MAX_USES = 1000
INVITE_MAX_DAYS = 365


def _now() -> datetime:
    return datetime.now(UTC)


async def create_invite(
    viewer: Viewer, *, max_uses: Any = 1, days: Any = 30, note: Any = ""
) -> dict[str, Any]:
    """A new invite code (admins), usable `max_uses` times for `days` days. Audited, without
    the code itself, so the log never hands out a way in."""
    ensure_admin(viewer)
    form = Form()
    uses = _bounded_int(form, "max_uses", max_uses, 1, INVITE_MAX_USES, "How many people")
    valid_days = _bounded_int(form, "days", days, 1, INVITE_MAX_DAYS, "Valid for (days)")
    note_value = form.text("note", note, label="Note", max_length=200, required=False)
    form.check()
    code = secrets.token_urlsafe(12)
    now = _now()
    async with db.transaction():
        rows = await InviteCode.insert(
            InviteCode(
                code=code,
                note=note_value,
                max_uses=uses,
                uses=0,
                expires_at=now + timedelta(days=valid_days),
                revoked=False,
                created_by=viewer.id,
                created_at=now,
            )
        ).returning(*InviteCode.all_columns())
        await audit.record(
            viewer,
            "create_invite",
            kind="invite_code",
            object_id=rows[0]["id"],
            note=note_value,
            after={"max_uses": uses, "days": valid_days, "code_starts": code[:4]},
        )
    return rows[0]


def _bounded_int(form: Form, field: str, raw: Any, low: int, high: int, label: str) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        form.fail(field, f"{label}: give a whole number from {low} to {high}.")
        return low
    if not low <= value <= high:
        form.fail(field, f"{label}: give a whole number from {low} to {high}.")
    return value


async def revoke_invite(viewer: Viewer, invite_id: Any) -> None:
    """Stop an invite code working (admins). Audited."""
    ensure_admin(viewer)
    if not isinstance(invite_id, int) or not 0 < invite_id < 2**31:
        raise NotFound("We couldn't find that invite code.")
    row = await InviteCode.select().where(InviteCode.id == invite_id).first()
    if row is None:
        raise NotFound("We couldn't find that invite code.")
    async with db.transaction():
        await InviteCode.update({InviteCode.revoked: True}).where(InviteCode.id == invite_id)
        await audit.record(
            viewer,
            "revoke_invite",
            kind="invite_code",
            object_id=invite_id,
            before={"revoked": bool(row["revoked"])},
            after={"revoked": True},
        )


async def list_invites(viewer: Viewer, page: int = 1, per_page: int = 50) -> Page[dict[str, Any]]:
    """Invite codes, newest first, with whether each still works (admins)."""
    ensure_admin(viewer)
    total = await InviteCode.count()
    rows = await (
        InviteCode.select()
        .order_by(InviteCode.id, ascending=False)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    now = _now()
    for row in rows:
        expires = row["expires_at"]
        row["usable"] = (
            not row["revoked"]
            and row["uses"] < row["max_uses"]
            and (expires is None or expires > now)
        )
    return Page(rows, page, per_page, total)


async def use_invite(code: Any) -> None:
    """Spend one use of an invite code (inside the registration's transaction), or refuse."""
    problem = {"invite_code": "That invite code doesn't work. Check it, or ask for a new one."}
    if not isinstance(code, str) or not code.strip() or len(code) > 40:
        raise Invalid(
            {"invite_code": "Registration is by invitation: enter the invite code you were given."},
            "Registration is by invitation: enter the invite code you were given.",
        )
    rows = await db.raw(
        'UPDATE "invite_code" SET "uses" = "uses" + 1 WHERE "code" = {} AND "revoked" = {} '
        'AND "uses" < "max_uses" AND ("expires_at" IS NULL OR "expires_at" > {}) RETURNING "id"',
        code.strip(),
        False,
        _now(),
    )
    if not rows:
        raise Invalid(problem, problem["invite_code"])


async def check_registration(invite_code: Any) -> None:
    """Whether a person may register themself now: raises when registration is closed, or
    invite-only without a working code (whose use it then spends)."""
    mode = await registration_mode()
    if mode == CLOSED:
        raise Forbidden(
            "Registration is closed on this site at the moment. If you were told you could "
            "join, ask the people who run it."
        )
    if mode == INVITE_ONLY:
        await use_invite(invite_code)
