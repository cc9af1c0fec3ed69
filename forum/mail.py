"""E-mail: members' preferences, the outbox, the daily digest and the sender.

Notifications put rows in the outbox (table mail_outbox) in their own transaction; the daily
digest adds one row per member and day. Every row has a unique key ("n:<notification>",
"digest:<user>:<day>"), so nothing is enqueued twice however many processes run.

The sender claims a row with one conditional UPDATE (pending -> sending), so two workers never
send the same mail, renders it (checking again that the reader may see what it is about),
delivers it and marks it sent. A failure puts the row back with a growing delay, up to
MAX_ATTEMPTS. Delivery goes through SMTP when KINDRED_SMTP_HOST is set, and otherwise into
.eml files in <data dir>/mail/, named by the row, so a retried row overwrites its own file.

Just before delivery the row becomes "delivering". A process that dies leaves its rows behind:
"sending" ones never reached delivery and go back to the queue; "delivering" ones may have left
(kill -9 between the SMTP server's "250 queued" and marking the row sent), so they become
"interrupted" and are never sent again. Either happens after STALE_CLAIM, or at the next round
of any sender on the same machine, which can tell that the process is gone (forum.liveness).
A crash never makes a mail go twice; in the few milliseconds of one SMTP exchange it may make
one go not at all (docs/reliability.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import smtplib
import ssl
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, available_timezones

from forum import accounts, db, liveness, notifications
from forum.auth import Signer
from forum.errors import NotFound
from forum.permissions import Viewer, ensure_signed_in
from forum.settings import Settings
from forum.tables import EMAIL_MODES, User
from forum.validation import Form

log = logging.getLogger("kindred.mail")

MAX_ATTEMPTS = 8
STALE_CLAIM = timedelta(minutes=15)
POLL_SECONDS = 5.0
DIGEST_CHECK_SECONDS = 60.0
DIGEST_HOUR = 7  # a member's digest comes from 7 in the morning of their time zone
BATCH = 20
UNSUBSCRIBE = "unsubscribe"


def backoff(attempts: int) -> timedelta:
    """How long to wait after the n-th failed attempt: 1, 2, 4 … minutes, at most 6 hours."""
    return timedelta(minutes=min(2 ** max(0, attempts - 1), 360))


# Preferences ---------------------------------------------------------------------------------


async def email_settings(viewer: Viewer) -> dict[str, Any]:
    """The viewer's e-mail address and how they want mail."""
    ensure_signed_in(viewer)
    rows = await db.raw(
        'SELECT u."email", s."mode", s."time_zone" FROM "kindred_user" u '
        'LEFT JOIN "email_setting" s ON s."user" = u."id" WHERE u."id" = {}',
        viewer.id,
    )
    row = rows[0] if rows else {"email": None, "mode": None, "time_zone": None}
    return {
        "email": row["email"] or "",
        "mode": row["mode"] or notifications.DEFAULT_EMAIL_MODE,
        "time_zone": row["time_zone"] or "UTC",
    }


async def set_mode(user_id: int, mode: str, time_zone: str | None = None) -> None:
    """Store how often a member wants e-mail and, when given, their time zone."""
    now = datetime.now(UTC)
    keep = "" if time_zone is None else ', "time_zone" = EXCLUDED."time_zone"'
    await db.raw(
        'INSERT INTO "email_setting" ("user", "mode", "time_zone", "updated_at") '
        'VALUES ({}, {}, {}, {}) ON CONFLICT ("user") DO UPDATE SET "mode" = EXCLUDED."mode", '
        f'"updated_at" = EXCLUDED."updated_at"{keep}',
        user_id,
        mode,
        time_zone or "UTC",
        now,
    )


async def update_email_settings(
    viewer: Viewer, *, mode: Any, email: Any = None, time_zone: Any = None
) -> dict[str, Any]:
    """Choose none, immediate or daily, and (optionally) the address mail goes to and the time
    zone whose mornings the digest comes in. Suspended people too: stopping e-mail must always
    work."""
    ensure_signed_in(viewer)
    assert viewer.id is not None
    form = Form()
    mode_value = form.choice("mode", mode, EMAIL_MODES, label="E-mail")
    zone = None
    if time_zone is not None:
        if isinstance(time_zone, str) and time_zone in time_zones():
            zone = time_zone
        else:
            form.fail(
                "time_zone",
                "Choose a time zone from the list, such as Europe/London or America/Chicago.",
            )
    address = None
    if email is not None:
        address = accounts._check_email(form, email)
        if mode_value != "none" and not address:
            form.fail("email", "Give an e-mail address to get e-mail, or choose “No e-mail”.")
    form.check()
    async with db.transaction():
        if email is not None:
            await User.update({User.email: address}).where(User.id == viewer.id)
        await set_mode(viewer.id, mode_value, zone)
    return await email_settings(viewer)


def unsubscribe_token(signer: Signer, user_id: int) -> str:
    return signer.sign({"u": user_id}, UNSUBSCRIBE)


async def unsubscribe(signer: Signer, token: str) -> dict[str, Any]:
    """Stop all e-mail for the person a signed link names; NotFound for a forged link."""
    value = signer.unsign(token, UNSUBSCRIBE)
    user_id = value.get("u") if isinstance(value, dict) else None
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        raise NotFound("That unsubscribe link isn't valid.")
    user = await User.select(User.id, User.display_name).where(User.id == user_id).first()
    if user is None:
        raise NotFound("That unsubscribe link isn't valid.")
    await set_mode(user_id, "none")
    return user


# The outbox -----------------------------------------------------------------------------------


def digest_period(now: datetime, zone: str = "UTC") -> tuple[datetime, datetime]:
    """The day in `zone` that the latest digest due at `now` covers, as UTC times: yesterday
    from DIGEST_HOUR in the morning, the day before until then (already sent by then)."""
    local = now.astimezone(ZoneInfo(zone))
    day = local.date() - timedelta(days=1 if local.hour >= DIGEST_HOUR else 2)
    start = datetime.combine(day, time(), ZoneInfo(zone))
    end = datetime.combine(day + timedelta(days=1), time(), ZoneInfo(zone))
    return start.astimezone(UTC), end.astimezone(UTC)


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """The IANA time zones members may choose, UTC first."""
    return ("UTC", *sorted(zone for zone in available_timezones() if zone != "UTC"))


async def enqueue_digests(now: datetime | None = None) -> int:
    """One digest row per member on the daily digest with unread notifications from their
    previous day, from DIGEST_HOUR in their time zone. Safe to call as often as you like: the
    key makes it once per member and day."""
    now = now or datetime.now(UTC)
    daily = 'COALESCE(s."mode", {}) = {}'
    zones = await db.raw(
        'SELECT DISTINCT COALESCE(s."time_zone", {}) AS "zone" FROM "kindred_user" u '
        f'LEFT JOIN "email_setting" s ON s."user" = u."id" WHERE {daily}',
        "UTC",
        notifications.DEFAULT_EMAIL_MODE,
        "daily",
    )
    # A zone this machine no longer knows (tzdata dropped it) is read as UTC: a late digest
    # rather than none at all.
    stored: dict[str, list[str]] = {}
    for row in zones:
        stored.setdefault(row["zone"] if row["zone"] in time_zones() else "UTC", []).append(
            row["zone"]
        )
    queued = 0
    for zone, names in sorted(stored.items()):
        start, end = digest_period(now, zone)
        day = start.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d")
        rows = await db.raw(
            'INSERT INTO "mail_outbox" ("key", "user", "kind", "period_start", "period_end", '
            '"status", "attempts", "next_attempt_at", "last_error", "created_at") '
            "SELECT 'digest:' || CAST(u.\"id\" AS VARCHAR(20)) || {}, u.\"id\", 'digest', {}, "
            "{}, 'pending', 0, {}, '', {} "
            'FROM "kindred_user" u LEFT JOIN "email_setting" s ON s."user" = u."id" '
            f'WHERE {daily} AND COALESCE(s."time_zone", {{}}) IN ({", ".join("{}" for _ in names)}) '
            'AND u."email" IS NOT NULL AND u."email" <> {} '
            'AND u."status" NOT IN ({}, {}) AND EXISTS (SELECT 1 FROM "notification" n '
            'WHERE n."user" = u."id" AND n."read_at" IS NULL AND n."created_at" >= {} '
            'AND n."created_at" < {}) '
            'ON CONFLICT ("key") DO NOTHING RETURNING "id"',
            f":{day}",
            start,
            end,
            now,
            now,
            notifications.DEFAULT_EMAIL_MODE,
            "daily",
            "UTC",
            *names,
            "",
            "deleted",
            "banned",
            start,
            end,
        )
        queued += len(rows)
    return queued


async def _claim(row_id: int, worker: str, now: datetime) -> dict[str, Any] | None:
    """Take a pending row for this worker, or None if another took it first."""
    rows = await db.raw(
        'UPDATE "mail_outbox" SET "status" = {}, "claimed_by" = {}, "claimed_at" = {}, '
        '"attempts" = "attempts" + 1 WHERE "id" = {} AND "status" = {} RETURNING *',
        "sending",
        worker,
        now,
        row_id,
        "pending",
    )
    return rows[0] if rows else None


async def _finish(
    row_id: int, worker: str, status: str, error: str = "", retry_at: datetime | None = None
) -> bool:
    """Move a row this worker claimed on; False when the claim is no longer its own (it was
    released as stale and maybe taken by another worker)."""
    rows = await db.raw(
        'UPDATE "mail_outbox" SET "status" = {}, "last_error" = {}, "sent_at" = {}, '
        '"next_attempt_at" = COALESCE({}, "next_attempt_at") WHERE "id" = {} AND "claimed_by" = {} '
        'RETURNING "id"',
        status,
        error[:2000],
        datetime.now(UTC) if status == "sent" else None,
        retry_at,
        row_id,
        worker,
    )
    return bool(rows)


async def release_stale(now: datetime) -> int:
    """Rows a dead process left "sending" go back to the queue; those it left "delivering" may
    have been delivered, and are set aside rather than sent twice. Returns the rows re-queued.

    A process is taken for dead once its claim is STALE_CLAIM old, or at once when it ran on
    this machine and no longer does (forum.liveness): after a crash and restart, its mail goes
    out at the next round instead of a quarter of an hour later."""
    holders = await db.raw(
        'SELECT DISTINCT "claimed_by" FROM "mail_outbox" '
        'WHERE "status" IN ({}, {}) AND "claimed_at" >= {}',
        "sending",
        "delivering",
        now - STALE_CLAIM,
    )
    gone = [row["claimed_by"] for row in holders if liveness.is_gone(row["claimed_by"] or "")]
    dead = '("claimed_at" < {}' + "".join(' OR "claimed_by" = {}' for _ in gone) + ")"
    await db.raw(
        f'UPDATE "mail_outbox" SET "status" = {{}}, "last_error" = {{}} WHERE "status" = {{}} AND {dead}',
        "interrupted",
        "The sender stopped during delivery; not sent again, so that it never arrives twice.",
        "delivering",
        now - STALE_CLAIM,
        *gone,
    )
    rows = await db.raw(
        f'UPDATE "mail_outbox" SET "status" = {{}} WHERE "status" = {{}} AND {dead} RETURNING "id"',
        "pending",
        "sending",
        now - STALE_CLAIM,
        *gone,
    )
    return len(rows)


async def pending_count() -> int:
    rows = await db.raw(
        'SELECT COUNT(*) AS n FROM "mail_outbox" WHERE "status" IN ({}, {}, {})',
        "pending",
        "sending",
        "delivering",
    )
    return int(rows[0]["n"])


# Writing the mails --------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    id: int
    email: str
    display_name: str
    mode: str
    viewer: Viewer


async def _recipient(user_id: int) -> Recipient | None:
    rows = await db.raw(
        'SELECT u."email", u."display_name", u."session_epoch", u."status", s."mode" '
        'FROM "kindred_user" u LEFT JOIN "email_setting" s ON s."user" = u."id" WHERE u."id" = {}',
        user_id,
    )
    if not rows or not rows[0]["email"] or rows[0]["status"] in ("deleted", "banned"):
        return None
    viewer = await accounts.load_viewer(user_id, rows[0]["session_epoch"])
    if viewer is None:
        return None
    return Recipient(
        user_id,
        rows[0]["email"],
        rows[0]["display_name"],
        rows[0]["mode"] or notifications.DEFAULT_EMAIL_MODE,
        viewer,
    )


async def _visible_notifications(
    recipient: Recipient, extra: str, *args: Any
) -> list[dict[str, Any]]:
    viewer = recipient.viewer
    where, where_args = notifications.visible_clause(
        recipient.id, sorted(viewer.member_of | viewer.moderates), viewer.is_admin
    )
    return await db.raw(
        f"SELECT {notifications._LIST_COLUMNS} {notifications._LIST_JOINS} "
        f'WHERE {where} AND {extra} ORDER BY n."created_at", n."id"',
        *where_args,
        *args,
    )


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str


async def compose(row: dict[str, Any], recipient: Recipient, base: str) -> Mail | None:
    """The mail for an outbox row, or None when there is nothing (left) to say; links are
    absolute, on `base` (KINDRED_BASE_URL)."""
    if row["kind"] == "notification":
        found = await _visible_notifications(recipient, 'n."id" = {}', row["notification"])
        if not found:
            return None
        text, path = notifications.describe(found[0])
        lines = [text + ".", ""]
        if found[0]["kind"] == "moderation":
            lines = ["A message from the moderators:", "", text, ""]
        return Mail(subject=_one_line(text), text="\n".join([*lines, base + path]))
    found = await _visible_notifications(
        recipient,
        'n."read_at" IS NULL AND n."created_at" >= {} AND n."created_at" < {} AND NOT EXISTS '
        '(SELECT 1 FROM "mail_outbox" m WHERE m."notification" = n."id")',
        row["period_start"],
        row["period_end"],
    )
    if not found:
        return None
    lines = [f"Here is what happened on Kindred yesterday ({len(found)} new):", ""]
    for item in found[:50]:
        text, path = notifications.describe(item)
        lines += [f"- {text}", f"  {base}{path}"]
    if len(found) > 50:
        lines.append(f"…and {len(found) - 50} more.")
    lines += ["", f"All your notifications: {base}/notifications"]
    noun = "notification" if len(found) == 1 else "notifications"
    return Mail(subject=f"Your Kindred digest: {len(found)} new {noun}", text="\n".join(lines))


def _one_line(text: str, limit: int = 150) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_message(
    settings: Settings, signer: Signer, row: dict[str, Any], recipient: Recipient, mail: Mail
) -> EmailMessage:
    """The e-mail itself, with a one-click unsubscribe link (RFC 8058) and a stable Message-ID
    so a retried row is recognisably the same mail."""
    base = settings.base_url.rstrip("/")
    unsubscribe_url = f"{base}/unsubscribe/{unsubscribe_token(signer, recipient.id)}"
    host = urlparse(base).hostname or "localhost"
    digest = hashlib.sha256(f"{row['id']}:{row['key']}".encode()).hexdigest()[:24]
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = recipient.email
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<kindred.{digest}@{host}>"
    message["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["Auto-Submitted"] = "auto-generated"
    footer = (
        "\n\n-- \nYou get these e-mails because of your Kindred settings. "
        f"Change how often: {base}/settings#email\n"
        f"Stop all e-mail from Kindred with one click: {unsubscribe_url}\n"
    )
    body = f"Hello {recipient.display_name},\n\n{mail.text}{footer}"
    message.set_content(body)
    return message


# Delivering them -----------------------------------------------------------------------------


class Transport(Protocol):
    async def deliver(self, message: EmailMessage, name: str) -> None: ...


class FileTransport:
    """Writes each mail as an .eml file: for laptops and tests. Atomic, and a retried row
    overwrites its own file rather than adding a second one."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def deliver(self, message: EmailMessage, name: str) -> None:
        await asyncio.to_thread(self._write, bytes(message), name)

    def _write(self, data: bytes, name: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self.folder / f"{name}.eml"
        temporary = self.folder / f".{name}.{uuid.uuid4().hex}.tmp"
        temporary.write_bytes(data)
        os.replace(temporary, target)


class SMTPTransport:
    """Sends through the configured SMTP server, in a thread (smtplib blocks)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def deliver(self, message: EmailMessage, name: str) -> None:
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        settings = self.settings
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)


def transport_for(settings: Settings) -> Transport:
    return SMTPTransport(settings) if settings.smtp_host else FileTransport(settings.mail_dir)


async def send_due(
    settings: Settings,
    signer: Signer,
    *,
    transport: Transport | None = None,
    worker: str | None = None,
    now: datetime | None = None,
    limit: int = BATCH,
) -> int:
    """Send up to `limit` mails that are due; how many were sent."""
    transport = transport or transport_for(settings)
    worker = worker or liveness.worker_name()
    now = now or datetime.now(UTC)
    await release_stale(now)
    due = await db.raw(
        'SELECT "id" FROM "mail_outbox" WHERE "status" = {} AND "next_attempt_at" <= {} '
        'ORDER BY "id" LIMIT {}',
        "pending",
        now,
        limit,
    )
    sent = 0
    for candidate in due:
        row = await _claim(candidate["id"], worker, now)
        if row is None:
            continue  # another worker has it
        try:
            recipient = await _recipient(row["user"])
            mail = None
            if recipient is not None and recipient.mode != "none":
                mail = await compose(row, recipient, settings.base_url.rstrip("/"))
            if recipient is None or mail is None:
                await _finish(row["id"], worker, "skipped")
                continue
            message = build_message(settings, signer, row, recipient, mail)
            if not await _finish(row["id"], worker, "delivering"):
                continue  # held so long its claim was released: another worker sends it
            # From here on it may have left.
            await transport.deliver(message, f"{row['id']:08d}-{row['kind']}")
        except Exception as error:
            attempts = int(row["attempts"])
            if attempts >= MAX_ATTEMPTS:
                log.error(
                    "mail %s failed for good after %d attempts: %s", row["id"], attempts, error
                )
                await _finish(row["id"], worker, "failed", repr(error))
            else:
                log.warning(
                    "mail %s failed (attempt %d), will retry: %s", row["id"], attempts, error
                )
                await _finish(row["id"], worker, "pending", repr(error), now + backoff(attempts))
            continue
        await _finish(row["id"], worker, "sent")
        sent += 1
    return sent


class Mailer:
    """The background task of one app process: sends due mail (woken at once when this
    process queued some) and queues the daily digests. Several processes may run it."""

    def __init__(
        self, settings: Settings, signer: Signer, *, poll_seconds: float = POLL_SECONDS
    ) -> None:
        self.settings = settings
        self.signer = signer
        self.poll_seconds = poll_seconds
        self.transport = transport_for(settings)
        self._event = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._unlisten = notifications.listen(self._event.set)
        self._last_digest_check = 0.0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="kindred-mailer")

    async def run_once(self, now: datetime | None = None) -> int:
        """Queue any digests due and send what is due (tests and the CLI call this)."""
        await enqueue_digests(now)
        return await send_due(self.settings, self.signer, transport=self.transport, now=now)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            try:
                if loop.time() - self._last_digest_check >= DIGEST_CHECK_SECONDS:
                    self._last_digest_check = loop.time()
                    await enqueue_digests()
                sent = await send_due(self.settings, self.signer, transport=self.transport)
            except Exception:
                log.exception("mailer: a round failed; will retry")
                sent = 0
            if sent:
                # Maybe a backlog (a burst, a restart), shared with other workers' mailers:
                # look again at once rather than after a pause.
                continue
            try:
                await asyncio.wait_for(self._event.wait(), timeout=self.poll_seconds)
                # Woken by a notification that may not have committed yet: give it a moment.
                await asyncio.sleep(0.2)
            except TimeoutError:
                pass
            self._event.clear()

    async def stop(self) -> None:
        self._stopping = True
        self._unlisten()
        self._event.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=15.0)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
