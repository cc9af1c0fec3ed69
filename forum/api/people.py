"""API routes for people and expertise (API.md, "People and expertise"): experience tags,
clinicians' verification, reactions, accepted answers, the unanswered list, privacy, the data
export and deleting an account."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from forum import answers, clinicians, experience, profiles, reactions
from forum.api.base import (
    PAGING,
    api_viewer,
    iso,
    json_body,
    list_of,
    obj,
    ok,
    operation,
    page_json,
    paging,
    string,
)
from forum.errors import Invalid
from forum.web.session import settings_of

TAG = "people"
NULLABLE_STRING = {"type": ["string", "null"]}
EXPERIENCE = obj(
    {
        "id": {"type": "integer"},
        "community": {"type": "string"},
        "relation": {"type": "string", "enum": list(experience.RELATIONS)},
        "since": {"type": ["integer", "null"]},
        "treatments": {"type": "array", "items": {"type": "string"}},
        "note": {"type": "string"},
        "label": {"type": "string", "description": "Patient · since 2009 · pump user"},
        "standing": {"type": "string", "enum": ["self_declared", "vouched", "confirmed"]},
        "vouch_count": {"type": "integer"},
        "confirmed": {"type": "boolean"},
        "hidden": {"type": "boolean"},
    },
    ["id", "community", "relation", "label", "standing", "vouch_count", "confirmed"],
)
BADGE = obj(
    {
        "id": {"type": "string"},
        "name": {"type": "string"},
        "description": {"type": "string"},
        "awarded_at": {"type": "string", "format": "date-time"},
    },
    ["id", "name", "awarded_at"],
)
CLINICIAN = obj(
    {
        "credential": {"type": "string"},
        "profession": {"type": "string"},
        "specialties": {"type": "array", "items": {"type": "string"}},
        "expires_at": {"type": "string", "format": "date-time"},
    },
    ["credential", "expires_at"],
)
PUBLIC_PROFILE = obj(
    {
        "id": {"type": "integer"},
        "username": {"type": "string"},
        "display_name": {"type": "string"},
        "bio": {**NULLABLE_STRING, "description": "null: not shown to this caller"},
        "bio_html": NULLABLE_STRING,
        "role": {"type": "string"},
        "trust_level": {"type": "integer"},
        "created_at": {"type": "string", "format": "date-time"},
        "experience": {"type": ["array", "null"], "items": EXPERIENCE},
        "badges": {"type": ["array", "null"], "items": BADGE},
        "clinician": {"oneOf": [CLINICIAN, {"type": "null"}]},
        "communities": {"type": ["array", "null"], "items": {"type": "object"}},
        "recent_activity": {"type": ["array", "null"], "items": {"type": "object"}},
    },
    ["id", "username", "display_name", "experience", "badges", "clinician"],
)
REACTIONS = obj(
    {
        "post": {"type": "integer"},
        "counts": obj({kind: {"type": "integer"} for kind in reactions.KINDS}),
        "mine": {"type": "array", "items": {"type": "string", "enum": list(reactions.KINDS)}},
        "who": obj(
            {
                kind: {
                    "type": "array",
                    # null: someone going by a name for this community (forum.aliases)
                    "items": {"type": ["string", "null"]},
                }
                for kind in reactions.KINDS
            }
        ),
    },
    ["counts", "mine", "who"],
)
APPLICATION = obj(
    {
        "id": {"type": "integer"},
        "status": {"type": "string", "enum": ["pending", "approved", "rejected", "revoked"]},
        "profession": {"type": "string"},
        "specialty": {"type": "string"},
        "other_specialties": {"type": "array", "items": {"type": "string"}},
        "license_region": {"type": "string"},
        "license_number": {"type": "string"},
        "evidence_url": NULLABLE_STRING,
        "credential": {"type": "string"},
        "decision_note": {"type": "string"},
        "expires_at": NULLABLE_STRING,
        "created_at": {"type": "string"},
        "applicant": {"type": "string"},
    },
    ["id", "status", "profession", "specialty", "credential"],
)


def experience_json(tag: dict[str, Any]) -> dict[str, Any]:
    data = {
        "id": tag["id"],
        "community": tag.get("community_slug"),
        "relation": tag["relation"],
        "since": tag.get("since_year"),
        "treatments": tag["treatments"],
        "note": tag.get("note", ""),
        "label": tag["label"],
        "standing": tag["standing"],
        "vouch_count": tag.get("vouch_count") or 0,
        "confirmed": tag.get("confirmed_at") is not None,
    }
    if "hidden" in tag:
        data["hidden"] = bool(tag["hidden"])
    return data


def reactions_json(summary: dict[str, Any] | None) -> dict[str, Any] | None:
    if summary is None:
        return None
    return {
        "counts": summary["counts"],
        "mine": summary["mine"],
        "who": {
            kind: [person["username"] for person in people]
            for kind, people in summary["who"].items()
        },
    }


def public_profile_json(profile: dict[str, Any]) -> dict[str, Any]:
    """GET /users/{username}: the public profile, with experience tags and badges, as far as
    the member's privacy choices let this caller see (hidden parts are null)."""
    clinician = profile["clinician"]
    return {
        "id": profile["id"],
        "username": profile["username"],
        "display_name": profile["display_name"],
        "bio": profile["bio"],
        "bio_html": profile["bio_html"],
        "role": profile["role"],
        "trust_level": profile["trust_level"],
        "created_at": iso(profile["created_at"]),
        "experience": None
        if profile["experience"] is None
        else [experience_json(tag) for tag in profile["experience"]],
        "badges": None
        if profile["badges"] is None
        else [{**badge, "awarded_at": iso(badge["awarded_at"])} for badge in profile["badges"]],
        "clinician": {**clinician, "expires_at": iso(clinician["expires_at"])}
        if clinician
        else None,
        "communities": None
        if profile["communities"] is None
        else [
            {"slug": c["slug"], "name": c["name"], "role": c["role"]}
            for c in profile["communities"]
        ],
        "recent_activity": None
        if profile["activity"] is None
        else [
            {
                "post": p["id"],
                "thread": p["thread"],
                "title": p["title"],
                "community": p["community_slug"],
                "created_at": iso(p["created_at"]),
            }
            for p in profile["activity"]
        ],
    }


def application_json(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "status": row["status"],
        "profession": row["profession"],
        "specialty": row["specialty"],
        "other_specialties": clinicians.specialties_of(row)[1:],
        "license_region": row["license_region"],
        "license_number": row["license_number"],
        "evidence_url": row["evidence_url"],
        "credential": clinicians.credential_label(row),
        "decision_note": row["decision_note"],
        "expires_at": iso(row["expires_at"]),
        "created_at": iso(row["created_at"]),
        "applicant": row.get("username"),
    }


# Experience tags ----------------------------------------------------------------------------


@operation(
    "POST",
    "/me/experience",
    "Declare (or change) your lived experience in a community you belong to",
    tag=TAG,
    auth=True,
    status=201,
    body=obj(
        {
            "community": string(48),
            "relation": string(16, enum=list(experience.RELATIONS)),
            "since": {"type": ["integer", "string"], "description": "the year, like 2009"},
            "treatments": {
                "type": "array",
                "items": string(experience.TREATMENT_MAX),
                "maxItems": experience.TREATMENTS_MAX,
            },
            "note": string(experience.NOTE_MAX),
        },
        ["community", "relation"],
    ),
    response=EXPERIENCE,
)
async def declare_experience(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    tag, created = await experience.declare(
        viewer,
        body.get("community"),
        body.get("relation"),
        since=body.get("since"),
        treatments=body.get("treatments"),
        note=body.get("note") or "",
    )
    return ok(experience_json(tag), 201 if created else 200)


@operation(
    "GET",
    "/me/experience",
    "Your experience tags, hidden ones included",
    tag=TAG,
    auth=True,
    response=obj({"items": {"type": "array", "items": EXPERIENCE}}, ["items"]),
)
async def my_experience(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    return ok({"items": [experience_json(tag) for tag in await experience.my_tags(viewer)]})


@operation(
    "PATCH",
    "/me/experience/{id}",
    "Hide one of your experience tags from everyone else, or show it again",
    tag=TAG,
    auth=True,
    body=obj({"hidden": {"type": "boolean"}}, ["hidden"]),
    response=EXPERIENCE,
)
async def hide_experience(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    hidden = body.get("hidden")
    if not isinstance(hidden, bool):
        raise Invalid({"hidden": "Send true to hide the tag or false to show it."})
    tag = await experience.set_hidden(viewer, request.path_params["id"], hidden)
    return ok(experience_json(tag))


@operation(
    "DELETE",
    "/me/experience/{id}",
    "Delete one of your experience tags",
    tag=TAG,
    auth=True,
    response=obj({"deleted": {"type": "boolean"}}),
)
async def delete_experience(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    await experience.remove(viewer, request.path_params["id"])
    return ok({"deleted": True})


VOUCH = obj(
    {"id": {"type": "integer"}, "vouch_count": {"type": "integer"}, "vouched": {"type": "boolean"}}
)


@operation(
    "POST",
    "/experience/{id}/vouch",
    "Vouch for another member's experience in a community you belong to (once)",
    tag=TAG,
    auth=True,
    response=VOUCH,
)
async def vouch(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    return ok(await experience.vouch(viewer, request.path_params["id"]))


@operation(
    "DELETE",
    "/experience/{id}/vouch",
    "Take your vouch back",
    tag=TAG,
    auth=True,
    response=VOUCH,
)
async def unvouch(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    return ok(await experience.unvouch(viewer, request.path_params["id"]))


@operation(
    "POST",
    "/experience/{id}/confirm",
    "Confirm a member's experience (the community's moderators; audited)",
    tag=TAG,
    auth=True,
    body=obj({"confirmed": {"type": "boolean"}, "note": string(experience.NOTE_MAX)}),
    response=obj({"id": {"type": "integer"}, "confirmed": {"type": "boolean"}}),
)
async def confirm(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    confirmed = body.get("confirmed", True)
    if not isinstance(confirmed, bool):
        raise Invalid({"confirmed": "Send true to confirm or false to withdraw it."})
    result = await experience.confirm(
        viewer, request.path_params["id"], confirmed, body.get("note") or ""
    )
    return ok(result)


# Clinicians -------------------------------------------------------------------------------


@operation(
    "POST",
    "/me/clinician-application",
    "Apply to be a verified clinician; the application goes to the moderators' queue",
    tag=TAG,
    auth=True,
    status=201,
    body=obj(
        {
            "profession": string(80, min_length=2),
            "specialty": string(40, enum=list(clinicians.SPECIALTY_KEYS)),
            "other_specialties": {
                "type": "array",
                "items": string(40, enum=list(clinicians.SPECIALTY_KEYS)),
                "maxItems": clinicians.OTHER_SPECIALTIES_MAX,
            },
            "license_region": string(80, min_length=2),
            "license_number": string(64, min_length=3),
            "evidence_url": string(500, format="uri"),
        },
        ["profession", "specialty", "license_region", "license_number"],
    ),
    response=APPLICATION,
)
async def apply(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    row = await clinicians.apply(
        viewer,
        clinicians.Application(
            profession=body.get("profession"),
            specialty=body.get("specialty"),
            license_region=body.get("license_region"),
            license_number=body.get("license_number"),
            evidence_url=body.get("evidence_url") or "",
            other_specialties=body.get("other_specialties") or (),
        ),
    )
    return ok({**application_json(row), "applicant": viewer.username}, 201)


@operation(
    "GET",
    "/me/clinician-application",
    "Your latest application and whether you are verified now",
    tag=TAG,
    auth=True,
    response=obj(
        {
            "application": {"oneOf": [APPLICATION, {"type": "null"}]},
            "verified": {"type": "boolean"},
            "credential": NULLABLE_STRING,
            "expires_at": NULLABLE_STRING,
        },
        ["application", "verified"],
    ),
)
async def my_application(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    latest = await clinicians.latest_application(viewer.id)  # type: ignore[arg-type]
    current = await clinicians.current_verification(viewer.id)
    return ok(
        {
            "application": {**application_json(latest), "applicant": viewer.username}
            if latest
            else None,
            "verified": current is not None,
            "credential": clinicians.credential_label(current) if current else None,
            "expires_at": iso(current["expires_at"]) if current else None,
        }
    )


@operation(
    "GET",
    "/moderation/clinician-applications/{id}",
    "A clinician's application with its licence details (moderators and admins)",
    tag=TAG,
    auth=True,
    response=APPLICATION,
)
async def get_application(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    row = await clinicians.get_application(viewer, request.path_params["id"])
    return ok(application_json(row))


@operation(
    "POST",
    "/moderation/clinician-applications/{id}/decision",
    "Approve or reject a clinician's application with a note (any moderator, or an admin); audited",
    tag=TAG,
    auth=True,
    body=obj(
        {
            "action": string(16, enum=list(clinicians.ACTIONS)),
            "note": string(clinicians.NOTE_MAX),
            "valid_days": {"type": "integer", "minimum": 1, "maximum": clinicians.MAX_VALID_DAYS},
        },
        ["action"],
    ),
    response=obj(
        {
            "id": {"type": "integer"},
            "status": {"type": "string"},
            "credential": {"type": "string"},
            "expires_at": NULLABLE_STRING,
            "item_id": {"type": ["integer", "null"]},
        },
        ["id", "status"],
    ),
)
async def decide_application(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    result = await clinicians.decide(
        viewer,
        request.path_params["id"],
        body.get("action"),
        body.get("note") or "",
        valid_days=body.get("valid_days"),
    )
    return ok({**result, "expires_at": iso(result["expires_at"])})


@operation(
    "GET",
    "/moderation/clinicians",
    "Everyone verified now (moderators and admins)",
    tag=TAG,
    auth=True,
    response=obj({"items": {"type": "array", "items": {"type": "object"}}}, ["items"]),
)
async def verified(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    rows = await clinicians.verified_clinicians(viewer)
    return ok(
        {
            "items": [
                {
                    "username": row["username"],
                    "credential": row["credential"],
                    "application": row["id"],
                    "expires_at": iso(row["expires_at"]),
                }
                for row in rows
            ]
        }
    )


@operation(
    "POST",
    "/moderation/clinicians/{username}/revoke",
    "End a clinician's verification now, with a note; earlier answers keep their badge",
    tag=TAG,
    auth=True,
    body=obj({"note": string(clinicians.NOTE_MAX, min_length=1)}, ["note"]),
    response=obj({"id": {"type": "integer"}, "status": {"type": "string"}}),
)
async def revoke(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    return ok(await clinicians.revoke(viewer, request.path_params["username"], body.get("note")))


@operation(
    "GET",
    "/clinicians/unanswered",
    "Unanswered “ask a clinician” questions in your specialties, oldest first (verified "
    "clinicians; moderators see all)",
    tag=TAG,
    auth=True,
    query=(*PAGING, ("specialty", {"type": "string", "enum": list(clinicians.SPECIALTY_KEYS)})),
    response=list_of(
        obj(
            {
                "id": {"type": "integer"},
                "title": {"type": "string"},
                "community": {"type": "string"},
                "specialty": NULLABLE_STRING,
                "reply_count": {"type": "integer"},
                "created_at": {"type": "string"},
                "url": {"type": "string"},
            }
        )
    ),
)
async def unanswered(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    page, per_page = paging(request)
    used, listing = await answers.unanswered(
        viewer, specialty=request.query_params.get("specialty"), page=page, per_page=per_page
    )
    items = [
        {
            "id": row["id"],
            "title": row["title"],
            "community": row["community_slug"],
            "specialty": row["specialty"],
            "reply_count": row["reply_count"],
            "created_at": iso(row["created_at"]),
            "url": f"/t/{row['id']}",
        }
        for row in listing.items
    ]
    return ok({**page_json(listing, items), "specialties": used})


# Reactions and accepted answers -------------------------------------------------------------


def _summary_json(summary: dict[str, Any]) -> dict[str, Any]:
    return {"post": summary["post"], **(reactions_json(summary) or {})}


@operation(
    "POST",
    "/posts/{id}/reactions",
    "React to a post: helpful, support or me_too (one of each per person)",
    tag=TAG,
    auth=True,
    body=obj({"kind": string(12, enum=list(reactions.KINDS))}, ["kind"]),
    response=REACTIONS,
)
async def react(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    summary = await reactions.react(
        settings_of(request), viewer, request.path_params["id"], body.get("kind")
    )
    return ok(_summary_json(summary))


@operation(
    "DELETE",
    "/posts/{id}/reactions/{kind}",
    "Take your reaction back",
    tag=TAG,
    auth=True,
    response=REACTIONS,
)
async def unreact(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    summary = await reactions.unreact(
        settings_of(request), viewer, request.path_params["id"], request.path_params["kind"]
    )
    return ok(_summary_json(summary))


@operation(
    "GET",
    "/posts/{id}/reactions",
    "A post's reactions: counts, who reacted and yours",
    tag=TAG,
    response=REACTIONS,
)
async def post_reactions(request: Request) -> Response:
    viewer = await api_viewer(request)
    from forum import threads

    post = await threads.get_post(viewer, request.path_params["id"])
    return ok(_summary_json(await reactions.summary(viewer, post["id"])))


ACCEPTED = obj({"thread": {"type": "integer"}, "accepted_post": {"type": ["integer", "null"]}})


@operation(
    "POST",
    "/threads/{id}/accepted-answer",
    "Mark a reply as the accepted answer of an “ask a clinician” question (the asker or a "
    "moderator)",
    tag=TAG,
    auth=True,
    body=obj({"post_id": {"type": "integer", "minimum": 1}}, ["post_id"]),
    response=ACCEPTED,
)
async def accept(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    return ok(await answers.accept_answer(viewer, request.path_params["id"], body.get("post_id")))


@operation(
    "DELETE",
    "/threads/{id}/accepted-answer",
    "Take the accepted mark off (the asker or a moderator)",
    tag=TAG,
    auth=True,
    response=ACCEPTED,
)
async def unaccept(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    return ok(await answers.clear_accepted_answer(viewer, request.path_params["id"]))


# Privacy, export, deleting the account ------------------------------------------------------

PRIVACY = obj({name: string(12, enum=list(profiles.AUDIENCES)) for name in profiles.PRIVACY_FIELDS})


@operation(
    "GET", "/me/privacy", "Who sees each part of your profile", tag=TAG, auth=True, response=PRIVACY
)
async def get_privacy(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    return ok(await profiles.privacy_of(viewer.id))  # type: ignore[arg-type]


@operation(
    "PATCH",
    "/me/privacy",
    "Choose who sees each part of your profile: everyone, members or only_me",
    tag=TAG,
    auth=True,
    body=PRIVACY,
    response=PRIVACY,
)
async def set_privacy(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    return ok(await profiles.set_privacy(viewer, body))


@operation(
    "GET",
    "/me/export",
    "Everything you wrote and every row about you, as JSON",
    tag=TAG,
    auth=True,
    response=obj(
        {
            "format": {"type": "string"},
            "exported_at": {"type": "string"},
            "account": {"type": "object"},
            "privacy": {"type": "object"},
            "tables": {"type": "object", "additionalProperties": {"type": "array"}},
        },
        ["format", "account", "tables"],
    ),
)
async def export(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    data = await profiles.export_data(viewer)
    return Response(
        profiles.export_json(data),
        media_type="application/json",
        headers={"cache-control": "no-store"},
    )


@operation(
    "DELETE",
    "/me",
    "Delete your account: personal data removed, posts kept as a former member's or deleted",
    tag=TAG,
    auth=True,
    body=obj(
        {"password": string(256, min_length=1), "remove_posts": {"type": "boolean"}},
        ["password"],
    ),
    response=obj({"deleted": {"type": "boolean"}, "posts": {"type": "string"}}),
)
async def delete_me(request: Request) -> Response:
    viewer = await api_viewer(request, required=True)
    body = await json_body(request)
    remove = body.get("remove_posts", False)
    if not isinstance(remove, bool):
        raise Invalid({"remove_posts": "Send true to delete your posts too, or false."})
    result = await profiles.delete_account(
        settings_of(request), viewer, body.get("password"), remove_posts=remove
    )
    return ok(result)
