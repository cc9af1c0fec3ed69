"""The session cookie: Starlette's format, checked once and remembered, never trusted blindly."""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from typing import Any

import httpx
import itsdangerous
import pytest

from forum import auth
from forum.app import SESSION_COOKIE, SESSION_MAX_AGE
from forum.auth import SessionCookie
from forum.web.session_cookie import cookie_value
from tests.conftest import csrf_from, sign_in

SECRET = "test-secret-key-not-for-production"


def starlettes_cookie(session: dict[str, Any], secret: str = SECRET) -> str:
    """A cookie as Starlette's SessionMiddleware wrote it, before Kindred wrote its own."""
    data = b64encode(json.dumps(session).encode("utf-8"))
    return itsdangerous.TimestampSigner(secret).sign(data).decode("utf-8")


def test_a_cookie_starlette_wrote_still_reads_as_its_session() -> None:
    cookie = SessionCookie(SECRET, max_age=60)
    assert cookie.read(starlettes_cookie({"uid": 7, "epoch": 0})) == {"uid": 7, "epoch": 0}


def test_a_written_cookie_reads_back_and_starlette_would_accept_it() -> None:
    cookie = SessionCookie(SECRET, max_age=60)
    text = cookie.write({"uid": 7, "csrf": "t"})
    assert cookie.read(text) == {"uid": 7, "csrf": "t"}
    signed = itsdangerous.TimestampSigner(SECRET).unsign(text.encode(), max_age=60)
    assert json.loads(b64decode(signed)) == {"uid": 7, "csrf": "t"}


def test_a_tampered_cookie_is_refused_even_after_the_genuine_one_was_remembered() -> None:
    cookie = SessionCookie(SECRET, max_age=60)
    genuine = cookie.write({"uid": 7})
    assert cookie.read(genuine) == {"uid": 7}
    forged_payload = b64encode(json.dumps({"uid": 1}).encode()).decode()
    forged = forged_payload + genuine[genuine.index(".") :]
    assert cookie.read(forged) is None
    assert cookie.read(starlettes_cookie({"uid": 1}, secret="another key")) is None
    assert cookie.read(genuine[:-2]) is None
    assert cookie.read("not a cookie at all") is None


def test_a_remembered_cookie_stops_working_once_it_is_too_old(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cookie = SessionCookie(SECRET, max_age=60)
    text = cookie.write({"uid": 7})
    assert cookie.read(text) == {"uid": 7}
    now = auth.time.time()
    monkeypatch.setattr(auth.time, "time", lambda: now + 61)
    assert cookie.read(text) is None


def test_each_read_is_a_fresh_session_a_request_may_change() -> None:
    cookie = SessionCookie(SECRET, max_age=60)
    text = cookie.write({"uid": 7})
    first = cookie.read(text)
    assert first is not None
    first["uid"] = 99
    assert cookie.read(text) == {"uid": 7}


def test_only_so_many_cookies_are_remembered() -> None:
    cookie = SessionCookie(SECRET, max_age=60, remember=3)
    texts = [cookie.write({"uid": number}) for number in range(5)]
    assert [cookie.read(text) for text in texts] == [{"uid": number} for number in range(5)]
    assert len(cookie._checked) == 3


def test_the_session_cookie_is_found_among_others_by_its_exact_name() -> None:
    headers = [(b"cookie", b"other=1; x_kindred_session=wrong; kindred_session=right; z=2")]
    assert cookie_value(headers, SESSION_COOKIE) == "right"
    assert cookie_value([(b"cookie", b"other=1")], SESSION_COOKIE) is None
    assert cookie_value([], SESSION_COOKIE) is None


async def test_a_page_sends_the_cookie_again_only_when_the_session_changed(
    client: httpx.AsyncClient, member: dict[str, Any]
) -> None:
    await sign_in(client, member)
    assert "set-cookie" in (await client.get("/")).headers  # shows and forgets the welcome
    response = await client.get("/")
    assert response.status_code == 200
    assert "set-cookie" not in response.headers
    assert "Cookie" in response.headers["vary"]
    signed_in = client.cookies[SESSION_COOKIE]

    response = await client.post("/logout", data={"csrf_token": await csrf_from(client, "/")})
    written = response.headers["set-cookie"]
    assert written.startswith(f"{SESSION_COOKIE}=")
    assert "httponly" in written.lower() and "samesite=lax" in written.lower()
    assert client.cookies.get(SESSION_COOKIE) != signed_in
    assert 'action="/logout"' not in (await client.get("/")).text


async def test_a_session_cookie_from_before_the_upgrade_keeps_its_reader_signed_in(
    client: httpx.AsyncClient, member: dict[str, Any]
) -> None:
    await sign_in(client, member)
    session = SessionCookie(SECRET, max_age=SESSION_MAX_AGE).read(client.cookies[SESSION_COOKIE])
    assert session is not None and session["uid"] == member["id"]
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, starlettes_cookie(session))
    response = await client.get("/")
    assert 'action="/logout"' in response.text
