"""Verified clinicians: applying, deciding through moderation's queue, expiry and revocation.

A member applies with their profession, specialty and licence; the application becomes a
site-wide item in the review queue (kind "clinician_application"). Any moderator, of any
community, or an admin approves or rejects it with a note; the decision is in the audit log
and the applicant gets a notice. An approval verifies them until it expires (a year unless the
decider says otherwise) or is revoked. Posts keep the credential their author had when posting
(`Post.author_credential`, set by forum.threads from `credential_for_post`), so a later expiry
or revocation never rewrites what readers were shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from forum import db
from forum.errors import Conflict, Forbidden, NotFound
from forum.permissions import Viewer, ensure_active
from forum.tables import ClinicianApplication, User
from forum.validation import Form
from moderation import audit, items, notices
from moderation.tables import OPEN, RESOLVED, ModerationItem

KIND = "clinician_application"
PENDING, APPROVED, REJECTED, REVOKED = "pending", "approved", "rejected", "revoked"
ACTIONS = ("approve", "reject")
VALID_DAYS = 365
MAX_VALID_DAYS = 3 * 365
NOTE_MAX = 2000
OTHER_SPECIALTIES_MAX = 5


@dataclass(frozen=True)
class Specialty:
    key: str
    name: str  # on the badge: "Cardiology"
    plain: str  # for the person asking: "Heart and circulation (cardiology)"


SPECIALTIES = (
    Specialty("cardiology", "Cardiology", "Heart and circulation (cardiology)"),
    Specialty("endocrinology", "Endocrinology", "Diabetes and hormones (endocrinology)"),
    Specialty("gastroenterology", "Gastroenterology", "Gut and digestion (gastroenterology)"),
    Specialty("nutrition", "Nutrition and dietetics", "Food and diet (dietetics)"),
    Specialty("respiratory", "Respiratory medicine", "Lungs and breathing (respiratory)"),
    Specialty("neurology", "Neurology", "Brain and nerves (neurology)"),
    Specialty("rheumatology", "Rheumatology", "Joints and immune system (rheumatology)"),
    Specialty("infectious_disease", "Infectious disease", "Infections (infectious disease)"),
    Specialty("oncology", "Oncology", "Cancer (oncology)"),
    Specialty("nephrology", "Nephrology", "Kidneys (nephrology)"),
    Specialty("dermatology", "Dermatology", "Skin (dermatology)"),
    Specialty("mental_health", "Mental health", "Mental health"),
    Specialty("paediatrics", "Paediatrics", "Children's health (paediatrics)"),
    Specialty("womens_health", "Women's health", "Women's health and pregnancy"),
    Specialty("rehabilitation", "Rehabilitation", "Rehabilitation and physiotherapy"),
    Specialty("pharmacy", "Pharmacy", "Medicines (pharmacy)"),
    Specialty("palliative_care", "Palliative care", "Palliative and end-of-life care"),
    Specialty("general_practice", "General practice", "General health (general practice)"),
)
SPECIALTY_KEYS = tuple(specialty.key for specialty in SPECIALTIES)
SPECIALTY_NAMES = {specialty.key: specialty.name for specialty in SPECIALTIES}
_URL_RE = re.compile(r"^https://[^\s/$.?#][^\s]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Application:
    """What a member tells us about their credentials."""

    profession: Any
    specialty: Any
    license_region: Any
    license_number: Any
    evidence_url: Any = ""
    other_specialties: Any = field(default_factory=tuple)


def _now() -> datetime:
    return datetime.now(UTC)


def _as_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def credential_label(row: dict[str, Any]) -> str:
    """What the badge says: "Heart failure nurse · Cardiology"."""
    specialty = SPECIALTY_NAMES.get(row["specialty"], row["specialty"])
    return f"{row['profession']} · {specialty}"


def specialties_of(row: dict[str, Any]) -> list[str]:
    """The main specialty first, then the others the clinician declared."""
    others = [s for s in (row.get("other_specialties") or "").strip(",").split(",") if s]
    return list(dict.fromkeys([row["specialty"], *others]))


def is_current(row: dict[str, Any] | None, now: datetime | None = None) -> bool:
    """An approved verification that has not expired and was not revoked."""
    if row is None or row["status"] != APPROVED or row["revoked_at"] is not None:
        return False
    expires = _as_datetime(row["expires_at"])
    return expires is None or expires > (now or _now())


def ensure_can_verify(viewer: Viewer) -> None:
    """Admins, and moderators of any community, decide applications and revoke verification."""
    ensure_active(viewer)
    if not (viewer.is_admin or viewer.moderates):
        raise Forbidden("Only moderators and administrators verify clinicians.")


def _check(application: Application) -> dict[str, Any]:
    form = Form()
    profession = form.text(
        "profession", application.profession, label="Profession", max_length=80, min_length=2
    )
    specialty = form.choice("specialty", application.specialty, SPECIALTY_KEYS, label="Specialty")
    others_raw = application.other_specialties or ()
    if isinstance(others_raw, str):
        others_raw = [part.strip() for part in others_raw.split(",") if part.strip()]
    others: list[str] = []
    if not isinstance(others_raw, list | tuple):
        form.fail("other_specialties", "Other specialties must be a list.")
    else:
        for value in others_raw:
            if value not in SPECIALTY_KEYS:
                form.fail(
                    "other_specialties",
                    f"Other specialties must be among: {', '.join(SPECIALTY_KEYS)}.",
                )
            elif value != specialty and value not in others:
                others.append(value)
        if len(others) > OTHER_SPECIALTIES_MAX:
            form.fail(
                "other_specialties", f"Choose at most {OTHER_SPECIALTIES_MAX} other specialties."
            )
    region = form.text(
        "license_region",
        application.license_region,
        label="Where you are licensed",
        max_length=80,
        min_length=2,
    )
    number = form.text(
        "license_number",
        application.license_number,
        label="Licence or registration number",
        max_length=64,
        min_length=3,
    )
    evidence = form.text(
        "evidence_url",
        application.evidence_url,
        label="Link to evidence",
        max_length=500,
        required=False,
    )
    if evidence and not _URL_RE.match(evidence):
        form.fail(
            "evidence_url",
            "Give a link starting with https://, for example to your entry in a public register.",
        )
    form.check()
    return {
        "profession": profession,
        "specialty": specialty,
        "other_specialties": "," + ",".join(others) + "," if others else "",
        "license_region": region,
        "license_number": number,
        "evidence_url": evidence or None,
    }


async def apply(viewer: Viewer, application: Application) -> dict[str, Any]:
    """A member applies to be verified; the application joins every moderator's queue."""
    ensure_active(viewer)
    values = _check(application)
    if await ClinicianApplication.exists().where(
        (ClinicianApplication.user == viewer.id) & (ClinicianApplication.status == PENDING)
    ):
        raise Conflict(
            "You already have an application waiting for a moderator; you'll get a message "
            "when it is decided."
        )
    now = _now()
    async with db.transaction():
        rows = await ClinicianApplication.insert(
            ClinicianApplication(user=viewer.id, status=PENDING, created_at=now, **values)
        ).returning(*ClinicianApplication.all_columns())
        row = rows[0]
        await items.open_item(
            kind=KIND,
            object_id=row["id"],
            post_id=None,
            thread_id=None,
            community_id=None,
            author_id=viewer.id,
            source="application",
            reasons=["clinician"],
            severity=items.REASON_SEVERITY["clinician"],
            label=f"{credential_label(row)} · licensed in {row['license_region']}",
        )
    return row


async def latest_application(user_id: int) -> dict[str, Any] | None:
    """The person's most recent application, whatever its state."""
    return (
        await ClinicianApplication.select()
        .where(ClinicianApplication.user == user_id)
        .order_by(ClinicianApplication.id, ascending=False)
        .first()
    )


async def current_verification(user_id: int | None) -> dict[str, Any] | None:
    """The approved application that verifies this person now, or None."""
    if user_id is None:
        return None
    rows = await (
        ClinicianApplication.select()
        .where((ClinicianApplication.user == user_id) & (ClinicianApplication.status == APPROVED))
        .order_by(ClinicianApplication.decided_at, ascending=False)
        .limit(1)
    )
    row = rows[0] if rows else None
    return row if is_current(row) else None


async def credential_for_post(viewer: Viewer) -> str | None:
    """The credential a post by this person records now ("Nurse · Cardiology"), or None.

    When their verification has lapsed, their role goes back to member here: expiry needs no
    scheduler, and posting is where it matters."""
    if viewer.id is None:
        return None
    rows = await (
        ClinicianApplication.select()
        .where((ClinicianApplication.user == viewer.id) & (ClinicianApplication.status == APPROVED))
        .order_by(ClinicianApplication.decided_at, ascending=False)
        .limit(1)
    )
    if not rows:
        return None
    if is_current(rows[0]):
        return credential_label(rows[0])
    if viewer.role == "clinician":
        await User.update({User.role: "member"}).where(
            (User.id == viewer.id) & (User.role == "clinician")
        )
    return None


async def get_application(viewer: Viewer, application_id: Any) -> dict[str, Any]:
    """One application with its applicant, for moderators and admins (and its own author)."""
    if not isinstance(application_id, int) or not 0 < application_id < 2**31:
        raise NotFound("We couldn't find that application.")
    rows = await db.raw(
        'SELECT a.*, u."username", u."display_name", u."role", u."created_at" AS "member_since", '
        'd."username" AS "decided_by_username", r."username" AS "revoked_by_username" '
        'FROM "clinician_application" a JOIN "kindred_user" u ON u."id" = a."user" '
        'LEFT JOIN "kindred_user" d ON d."id" = a."decided_by" '
        'LEFT JOIN "kindred_user" r ON r."id" = a."revoked_by" WHERE a."id" = {}',
        application_id,
    )
    if not rows:
        raise NotFound("We couldn't find that application.")
    row = rows[0]
    if row["user"] != viewer.id and not (viewer.is_admin or viewer.moderates):
        raise NotFound("We couldn't find that application.")
    item = (
        await ModerationItem.select(ModerationItem.id)
        .where((ModerationItem.kind == KIND) & (ModerationItem.object_id == row["id"]))
        .order_by(ModerationItem.id)
    )
    return {
        **row,
        "credential": credential_label(row),
        "specialties": specialties_of(row),
        "current": is_current(row),
        "item_id": item[-1]["id"] if item else None,
        "may_decide": row["status"] == PENDING
        and row["user"] != viewer.id
        and (viewer.is_admin or bool(viewer.moderates)),
    }


def _check_decision(action: Any, note: Any, valid_days: Any) -> tuple[str, str, int]:
    form = Form()
    action_value = form.choice("action", action, ACTIONS, label="Decision")
    note_value = form.text(
        "note",
        note,
        label="A note for the applicant",
        max_length=NOTE_MAX,
        required=action_value == "reject",
        multiline=True,
    )
    days = VALID_DAYS
    if valid_days not in (None, ""):
        try:
            days = int(valid_days)
        except (TypeError, ValueError):
            form.fail("valid_days", f"Give the number of days, from 1 to {MAX_VALID_DAYS}.")
        else:
            if isinstance(valid_days, bool) or not 1 <= days <= MAX_VALID_DAYS:
                form.fail("valid_days", f"Give the number of days, from 1 to {MAX_VALID_DAYS}.")
    form.check()
    return action_value, note_value, days


async def decide(
    viewer: Viewer, application_id: Any, action: Any, note: Any = "", *, valid_days: Any = None
) -> dict[str, Any]:
    """Approve or reject an application with a note: the application, the applicant's role,
    the queue item, the audit log and the applicant's notice change in one transaction."""
    ensure_can_verify(viewer)
    application = await get_application(viewer, application_id)
    action_value, note_value, days = _check_decision(action, note, valid_days)
    if application["user"] == viewer.id:
        raise Forbidden("This is your own application: another moderator has to decide it.")
    if application["status"] != PENDING:
        raise Conflict(f"This application was already decided ({application['status']}).")
    now = _now()
    approved = action_value == "approve"
    status = APPROVED if approved else REJECTED
    expires = now + timedelta(days=days) if approved else None
    async with db.transaction():
        changed = (
            await ClinicianApplication.update(
                {
                    ClinicianApplication.status: status,
                    ClinicianApplication.decided_by: viewer.id,
                    ClinicianApplication.decided_at: now,
                    ClinicianApplication.decision_note: note_value,
                    ClinicianApplication.expires_at: expires,
                }
            )
            .where(
                (ClinicianApplication.id == application["id"])
                & (ClinicianApplication.status == PENDING)
            )
            .returning(ClinicianApplication.id)
        )
        if not changed:
            raise Conflict("Another moderator decided this application a moment ago.")
        if approved and application["role"] == "member":
            await User.update({User.role: "clinician"}).where(User.id == application["user"])
        item_id = await _resolve_item(application["id"], action_value, note_value, viewer, now)
        await audit.record(
            viewer,
            action_value,
            kind=KIND,
            object_id=application["id"],
            item_id=item_id,
            target_user_id=application["user"],
            target_name=application["username"],
            note=note_value,
            before={"status": PENDING},
            after={"status": status, "expires_at": expires},
        )
        message = (
            f"You're a verified clinician on Kindred ({application['credential']}) until "
            f"{expires.strftime('%d %B %Y')}. Your answers now carry a badge."
            if expires
            else "Your application to be a verified clinician was not approved."
        )
        if note_value:
            message += f" The moderator's note: “{note_value}”"
        await notices.notify(application["user"], "clinician", message, item_id=item_id)
    return {
        "id": application["id"],
        "status": status,
        "expires_at": expires,
        "credential": application["credential"],
        "item_id": item_id,
    }


async def _resolve_item(
    application_id: int, action: str, note: str, viewer: Viewer, now: datetime
) -> int | None:
    item = await items.find_open(KIND, application_id)
    if item is None:
        return None
    await ModerationItem.update(
        {
            ModerationItem.state: RESOLVED,
            ModerationItem.resolution: action,
            ModerationItem.resolution_note: note,
            ModerationItem.resolved_by: viewer.id,
            ModerationItem.resolved_at: now,
            ModerationItem.updated_at: now,
        }
    ).where((ModerationItem.id == item["id"]) & (ModerationItem.state == OPEN))
    return item["id"]


async def revoke(viewer: Viewer, username: Any, note: Any) -> dict[str, Any]:
    """End a clinician's verification now, with a note; audited, and they are told.

    Their earlier answers keep the badge they were posted with."""
    ensure_can_verify(viewer)
    form = Form()
    note_value = form.text(
        "note", note, label="Why the verification ends", max_length=NOTE_MAX, multiline=True
    )
    form.check()
    user = (
        await User.select(User.id, User.username, User.role)
        .where(User.username == str(username).lower()[:64])
        .first()
    )
    if user is None:
        raise NotFound("We couldn't find that person.")
    if user["id"] == viewer.id:
        raise Forbidden("You can't revoke your own verification; ask another moderator.")
    current = await current_verification(user["id"])
    if current is None:
        raise Conflict(f"{user['username']} isn't a verified clinician right now.")
    now = _now()
    async with db.transaction():
        await ClinicianApplication.update(
            {
                ClinicianApplication.status: REVOKED,
                ClinicianApplication.revoked_by: viewer.id,
                ClinicianApplication.revoked_at: now,
                ClinicianApplication.revoke_note: note_value,
            }
        ).where(
            (ClinicianApplication.user == user["id"]) & (ClinicianApplication.status == APPROVED)
        )
        if user["role"] == "clinician":
            await User.update({User.role: "member"}).where(User.id == user["id"])
        await audit.record(
            viewer,
            "revoke",
            kind=KIND,
            object_id=current["id"],
            target_user_id=user["id"],
            target_name=user["username"],
            note=note_value,
            before={"status": APPROVED, "expires_at": current["expires_at"]},
            after={"status": REVOKED},
        )
        await notices.notify(
            user["id"],
            "clinician",
            "Your verification as a clinician has ended, so new answers no longer carry the "
            f"badge; earlier ones keep it. The moderator's note: “{note_value}”",
        )
    return {"id": current["id"], "status": REVOKED, "username": user["username"]}


async def verified_clinicians(viewer: Viewer) -> list[dict[str, Any]]:
    """Everyone verified now, for the moderators' list (with revoke buttons)."""
    ensure_can_verify(viewer)
    rows = await db.raw(
        'SELECT a.*, u."username", u."display_name" FROM "clinician_application" a '
        'JOIN "kindred_user" u ON u."id" = a."user" WHERE a."status" = {} '
        'AND a."revoked_at" IS NULL ORDER BY u."display_name", a."decided_at" DESC',
        APPROVED,
    )
    seen: set[int] = set()
    result = []
    for row in rows:
        if row["user"] in seen or not is_current(row):
            continue
        seen.add(row["user"])
        result.append({**row, "credential": credential_label(row)})
    return result
