"""Every unsafe form request needs the session's CSRF token; API writes by cookie need it too."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, csrf_from, shows, sign_in


@pytest.mark.parametrize("token", [None, "", "forged-token"])
async def test_sign_in_without_the_right_csrf_token_is_refused(client, member, token):
    await csrf_from(client)
    data = {"username": member["username"], "password": PASSWORD}
    if token is not None:
        data["csrf_token"] = token
    response = await client.post("/login", data=data)
    assert response.status_code == 403
    assert shows(response, "This form has expired")
    assert (
        "kindred_session" not in response.headers.get("set-cookie", "")
        or "uid" not in response.text
    )


async def test_replying_with_another_sessions_token_is_refused(
    client, make_client, member, community, thread_factory
):
    thread = await thread_factory(community=community, author=member)
    await sign_in(client, member)
    async with make_client() as attacker:
        foreign_token = await csrf_from(attacker, "/login")
    response = await client.post(
        f"/t/{thread['id']}/reply", data={"body": "Forged", "csrf_token": foreign_token}
    )
    assert response.status_code == 403
    page = await client.get(f"/t/{thread['id']}")
    assert "Forged" not in page.text


async def test_joining_a_community_requires_the_token(client, outsider, community):
    await sign_in(client, outsider)
    response = await client.post(f"/c/{community['slug']}/join", data={})
    assert response.status_code == 403


async def test_api_write_signed_in_by_cookie_needs_the_csrf_header(client, member, community):
    await sign_in(client, member)
    body = {"title": "A question by cookie", "body": "Hello"}
    refused = await client.post(f"/api/v1/communities/{community['slug']}/threads", json=body)
    assert refused.status_code == 403
    token = await csrf_from(client, "/")
    accepted = await client.post(
        f"/api/v1/communities/{community['slug']}/threads",
        json=body,
        headers={"X-CSRF-Token": token},
    )
    assert accepted.status_code == 201
