"""Passwords, signed tokens and CSRF: the only module that uses itsdangerous directly.

Passwords are hashed with scrypt (memory-hard, in the standard library); each hash carries its
own cost so the cost can rise without breaking old hashes. Bearer tokens and other signed
values carry the user's session epoch, so "sign out everywhere" revokes them too.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

_SCRYPT_R = 8
_SCRYPT_P = 1


def _scrypt(password: str, salt: bytes, n: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=_SCRYPT_R,
        p=_SCRYPT_P,
        maxmem=256 * n * _SCRYPT_R,
        dklen=32,
    )


def hash_password_sync(password: str, cost: int) -> str:
    """scrypt$n$r$p$salt$hash, all a verifier needs."""
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, cost)
    encode = base64.b64encode
    return (
        f"scrypt${cost}${_SCRYPT_R}${_SCRYPT_P}${encode(salt).decode()}${encode(digest).decode()}"
    )


def verify_password_sync(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt" or int(r) != _SCRYPT_R or int(p) != _SCRYPT_P:
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(password, base64.b64decode(salt), int(n))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(expected, actual)


async def hash_password(password: str, cost: int) -> str:
    """Hash off the event loop: scrypt takes tens of milliseconds on purpose."""
    return await asyncio.to_thread(hash_password_sync, password, cost)


async def verify_password(password: str, stored: str) -> bool:
    return await asyncio.to_thread(verify_password_sync, password, stored)


_dummy_hashes: dict[int, str] = {}


async def burn_verification(cost: int) -> None:
    """Spend as long as a real check would, so timing does not reveal which names exist."""
    if cost not in _dummy_hashes:
        _dummy_hashes[cost] = await hash_password("not-a-real-password", cost)
    await verify_password("x", _dummy_hashes[cost])


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    epoch: int


class Signer:
    """Signs and checks values for one secret key; each purpose has its own salt."""

    def __init__(self, secret_key: str) -> None:
        self._secret = secret_key

    def _serializer(self, purpose: str) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self._secret, salt=f"kindred.{purpose}")

    def sign(self, value: Any, purpose: str) -> str:
        return self._serializer(purpose).dumps(value)

    def unsign(self, token: str, purpose: str, max_age: int | None = None) -> Any | None:
        """The signed value, or None when the token is forged, tampered with or expired."""
        try:
            return self._serializer(purpose).loads(token, max_age=max_age)
        except (BadSignature, SignatureExpired, ValueError, TypeError):
            return None

    def issue_token(self, user_id: int, epoch: int) -> str:
        return self.sign({"u": user_id, "e": epoch}, "api-token")

    def read_token(self, token: str, max_age: int) -> TokenClaims | None:
        value = self.unsign(token, "api-token", max_age=max_age)
        if not isinstance(value, dict):
            return None
        user_id, epoch = value.get("u"), value.get("e")
        if not isinstance(user_id, int) or not isinstance(epoch, int):
            return None
        return TokenClaims(user_id, epoch)


class SessionCookie:
    """The session cookie's text: the session as JSON, base64, signed with the time it was
    signed, exactly as Starlette's SessionMiddleware writes it, so cookies issued before stay
    valid.

    A browser sends the same cookie with every request, and checking its signature again each
    time (itsdangerous's HMAC, base64 and parsing) was about a twentieth of a thread page. A
    cookie that checked out is remembered by its exact text; its age is still checked on every
    use, and only checked cookies are remembered, so a forged one is checked every time."""

    def __init__(self, secret_key: str, max_age: int, remember: int = 4096) -> None:
        self._signer = TimestampSigner(secret_key)
        self.max_age = max_age
        self._remember = remember
        self._checked: dict[str, tuple[str, int]] = {}  # cookie -> (session JSON, signed at)

    def read(self, cookie: str) -> dict[str, Any] | None:
        """The session the cookie holds, or None when it is forged, tampered with, expired or
        not a session."""
        checked = self._checked.get(cookie)
        if checked is None:
            try:
                payload, signed = self._signer.unsign(
                    cookie.encode("latin-1"), max_age=self.max_age, return_timestamp=True
                )
                checked = (base64.b64decode(payload).decode("utf-8"), int(signed.timestamp()))
            except (BadSignature, ValueError, binascii.Error, UnicodeError):
                return None
            if len(self._checked) >= self._remember:
                del self._checked[next(iter(self._checked))]  # the longest remembered
            self._checked[cookie] = checked
        text, signed_at = checked
        if not 0 <= int(time.time()) - signed_at <= self.max_age:
            self._checked.pop(cookie, None)
            return None
        try:
            session = json.loads(text)
        except ValueError:
            return None
        return session if isinstance(session, dict) else None

    def write(self, session: dict[str, Any]) -> str:
        """The cookie text for this session, signed now."""
        payload = base64.b64encode(json.dumps(session).encode("utf-8"))
        return self._signer.sign(payload).decode("utf-8")


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))


def now_epoch_seconds() -> int:
    return int(time.time())
