"""Verified clinicians: applying into the moderation queue, deciding with a note and an audit
entry, expiry and revocation, and the credential each answer keeps from when it was posted."""

from __future__ import annotations

import pytest

from forum import clinicians, threads
from forum.errors import Conflict, Forbidden, Invalid, NotFound
from forum.tables import Post, User
from moderation import queue
from moderation.tables import AuditEntry, ModerationItem, Notice
from tests.conftest import api_token, make_user, post_form, shows, sign_in, viewer_of
from tests.people.conftest import expire_verification, verify

APPLICATION = clinicians.Application(
    profession="Heart failure nurse",
    specialty="cardiology",
    license_region="UK, Nursing and Midwifery Council",
    license_number="12A3456B",
    evidence_url="https://www.nmc.org.uk/registration/search-the-register/",
)


async def test_an_application_enters_every_moderators_queue(
    member, moderator, admin, settings, app
):
    from forum import communities

    elsewhere = await make_user(settings, "olu_mod", "moderator")
    other = await communities.create_community(
        await viewer_of(admin), slug="long-covid", name="Long COVID"
    )
    await communities.add_member(
        await viewer_of(admin), other["slug"], elsewhere["username"], role="moderator"
    )
    application = await clinicians.apply(await viewer_of(member), APPLICATION)
    item = await ModerationItem.select().where(ModerationItem.kind == "clinician_application")
    assert len(item) == 1 and item[0]["object_id"] == application["id"]
    assert item[0]["community"] is None and item[0]["state"] == "open"
    for person in (moderator, elsewhere, admin):
        listing = await queue.list_queue(await viewer_of(person))
        assert [i["kind"] for i in listing.items] == ["clinician_application"]
    filtered = await queue.list_queue(await viewer_of(moderator), reason="clinician")
    assert filtered.total == 1
    with pytest.raises(Conflict):  # one waiting application at a time
        await clinicians.apply(await viewer_of(member), APPLICATION)


async def test_approval_verifies_is_audited_and_tells_the_applicant(member, moderator):
    application = await clinicians.apply(await viewer_of(member), APPLICATION)
    result = await clinicians.decide(
        await viewer_of(moderator), application["id"], "approve", "Found in the NMC register."
    )
    assert result["status"] == "approved" and result["expires_at"] is not None
    entry = await AuditEntry.select().where(AuditEntry.kind == "clinician_application").first()
    assert entry["action"] == "approve" and entry["actor_name"] == moderator["username"]
    assert entry["target_user_id"] == member["id"] and entry["note"] == "Found in the NMC register."
    item = await ModerationItem.select().where(ModerationItem.kind == "clinician_application")
    assert item[0]["state"] == "resolved" and item[0]["resolution"] == "approve"
    notice = await Notice.select().where(Notice.user == member["id"]).first()
    assert "verified clinician" in notice["message"]
    user = await User.select(User.role).where(User.id == member["id"]).first()
    assert user["role"] == "clinician"
    current = await clinicians.current_verification(member["id"])
    assert clinicians.credential_label(current) == "Heart failure nurse · Cardiology"
    with pytest.raises(Conflict):  # decided once
        await clinicians.decide(await viewer_of(moderator), application["id"], "reject", "No")


async def test_rejection_needs_a_note_and_does_not_verify(member, admin):
    application = await clinicians.apply(await viewer_of(member), APPLICATION)
    with pytest.raises(Invalid) as error:
        await clinicians.decide(await viewer_of(admin), application["id"], "reject", "")
    assert "note" in error.value.fields
    await clinicians.decide(
        await viewer_of(admin), application["id"], "reject", "That number isn't registered."
    )
    assert await clinicians.current_verification(member["id"]) is None
    assert await AuditEntry.exists().where(AuditEntry.action == "reject")
    # They may apply again.
    await clinicians.apply(await viewer_of(member), APPLICATION)


async def test_only_moderators_and_admins_decide_and_never_their_own(
    member, other_member, settings, admin
):
    application = await clinicians.apply(await viewer_of(member), APPLICATION)
    with pytest.raises(Forbidden):
        await clinicians.decide(await viewer_of(other_member), application["id"], "approve")
    mod = await make_user(settings, "self_mod", "moderator")
    from forum import communities

    await communities.add_member(await viewer_of(admin), "celiac", mod["username"], "moderator")
    own = await clinicians.apply(await viewer_of(mod), APPLICATION)
    with pytest.raises(Forbidden):
        await clinicians.decide(await viewer_of(mod), own["id"], "approve")
    with pytest.raises(NotFound):
        await clinicians.get_application(await viewer_of(other_member), application["id"])


async def test_an_answer_keeps_the_credential_its_author_had_when_posting(
    client, member, nurse, admin, community, ask, reply_factory
):
    thread = await ask(member)
    before = await reply_factory(thread=thread, author=nurse, body="Yes: fluid shows first.")
    assert before["author_credential"] == "Heart failure nurse · Cardiology"
    await clinicians.revoke(await viewer_of(admin), nurse["username"], "Licence lapsed.")
    after = await reply_factory(thread=thread, author=nurse, body="Another thought.")
    assert after["author_credential"] is None
    rows = await Post.select(Post.id, Post.author_credential).where(Post.thread == thread["id"])
    credentials = {row["id"]: row["author_credential"] for row in rows}
    assert credentials[before["id"]] == "Heart failure nurse · Cardiology"
    assert credentials[after["id"]] is None
    page = await client.get(f"/t/{thread['id']}")
    assert page.text.count("Verified clinician · Heart failure nurse · Cardiology") == 1
    assert await AuditEntry.exists().where(AuditEntry.action == "revoke")
    user = await User.select(User.role).where(User.id == nurse["id"]).first()
    assert user["role"] == "member"


async def test_an_expired_verification_stops_badging_new_answers_only(
    member, nurse, ask, reply_factory
):
    thread = await ask(member)
    before = await reply_factory(thread=thread, author=nurse)
    await expire_verification(nurse)
    assert await clinicians.current_verification(nurse["id"]) is None
    after = await reply_factory(thread=thread, author=nurse)
    assert before["author_credential"] and after["author_credential"] is None
    user = await User.select(User.role).where(User.id == nurse["id"]).first()
    assert user["role"] == "member"  # lapsed: back to member once they post


async def test_a_role_alone_does_not_make_a_verified_clinician(
    member, clinician, ask, reply_factory
):
    thread = await ask(member)
    answer = await reply_factory(thread=thread, author=clinician)
    assert answer["author_credential"] is None


async def test_revoking_needs_a_note_and_a_current_verification(member, nurse, moderator):
    with pytest.raises(Invalid):
        await clinicians.revoke(await viewer_of(moderator), nurse["username"], "")
    with pytest.raises(Conflict):
        await clinicians.revoke(await viewer_of(moderator), member["username"], "Why not")
    with pytest.raises(Forbidden):
        await clinicians.revoke(await viewer_of(member), nurse["username"], "I say so")


async def test_the_queue_links_to_the_application_page_where_it_is_decided(
    client, member, moderator
):
    application = await clinicians.apply(await viewer_of(member), APPLICATION)
    await sign_in(client, moderator)
    listing = await client.get("/mod")
    assert "Clinician application from Maria" in listing.text
    assert f"/mod/clinician-applications/{application['id']}" in listing.text
    item = await ModerationItem.select().where(ModerationItem.kind == "clinician_application")
    redirected = await client.get(f"/mod/items/{item[0]['id']}")
    assert redirected.status_code == 303
    assert redirected.headers["location"] == f"/mod/clinician-applications/{application['id']}"
    page = await client.get(f"/mod/clinician-applications/{application['id']}")
    assert page.status_code == 200 and "12A3456B" in page.text
    assert "Heart failure nurse · Cardiology" in page.text
    refused = await post_form(
        client,
        f"/mod/clinician-applications/{application['id']}/decide",
        {"action": "reject", "note": ""},
        "/mod",
    )
    assert refused.status_code == 422
    done = await post_form(
        client,
        f"/mod/clinician-applications/{application['id']}/decide",
        {"action": "approve", "note": "Checked.", "valid_days": "180"},
        "/mod",
    )
    assert done.status_code == 303
    audit_page = await client.get("/mod/audit")
    assert "clinician_application" in audit_page.text and "Checked." in audit_page.text
    clinicians_page = await client.get("/mod/clinicians")
    assert "Heart failure nurse · Cardiology" in clinicians_page.text
    revoked = await post_form(
        client, f"/mod/clinicians/{member['username']}/revoke", {"note": "Left practice."}, "/mod"
    )
    assert revoked.status_code == 303
    assert await clinicians.current_verification(member["id"]) is None


async def test_the_generic_decision_route_points_to_the_applications_own(client, member, moderator):
    await clinicians.apply(await viewer_of(member), APPLICATION)
    item = await ModerationItem.select().where(ModerationItem.kind == "clinician_application")
    headers = await api_token(client, moderator)
    response = await client.post(
        f"/api/v1/moderation/items/{item[0]['id']}/decision",
        json={"action": "approve", "note": ""},
        headers=headers,
    )
    assert response.status_code == 409
    assert "clinician-applications" in response.json()["error"]["message"]


async def test_non_moderators_never_see_applications(client, member, other_member):
    application = await clinicians.apply(await viewer_of(member), APPLICATION)
    await sign_in(client, other_member)
    page = await client.get(f"/mod/clinician-applications/{application['id']}")
    assert page.status_code == 404
    headers = await api_token(client, other_member)
    response = await client.get(
        f"/api/v1/moderation/clinician-applications/{application['id']}", headers=headers
    )
    assert response.status_code == 404


async def test_applying_on_the_page(client, member):
    await sign_in(client, member)
    page = await client.get("/me/clinician")
    assert page.status_code == 200 and "Apply to be verified" in page.text
    bad = await post_form(
        client,
        "/me/clinician",
        {"profession": "", "specialty": "astrology", "license_region": "UK"},
        "/me/clinician",
    )
    assert bad.status_code == 422
    assert shows(bad, "Profession can't be empty")
    done = await post_form(
        client,
        "/me/clinician",
        {
            "profession": "Heart failure nurse",
            "specialty": "cardiology",
            "other_specialties": "respiratory",
            "license_region": "UK",
            "license_number": "12A3456B",
            "evidence_url": "",
        },
        "/me/clinician",
    )
    assert done.status_code == 303
    waiting = await client.get("/me/clinician")
    assert "waiting for a moderator" in waiting.text


async def test_the_clinician_api_routes(client, member, moderator):
    headers = await api_token(client, member)
    created = await client.post(
        "/api/v1/me/clinician-application",
        json={
            "profession": "Heart failure nurse",
            "specialty": "cardiology",
            "license_region": "UK",
            "license_number": "12A3456B",
            "evidence_url": "https://example.org/register/12A3456B",
            "other_specialties": ["respiratory"],
        },
        headers=headers,
    )
    assert created.status_code == 201, created.text
    application = created.json()
    assert application["status"] == "pending" and application["other_specialties"] == [
        "respiratory"
    ]
    bad = await client.post(
        "/api/v1/me/clinician-application",
        json={"profession": 5, "specialty": "x", "evidence_url": "javascript:alert(1)"},
        headers=headers,
    )
    assert bad.status_code in (409, 422)
    mod = await api_token(client, moderator)
    decided = await client.post(
        f"/api/v1/moderation/clinician-applications/{application['id']}/decision",
        json={"action": "approve", "note": "Checked.", "valid_days": 30},
        headers=mod,
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    mine = (await client.get("/api/v1/me/clinician-application", headers=headers)).json()
    assert mine["verified"] and mine["credential"] == "Heart failure nurse · Cardiology"
    profile = (await client.get(f"/api/v1/users/{member['username']}")).json()
    assert profile["clinician"]["credential"] == "Heart failure nurse · Cardiology"
    listing = (await client.get("/api/v1/moderation/clinicians", headers=mod)).json()
    assert [c["username"] for c in listing["items"]] == [member["username"]]
    revoked = await client.post(
        f"/api/v1/moderation/clinicians/{member['username']}/revoke",
        json={"note": "Moved abroad."},
        headers=mod,
    )
    assert revoked.status_code == 200
    assert (await client.get(f"/api/v1/users/{member['username']}")).json()["clinician"] is None


async def test_your_own_application_names_you_as_its_applicant(client, member):
    """The API documents `applicant` as a string; it was null on GET (found by schemathesis)."""
    await clinicians.apply(await viewer_of(member), APPLICATION)
    headers = await api_token(client, member)
    mine = (await client.get("/api/v1/me/clinician-application", headers=headers)).json()
    assert mine["application"]["applicant"] == member["username"]


async def test_bad_application_input_is_a_field_error(member):
    with pytest.raises(Invalid) as error:
        await clinicians.apply(
            await viewer_of(member),
            clinicians.Application(
                profession=["x"],
                specialty="astrology",
                license_region="",
                license_number="1",
                evidence_url="http://insecure.example",
                other_specialties="cardiology,astrology",
            ),
        )
    assert set(error.value.fields) == {
        "profession",
        "specialty",
        "license_region",
        "license_number",
        "evidence_url",
        "other_specialties",
    }


async def test_profile_and_thread_show_the_verified_badge(
    client, member, nurse, ask, reply_factory
):
    thread = await ask(member)
    await reply_factory(thread=thread, author=nurse)
    profile = await client.get(f"/u/{nurse['username']}")
    assert shows(profile, "Verified clinician · Heart failure nurse · Cardiology")
    data = await threads.get_thread(await viewer_of(member), thread["id"])
    assert data["posts"].items[1]["author_credential"] == "Heart failure nurse · Cardiology"


async def test_a_specialty_can_be_declared_and_listed(member, admin, settings):
    await verify(
        member,
        admin,
        profession="Endocrinologist",
        specialty="endocrinology",
        others=("paediatrics",),
    )
    current = await clinicians.current_verification(member["id"])
    assert clinicians.specialties_of(current) == ["endocrinology", "paediatrics"]


async def test_the_queue_api_shows_an_application_as_a_site_wide_item(client, member, moderator):
    application = await clinicians.apply(await viewer_of(member), APPLICATION)
    headers = await api_token(client, moderator)
    listing = (await client.get("/api/v1/moderation/queue", headers=headers)).json()
    item = listing["items"][0]
    assert item["kind"] == "clinician_application" and item["community"] is None
    assert item["object_id"] == application["id"] and item["reasons"] == ["clinician"]
    detail = await client.get(f"/api/v1/moderation/items/{item['id']}", headers=headers)
    assert detail.status_code == 200 and detail.json()["content"]["author"] == "maria"
    outsider = await api_token(client, member)
    assert (await client.get("/api/v1/moderation/queue", headers=outsider)).status_code == 403
