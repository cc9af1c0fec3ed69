"""Who is asking, for pages and the API: signed session cookies, bearer tokens and CSRF.

The session cookie (Starlette's, signed) holds the user id, the session epoch and a CSRF token.
A password change or "sign out everywhere" bumps the epoch, so old cookies and tokens stop
working at once.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request

from forum import accounts
from forum.auth import Signer, csrf_matches, new_csrf_token
from forum.errors import Forbidden, TooLarge
from forum.permissions import VISITOR, Viewer
from forum.settings import Settings

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MAX_FORM_FIELDS = 50


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def signer_of(request: Request) -> Signer:
    return request.app.state.signer


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def get_viewer(request: Request) -> Viewer:
    """The signed-in person (by bearer token or session cookie) or a visitor; cached per request."""
    cached = getattr(request.state, "viewer", None)
    if cached is not None:
        return cached
    viewer: Viewer | None = None
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        settings = settings_of(request)
        claims = signer_of(request).read_token(authorization[7:].strip(), settings.token_max_age)
        if claims is not None:
            viewer = await accounts.load_viewer(claims.user_id, claims.epoch)
        request.state.auth = "token" if viewer else "bad_token"
    else:
        session = request.session
        if "uid" in session:
            viewer = await accounts.load_viewer(session.get("uid"), session.get("epoch"))
        return remember_session_viewer(request, viewer)
    request.state.viewer = viewer or VISITOR
    return request.state.viewer


def session_user(request: Request) -> tuple[Any, Any] | None:
    """The (user id, epoch) this request's session cookie names, while nobody has looked them
    up yet: for a page that reads the viewer together with its own data (forum.threads).
    None for a visitor, a bearer token or a viewer already known."""
    if getattr(request.state, "viewer", None) is not None:
        return None
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return None
    session = request.session
    return (session.get("uid"), session.get("epoch")) if "uid" in session else None


def remember_session_viewer(request: Request, viewer: Viewer | None) -> Viewer:
    """Record who the session cookie turned out to name (None: revoked, so forget it and keep
    the CSRF token); what get_viewer returns from then on."""
    if viewer is None:
        request.session.pop("uid", None)
        request.session.pop("epoch", None)
    request.state.auth = "session" if viewer else None
    request.state.viewer = viewer or VISITOR
    return request.state.viewer


def sign_in(request: Request, user: dict[str, Any]) -> None:
    """Start a fresh session (never reuse one from before sign-in) for this person."""
    request.session.clear()
    request.session.update(uid=user["id"], epoch=user["session_epoch"], csrf=new_csrf_token())
    request.state.viewer = None


def sign_out(request: Request) -> None:
    request.session.clear()
    request.state.viewer = VISITOR


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (visitors' forms need one too)."""
    token = request.session.get("csrf")
    if not token:
        token = new_csrf_token()
        request.session["csrf"] = token
    return token


async def read_form(request: Request) -> FormData:
    """The submitted form, after checking its CSRF token."""
    try:
        form = await request.form(max_fields=MAX_FORM_FIELDS, max_files=0, max_part_size=256 * 1024)
    except TooLarge:
        raise
    except Exception as error:  # malformed multipart or too many fields
        raise Forbidden("We couldn't read that form. Please go back and try again.") from error
    if any("\x00" in key or "\x00" in str(item) for key, item in form.multi_items()):
        # As for JSON bodies: PostgreSQL can't compare text holding NUL (a username, say).
        form = FormData(
            [
                (
                    key.replace("\x00", ""),
                    item.replace("\x00", "") if isinstance(item, str) else item,
                )
                for key, item in form.multi_items()
            ]
        )
    if not csrf_matches(request.session.get("csrf"), str(form.get(CSRF_FIELD, ""))):
        raise Forbidden(
            "This form has expired or came from somewhere else. Please go back, reload the page "
            "and try again; what you typed may still be there."
        )
    return form


def check_api_csrf(request: Request) -> None:
    """Cookie-authenticated API writes must carry the CSRF token in a header."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if getattr(request.state, "auth", None) == "session" and not csrf_matches(
        request.session.get("csrf"), request.headers.get(CSRF_HEADER)
    ):
        raise Forbidden("Send the X-CSRF-Token header with requests signed in by cookie.")
