"""The JSON API: the contract of API.md, its error shape, and bad input of every kind."""

from __future__ import annotations

import pytest

from tests.conftest import api_token


async def test_register_then_token_then_me(client):
    created = await client.post(
        "/api/v1/auth/register", json={"username": "Maria_2", "password": "a long passphrase"}
    )
    assert created.status_code == 201
    assert created.json() == {"id": created.json()["id"], "username": "maria_2"}
    token = await client.post(
        "/api/v1/auth/token", json={"username": "maria_2", "password": "a long passphrase"}
    )
    assert token.status_code == 200
    assert token.json()["expires_at"].endswith("Z")
    me = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token.json()['token']}"}
    )
    assert me.status_code == 200
    assert me.json()["roles"] == ["member"] and me.json()["trust_level"] == 0


async def test_full_thread_flow_through_the_api(client, member, other_member, community):
    headers = await api_token(client, member)
    created = await client.post(
        f"/api/v1/communities/{community['slug']}/threads",
        json={
            "title": "Does daily weighing matter?",
            "body": "My dad has **heart failure**.",
            "kind": "ask_clinician",
        },
        headers=headers,
    )
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "published" and body["moderation"]["action"] == "publish"
    other = await api_token(client, other_member)
    reply = await client.post(
        f"/api/v1/threads/{body['id']}/posts", json={"body": "Yes, it does."}, headers=other
    )
    assert reply.status_code == 201
    thread = (await client.get(f"/api/v1/threads/{body['id']}")).json()
    assert thread["kind"] == "ask_clinician" and thread["community"] == community["slug"]
    assert [post["author"] for post in thread["posts"]] == [
        member["username"],
        other_member["username"],
    ]
    assert "<strong>heart failure</strong>" in thread["posts"][0]["body_html"]
    edited = await client.patch(
        f"/api/v1/posts/{reply.json()['id']}", json={"body": "Yes, every morning."}, headers=other
    )
    assert edited.status_code == 200 and "every morning" in edited.json()["body_html"]
    deleted = await client.delete(f"/api/v1/posts/{reply.json()['id']}", headers=other)
    assert deleted.json()["status"] == "deleted"


async def test_profile_api_never_shows_email_or_password_hash(client, member):
    response = await client.get(f"/api/v1/users/{member['username']}")
    assert response.status_code == 200
    assert "password" not in response.text and "email" not in response.text


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "field"),
    [
        (b"{not json", "application/json", 422, "body"),
        (b"", "application/json", 422, "body"),
        (b"[1, 2]", "application/json", 422, "body"),
        (b'"a string"', "application/json", 422, "body"),
        (b'{"title": 42, "body": ["x"]}', "application/json", 422, "title"),
        (b'{"title": null, "body": null}', "application/json", 422, "title"),
        (b'{"title": "ok title", "body": "x", "kind": "poll"}', "application/json", 422, "kind"),
        (b'{"title": "ok title", "body": "\\u0000\\u0000"}', "application/json", 422, "body"),
        (b"title=x", "application/x-www-form-urlencoded", 422, "body"),
        (b"\xff\xfe\x00", "application/json", 422, "body"),
    ],
)
async def test_bad_bodies_get_a_4xx_naming_the_field(
    client, member, community, raw, content_type, status, field
):
    headers = {**await api_token(client, member), "Content-Type": content_type}
    response = await client.post(
        f"/api/v1/communities/{community['slug']}/threads", content=raw, headers=headers
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid" and field in error["fields"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("GET", "/api/v1/users/ada%00", None, 400),
        ("GET", "/api/v1/communities/celiac%00/threads", None, 400),
        ("GET", "/api/v1/search?q=oats&community=celiac%00", None, 400),
        ("POST", "/api/v1/me/blocks", {"username": "nobody\x00"}, 404),
        ("POST", "/api/v1/follows", {"kind": "member", "target": "x\x00", "action": "follow"}, 404),
        ("POST", "/api/v1/auth/token", {"username": "ada\x00", "password": "x" * 12}, 422),
        ("POST", "/api/v1/me/experience", {"community": "no\x00", "relation": "patient"}, 404),
    ],
)
async def test_nul_in_an_address_or_a_name_is_a_4xx_not_a_server_error(
    client, member, method, path, body, status
):
    """PostgreSQL can't compare text holding NUL; schemathesis found these 500s there."""
    headers = await api_token(client, member)
    response = await client.request(method, path, json=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] != "server_error"


async def test_oversized_bodies_are_413(client, member, community):
    headers = {**await api_token(client, member), "Content-Type": "application/json"}
    huge = b'{"title": "big", "body": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = await client.post(
        f"/api/v1/communities/{community['slug']}/threads", content=huge, headers=headers
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


async def test_text_over_the_limit_is_422_with_the_field(client, member, community):
    headers = await api_token(client, member)
    response = await client.post(
        f"/api/v1/communities/{community['slug']}/threads",
        json={"title": "t" * 300, "body": "fine"},
        headers=headers,
    )
    assert response.status_code == 422
    assert "at most 200 characters" in response.json()["error"]["fields"]["title"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/threads/999999"),
        ("GET", "/api/v1/threads/99999999999999999999"),
        ("GET", "/api/v1/posts/0"),
        ("GET", "/api/v1/communities/no-such-place"),
        ("GET", "/api/v1/users/nobody-here"),
        ("GET", "/api/v1/nothing-here"),
    ],
)
async def test_unknown_ids_are_404_in_the_error_shape(client, method, path):
    response = await client.request(method, path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_writes_without_a_token_are_401(client, community):
    response = await client.post(
        f"/api/v1/communities/{community['slug']}/threads",
        json={"title": "hello there", "body": "x"},
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_signed_in"


async def test_a_forged_token_is_401_even_on_public_routes(client, community):
    response = await client.get(
        "/api/v1/communities", headers={"Authorization": "Bearer forged.token.value"}
    )
    assert response.status_code == 401


async def test_wrong_method_is_405_not_500(client):
    response = await client.put("/api/v1/communities")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_per_page_is_bounded(client, community):
    response = await client.get("/api/v1/communities?per_page=100000&page=-1")
    assert response.status_code == 200
    assert response.json()["per_page"] == 100 and response.json()["page"] == 1


async def test_openapi_describes_every_route(app, client):
    from starlette.routing import Route

    document = (await client.get("/api/v1/openapi.json")).json()
    assert document["openapi"].startswith("3.")
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    for route in app.routes:
        if isinstance(route, Route) and route.path.startswith("/api/v1"):
            path = route.path.replace("{id:int}", "{id}")
            for method in route.methods - {"HEAD"}:
                assert (method, path) in documented, (method, path)
    thread_post = document["paths"]["/api/v1/communities/{slug}/threads"]["post"]
    assert thread_post["requestBody"]["content"]["application/json"]["schema"]["required"] == [
        "title",
        "body",
    ]
    assert "422" in thread_post["responses"]


async def test_security_headers_and_csp_without_inline_script(client):
    response = await client.get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    # Images only from this site: other sites would learn who reads what (forum.content).
    assert "img-src 'self';" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "<script" not in response.text
