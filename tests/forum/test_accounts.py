"""Registering, signing in and out, sessions, passwords and profiles."""

from __future__ import annotations

import pytest

from forum import accounts
from forum.settings import RateLimit
from tests.conftest import PASSWORD, api_token, csrf_from, post_form, shows, sign_in


async def register(client, **fields):
    token = await csrf_from(client, "/register")
    data = {
        "username": "maria",
        "password": PASSWORD,
        "display_name": "Maria",
        "email": "",
        **fields,
    }
    return await client.post("/register", data={**data, "csrf_token": token})


async def test_registering_signs_the_new_member_in(client):
    response = await register(client)
    assert response.status_code == 303
    home = await client.get("/")
    assert "Maria" in home.text
    assert "Sign out" in home.text


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"username": "ab"}, "username", "3 to 32 letters"),
        ({"username": "bad name!"}, "username", "3 to 32 letters"),
        ({"username": "admin"}, "username", "reserved"),
        ({"password": "short"}, "password", "at least 10 characters"),
        ({"password": "1234567890"}, "password", "too easy to guess"),
        ({"email": "not-an-address"}, "email", "doesn't look like an e-mail"),
        ({"display_name": "x" * 65}, "display_name", "at most 64 characters"),
    ],
)
async def test_registration_rules_explain_themselves_beside_the_field(
    client, fields, field, message
):
    response = await register(client, **fields)
    assert response.status_code == 422
    assert f'id="f-{field}-error"' in response.text
    assert shows(response, message)


async def test_registration_form_keeps_what_was_typed_except_the_password(client):
    response = await register(
        client, username="ab", display_name="Maria from Leeds", password="secret-but-short"
    )
    assert 'value="Maria from Leeds"' in response.text
    assert "secret-but-short" not in response.text


async def test_a_taken_username_is_a_conflict_with_the_field_named(client, member):
    response = await register(client, username=member["username"].upper())
    assert response.status_code == 409
    assert "That username is taken" in response.text


async def test_sign_in_with_a_wrong_password_says_so_without_revealing_which_part(client, member):
    token = await csrf_from(client)
    response = await client.post(
        "/login",
        data={"username": member["username"], "password": "wrong password!", "csrf_token": token},
    )
    assert response.status_code == 422
    assert shows(response, "don't match")
    unknown = await client.post(
        "/login",
        data={"username": "nobody-here", "password": "wrong password!", "csrf_token": token},
    )
    assert unknown.status_code == 422
    assert shows(unknown, "don't match")


async def test_nul_in_a_form_or_an_address_is_a_4xx_not_a_server_error(client, member):
    """PostgreSQL can't compare text holding NUL: forms drop it, addresses with it are refused."""
    token = await csrf_from(client)
    response = await client.post(
        "/login",
        data={
            "username": member["username"] + "\x00",
            "password": "wrong password!",
            "csrf_token": token,
        },
    )
    assert response.status_code == 422 and shows(response, "don't match")
    assert (await client.get(f"/u/{member['username']}%00")).status_code == 400
    assert (await client.get("/search?q=oats%00")).status_code == 400


async def test_sign_out_ends_the_session(client, member):
    await sign_in(client, member)
    response = await post_form(client, "/logout", {})
    assert response.status_code == 303
    assert "Sign out" not in (await client.get("/")).text


async def test_password_change_signs_out_other_sessions(client, make_client, member):
    await sign_in(client, member)
    async with make_client() as phone:
        await sign_in(phone, member)
        assert (await phone.get("/settings")).status_code == 200
        response = await post_form(
            client,
            "/settings/password",
            {"current_password": PASSWORD, "new_password": "a brand new passphrase"},
            "/settings",
        )
        assert response.status_code == 303
        assert (await client.get("/settings")).status_code == 200, (
            "the device that changed it stays in"
        )
        stale = await phone.get("/settings")
        assert stale.status_code == 303 and stale.headers["location"].startswith("/login")


async def test_password_change_needs_the_current_password(client, member):
    await sign_in(client, member)
    response = await post_form(
        client,
        "/settings/password",
        {"current_password": "not it at all", "new_password": "a brand new passphrase"},
        "/settings",
    )
    assert response.status_code == 422
    assert shows(response, "isn't your current password")


async def test_sign_out_everywhere_revokes_cookies_and_api_tokens(client, make_client, member):
    headers = await api_token(client, member)
    async with make_client() as other:
        await sign_in(other, member)
        await sign_in(client, member)
        await post_form(client, "/settings/sign-out-everywhere", {}, "/settings")
        assert (await other.get("/settings")).status_code == 303
        assert (await client.get("/api/v1/me", headers=headers)).status_code == 401


async def test_a_tampered_session_cookie_is_ignored(client, member):
    await sign_in(client, member)
    cookie = client.cookies["kindred_session"]
    client.cookies.set(
        "kindred_session", cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB")
    )
    response = await client.get("/settings")
    assert response.status_code == 303


async def test_session_cookie_is_httponly_and_samesite_lax(client, member):
    token = await csrf_from(client)
    response = await client.post(
        "/login", data={"username": member["username"], "password": PASSWORD, "csrf_token": token}
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


async def test_sign_in_redirects_only_to_local_pages(client, member):
    token = await csrf_from(client)
    response = await client.post(
        "/login",
        data={
            "username": member["username"],
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example/x",
        },
    )
    assert response.headers["location"] == "/"


async def test_profile_page_shows_display_name_and_bio_but_no_email(client, settings, member):
    viewer = await accounts.load_viewer(member["id"], 0)
    await accounts.update_profile(viewer, bio="Diagnosed in **2004**. Happy to help.")
    response = await client.get(f"/u/{member['username']}")
    assert response.status_code == 200
    assert "<strong>2004</strong>" in response.text
    assert "@" + member["username"] in response.text


async def test_profile_of_an_unknown_person_is_a_friendly_404(client):
    response = await client.get("/u/nobody-at-all")
    assert response.status_code == 404
    assert shows(response, "couldn't find")


async def test_settings_form_shows_errors_and_keeps_text(client, member):
    await sign_in(client, member)
    response = await post_form(
        client, "/settings", {"display_name": "", "bio": "my bio draft"}, "/settings"
    )
    assert response.status_code == 422
    assert shows(response, "Display name can't be empty")
    assert "my bio draft" in response.text


async def test_sign_in_is_rate_limited_per_address(app, client, member):
    app.state.settings = app.state.settings.with_changes(
        rate_limits={**app.state.settings.rate_limits, "sign_in_ip": RateLimit(3, 300)}
    )
    token = await csrf_from(client)
    statuses = []
    for _ in range(4):
        response = await client.post(
            "/login",
            data={
                "username": member["username"],
                "password": "wrong password!",
                "csrf_token": token,
            },
        )
        statuses.append(response.status_code)
    assert statuses == [422, 422, 422, 429]
    assert int(response.headers["retry-after"]) > 0


async def test_failed_guesses_limit_one_account_but_not_others(app, client, member, other_member):
    app.state.settings = app.state.settings.with_changes(
        rate_limits={**app.state.settings.rate_limits, "sign_in_user": RateLimit(2, 300)}
    )
    token = await csrf_from(client)
    for _ in range(2):
        await client.post(
            "/login",
            data={
                "username": member["username"],
                "password": "wrong password!",
                "csrf_token": token,
            },
        )
    blocked = await client.post(
        "/login", data={"username": member["username"], "password": PASSWORD, "csrf_token": token}
    )
    assert blocked.status_code == 429
    other = await client.post(
        "/login",
        data={"username": other_member["username"], "password": PASSWORD, "csrf_token": token},
    )
    assert other.status_code == 303


async def test_registration_is_rate_limited_per_address(app, client):
    app.state.settings = app.state.settings.with_changes(
        rate_limits={**app.state.settings.rate_limits, "register_ip": RateLimit(2, 3600)}
    )
    statuses = [(await register(client, username=f"person{i}")).status_code for i in range(3)]
    assert statuses[:2] == [303, 303]
    assert statuses[2] == 429


async def test_passwords_are_stored_as_scrypt_hashes(settings, member):
    from forum.tables import User

    row = await User.select(User.password_hash).where(User.id == member["id"]).first()
    assert row["password_hash"].startswith("scrypt$")
    assert PASSWORD not in row["password_hash"]


async def test_admin_changes_roles_and_members_cannot(settings, admin, member):
    from forum.errors import Forbidden
    from tests.conftest import viewer_of

    updated = await accounts.set_role(await viewer_of(admin), member["username"], "clinician")
    assert updated["role"] == "clinician"
    with pytest.raises(Forbidden):
        await accounts.set_role(await viewer_of(member), "ada_admin", "member")
