"""Administrators' pages: communities, moderators, people and roles, site settings, crisis
resources and who may register. Every change lands in the moderation log."""

from __future__ import annotations

import json

import pytest

from forum import accounts, communities, site_settings
from forum import admin as admin_service
from forum.errors import Forbidden, Invalid
from forum.tables import Community, User
from moderation.tables import AuditEntry
from tests.conftest import PASSWORD, api_token, post_form, sign_in, viewer_of

CRISIS = "I can't go on. Everyone would be better off without me."
OLD_FOOTER = (
    "Kindred is a place to share experience, not a substitute for medical care. Talk to your "
    "own clinician before changing a treatment."
)


async def actions() -> list[str]:
    return [row["action"] for row in await AuditEntry.select(AuditEntry.action)]


async def test_admin_pages_do_not_exist_for_members_and_moderators(
    client, make_client, member, moderator
):
    paths = ("/admin", "/admin/communities", "/admin/moderators", "/admin/settings")
    for person in (member, moderator):
        browser = make_client()
        await sign_in(browser, person)
        for path in (*paths, "/admin/users", "/admin/communities/celiac"):
            assert (await browser.get(path)).status_code == 404, path
        await browser.aclose()
    visitor = await client.get("/admin/settings")
    assert visitor.status_code == 303 and visitor.headers["location"].startswith("/login")
    headers = await api_token(client, member)
    assert (await client.get("/api/v1/admin/settings", headers=headers)).status_code == 404
    assert (await client.get("/api/v1/admin/users", headers=headers)).status_code == 404


async def test_creating_editing_and_archiving_a_community_is_logged(client, admin):
    await sign_in(client, admin)
    created = await post_form(
        client,
        "/admin/communities",
        {"name": "Heart failure", "slug": "heart", "description": "", "visibility": "public"},
        "/admin/communities",
    )
    assert created.status_code == 303 and created.headers["location"] == "/admin/communities/heart"
    bad = await post_form(
        client,
        "/admin/communities",
        {"name": "X", "slug": "Bad Slug", "description": "kept text", "visibility": "public"},
        "/admin/communities",
    )
    assert bad.status_code == 422 and "kept text" in bad.text
    edited = await post_form(
        client,
        "/admin/communities/heart",
        {"name": "Living with heart failure", "description": "For *all*", "visibility": "private"},
        "/admin/communities/heart",
    )
    assert edited.status_code == 303
    row = await Community.select().where(Community.slug == "heart").first()
    assert row["name"] == "Living with heart failure" and row["visibility"] == "private"
    archived = await post_form(
        client,
        "/admin/communities/heart/archive",
        {"archived": "1", "note": "merged"},
        "/admin/communities/heart",
    )
    assert archived.status_code == 303
    with pytest.raises(Forbidden):  # archived: no new members
        await communities.join(await viewer_of(admin), "heart")
    await post_form(client, "/admin/communities/heart/archive", {"archived": "0"}, "/admin")
    assert await actions() == [
        "create_community",
        "edit_community",
        "archive_community",
        "unarchive_community",
    ]
    entry = await AuditEntry.select().where(AuditEntry.action == "edit_community").first()
    assert json.loads(entry["before"]) == {
        "name": "Heart failure",
        "description": "",
        "visibility": "public",
    }
    listing = await client.get("/admin/communities")
    assert "Living with heart failure" in listing.text


async def test_communities_made_on_the_old_page_and_the_api_are_logged_too(client, admin):
    await sign_in(client, admin)
    await post_form(
        client,
        "/communities/new",
        {"name": "Type 1 diabetes", "slug": "t1d", "description": "", "visibility": "public"},
        "/communities/new",
    )
    headers = await api_token(client, admin)
    response = await client.post(
        "/api/v1/communities", json={"slug": "lupus", "name": "Lupus"}, headers=headers
    )
    assert response.status_code == 201
    assert await actions() == ["create_community", "create_community"]


async def test_appointing_and_dismissing_moderators_is_logged(client, admin, member, community):
    await sign_in(client, admin)
    page = await client.get("/admin/moderators")
    assert page.status_code == 200 and "Celiac disease" in page.text
    await post_form(
        client,
        "/admin/moderators",
        {"community": "celiac", "username": member["username"]},
        "/admin/moderators",
    )
    assert community["id"] in (await viewer_of(member)).moderates
    await post_form(
        client,
        "/admin/moderators",
        {"community": "celiac", "username": member["username"], "dismiss": "1"},
        "/admin/moderators",
    )
    assert community["id"] not in (await viewer_of(member)).moderates
    assert await actions() == ["appoint", "dismiss"]


async def test_changing_a_role_is_logged_and_admins_cannot_change_their_own(client, admin, member):
    await sign_in(client, admin)
    response = await post_form(
        client, f"/admin/users/{member['username']}/role", {"role": "clinician"}, "/admin/users"
    )
    assert response.status_code == 303
    row = await User.select(User.role).where(User.id == member["id"]).first()
    assert row["role"] == "clinician"
    entry = await AuditEntry.select().where(AuditEntry.action == "change_role").first()
    assert entry["target_name"] == member["username"]
    assert json.loads(entry["before"]) == {"role": "member"}
    assert json.loads(entry["after"]) == {"role": "clinician"}
    with pytest.raises(Forbidden):
        await admin_service.change_role(await viewer_of(admin), admin["username"], "member")
    with pytest.raises(Invalid):
        await admin_service.change_role(await viewer_of(admin), member["username"], "emperor")
    headers = await api_token(client, admin)
    api = await client.post(
        f"/api/v1/admin/users/{member['username']}/role", json={"role": "member"}, headers=headers
    )
    assert api.status_code == 200 and api.json()["role"] == "member"


async def test_people_are_found_by_name_or_e_mail_and_role(client, settings, admin, member):
    await accounts.register(
        settings,
        accounts.Registration(username="okafor", password=PASSWORD, email="ada@clinic.example"),
        role="clinician",
    )
    found = await admin_service.list_users(await viewer_of(admin), query="CLINIC.example")
    assert [row["username"] for row in found.items] == ["okafor"]
    by_role = await admin_service.list_users(await viewer_of(admin), role="member")
    assert [row["username"] for row in by_role.items] == [member["username"]]
    assert (await admin_service.list_users(await viewer_of(admin), query="%")).total == 0
    await sign_in(client, admin)
    page = await client.get("/admin/users?q=maria")
    assert page.status_code == 200 and member["username"] in page.text


async def test_the_disclaimer_and_privacy_notice_are_the_admins_to_edit(client, make_client, admin):
    home = await client.get("/")
    assert OLD_FOOTER in home.text  # the default is the text the footer always had
    assert "Your rights" in (await client.get("/privacy")).text
    await sign_in(client, admin)
    saved = await post_form(
        client,
        "/admin/settings",
        {
            "disclaimer": "Not medical advice. **Ask your care team.**",
            "privacy": "We keep very little.",
            "crisis_resources": "",
            "registration": "open",
        },
        "/admin/settings",
    )
    assert saved.status_code == 303
    visitor = make_client()
    page = await visitor.get("/")
    assert "<strong>Ask your care team.</strong>" in page.text and OLD_FOOTER not in page.text
    assert "We keep very little." in (await visitor.get("/privacy")).text
    assert "Ask your care team." in (await visitor.get("/disclaimer")).text
    await visitor.aclose()
    entries = await AuditEntry.select().where(AuditEntry.action == "edit_setting")
    assert sorted(entry["note"] for entry in entries) == ["disclaimer", "privacy"]


async def test_saving_the_settings_page_unchanged_changes_nothing(client, admin):
    await sign_in(client, admin)
    as_shown = {
        "disclaimer": site_settings.DEFAULT_DISCLAIMER,
        "privacy": site_settings.DEFAULT_PRIVACY.replace("\n", "\r\n"),
        "crisis_resources": "",
        "registration": "open",
    }
    saved = await post_form(client, "/admin/settings", as_shown, "/admin/settings")
    assert saved.status_code == 303
    assert await actions() == []


async def test_crisis_resources_by_region_feed_the_crisis_panel(
    client, settings, admin, member, community, thread_factory
):
    await sign_in(client, admin)
    lines = (
        "UK | Samaritans | Call 116 123 | https://www.samaritans.org\n"
        "Ireland | Pieta | Call 1800 247 247"
    )
    saved = await post_form(
        client, "/admin/settings", {"crisis_resources": lines}, "/admin/settings"
    )
    assert saved.status_code == 303
    thread = await thread_factory(community=community, author=member)
    headers = await api_token(client, member)
    response = await client.post(
        f"/api/v1/threads/{thread['id']}/posts", json={"body": CRISIS}, headers=headers
    )
    resources = response.json()["moderation"]["resources"]
    assert [(r["region"], r["name"]) for r in resources] == [
        ("UK", "Samaritans"),
        ("Ireland", "Pieta"),
    ]
    crisis_page = await client.get("/crisis")
    assert "Pieta" in crisis_page.text and "Call 1800 247 247" in crisis_page.text
    bad = await post_form(
        client,
        "/admin/settings",
        {"crisis_resources": "UK | Line | Call | http://insecure.example"},
        "/admin/settings",
    )
    assert bad.status_code == 422 and "https://" in bad.text
    # Emptying the setting gives moderation's own helplines back.
    await post_form(client, "/admin/settings", {"crisis_resources": ""}, "/admin/settings")
    assert "988" in (await client.get("/crisis")).text


async def test_registration_can_be_closed_and_create_user_still_works(
    client, make_client, settings, admin
):
    await site_settings.save(settings, await viewer_of(admin), {"registration": "closed"})
    visitor = make_client()
    page = await visitor.get("/register")
    assert "Registration is closed" in page.text and 'action="/register"' not in page.text
    assert "Join Kindred</a>" not in (await visitor.get("/")).text
    refused = await post_form(
        visitor,
        "/register",
        {"username": "newcomer", "password": PASSWORD},
        "/login",
    )
    assert refused.status_code == 403
    api = await visitor.post(
        "/api/v1/auth/register", json={"username": "newcomer", "password": PASSWORD}
    )
    assert api.status_code == 403
    await visitor.aclose()
    made = await accounts.register(
        settings, accounts.Registration(username="newcomer", password=PASSWORD), role="moderator"
    )
    assert made["role"] == "moderator"  # administrators' tools are not bound by the mode


async def test_invite_only_registration_needs_a_working_code(client, settings, admin):
    admin_viewer = await viewer_of(admin)
    await site_settings.save(settings, admin_viewer, {"registration": "invite_only"})
    page = await client.get("/register")
    assert 'name="invite_code"' in page.text
    without = await client.post(
        "/api/v1/auth/register", json={"username": "newcomer", "password": PASSWORD}
    )
    assert without.status_code == 422 and "invite_code" in without.json()["error"]["fields"]
    invite = await site_settings.create_invite(admin_viewer, max_uses=1, days=7, note="Maria")
    ok = await client.post(
        "/api/v1/auth/register",
        json={"username": "newcomer", "password": PASSWORD, "invite_code": invite["code"]},
    )
    assert ok.status_code == 201
    reused = await client.post(
        "/api/v1/auth/register",
        json={"username": "another", "password": PASSWORD, "invite_code": invite["code"]},
    )
    assert reused.status_code == 422
    second = await site_settings.create_invite(admin_viewer, max_uses=5)
    await site_settings.revoke_invite(admin_viewer, second["id"])
    revoked = await client.post(
        "/api/v1/auth/register",
        json={"username": "another", "password": PASSWORD, "invite_code": second["code"]},
    )
    assert revoked.status_code == 422
    # A code that failed to make an account (the name was taken) is not spent.
    third = await site_settings.create_invite(admin_viewer, max_uses=1)
    taken = await client.post(
        "/api/v1/auth/register",
        json={"username": "newcomer", "password": PASSWORD, "invite_code": third["code"]},
    )
    assert taken.status_code == 409
    assert (await site_settings.list_invites(admin_viewer)).items[0]["uses"] == 0
    entries = await AuditEntry.select().where(AuditEntry.kind == "invite_code")
    assert [entry["action"] for entry in entries] == [
        "create_invite",
        "create_invite",
        "revoke_invite",
        "create_invite",
    ]
    assert all(invite["code"] not in entry["after"] for entry in entries)


async def test_the_settings_page_and_the_api_agree(client, admin, settings):
    await sign_in(client, admin)
    page = await client.get("/admin/settings")
    assert page.status_code == 200
    assert "messages are written as files" in page.text  # e-mail set-up, read-only
    headers = await api_token(client, admin)
    patched = await client.patch(
        "/api/v1/admin/settings",
        json={
            "registration": "invite_only",
            "crisis_resources": [{"region": "US", "name": "988 Lifeline", "contact": "Call 988"}],
        },
        headers=headers,
    )
    assert patched.status_code == 200
    assert patched.json()["registration"] == "invite_only"
    assert patched.json()["crisis_resources"][0]["region"] == "US"
    wrong = await client.patch(
        "/api/v1/admin/settings", json={"registration": "sometimes"}, headers=headers
    )
    assert wrong.status_code == 422
    unknown = await client.patch("/api/v1/admin/settings", json={"theme": "dark"}, headers=headers)
    assert unknown.status_code == 422


async def test_other_processes_follow_a_change_on_their_next_reload(app, settings, admin):
    """Pages read the settings from memory; a change saved by another process (here, written
    straight into the table) shows after the cache reloads, which servers do every few
    seconds."""
    from forum import db

    cache = site_settings.SiteSettingsCache(settings.data_dir)
    await cache.reload()
    await db.raw(
        'INSERT INTO "site_setting" ("key", "value", "value_html", "updated_at") '
        "VALUES ({}, {}, {}, CURRENT_TIMESTAMP)",
        "registration",
        "closed",
        "",
    )
    assert (await cache.get()).registration == "open"  # no query per page
    await cache.reload()
    assert (await cache.get()).registration == "closed"
    await site_settings.save(settings, await viewer_of(admin), {"registration": "open"})
    assert (await cache.get()).registration == "open"  # this process saved: at once
