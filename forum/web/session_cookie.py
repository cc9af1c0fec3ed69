"""The session in a signed cookie, as `request.session`: Starlette's SessionMiddleware, with
the cookie checked through forum.auth.SessionCookie, which remembers cookies it has checked.

The cookie's text, its flags and when it is sent are Starlette's: sent again only when the
session changed, cleared with an expiry in the past when a session was emptied, and
`Vary: Cookie` on every response that looked at the session.
"""

from __future__ import annotations

from typing import Literal

from starlette.middleware.sessions import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from forum.auth import SessionCookie

CLEARED = "null; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; "


def cookie_value(headers: list[tuple[bytes, bytes]], name: str) -> str | None:
    """The named cookie from a request's Cookie headers (the last one wins, as in Starlette)."""
    wanted = name.encode("latin-1")
    found = None
    for key, raw in headers:
        if key != b"cookie" or wanted not in raw:
            continue
        for chunk in raw.decode("latin-1").split(";"):
            key_text, equals, value = chunk.partition("=")
            if equals and key_text.strip() == name:
                found = value.strip()
    return found


class SessionCookies:
    """Puts the cookie's session in scope["session"] and sends it back when it changed."""

    def __init__(
        self,
        app: ASGIApp,
        cookie: SessionCookie,
        name: str,
        same_site: Literal["lax", "strict", "none"] = "lax",
        https_only: bool = False,
    ) -> None:
        self.app = app
        self.cookie = cookie
        self.name = name
        flags = "httponly; samesite=" + same_site
        if https_only:  # browsers refuse a Secure cookie over plain HTTP
            flags += "; secure"
        self.written = f"; path=/; Max-Age={cookie.max_age}; {flags}"
        self.cleared = f"{name}={CLEARED}{flags}".encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        value = cookie_value(scope["headers"], self.name)
        stored = self.cookie.read(value) if value else None
        scope["session"] = Session(stored) if stored is not None else Session()

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                session: Session = scope["session"]
                if session.accessed:
                    # A copy: a response may be sent more than once (a shared one).
                    headers = message["headers"] = list(message.get("headers", ()))
                    _add_vary_cookie(headers)
                    if session.modified and session:
                        text = f"{self.name}={self.cookie.write(session)}{self.written}"
                        headers.append((b"set-cookie", text.encode("latin-1")))
                    elif session.modified and stored is not None:
                        headers.append((b"set-cookie", self.cleared))
            await send(message)

        await self.app(scope, receive, send_with_session)


def _add_vary_cookie(headers: list[tuple[bytes, bytes]]) -> None:
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            headers[index] = (name, value + b", Cookie")
            return
    headers.append((b"vary", b"Cookie"))
