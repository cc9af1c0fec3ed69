"""Domain errors raised by services and turned into 4xx answers by the web and API layers."""

from __future__ import annotations

from collections.abc import Mapping


class KindredError(Exception):
    """Base of the errors a person can act on. `code` is stable; `message` is for people."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})


class NotSignedIn(KindredError):
    status = 401
    code = "not_signed_in"


class Forbidden(KindredError):
    status = 403
    code = "forbidden"


class NotFound(KindredError):
    """Also raised for what exists but the caller may not see, so existence never leaks."""

    status = 404
    code = "not_found"

    def __init__(self, message: str = "We couldn't find that page.") -> None:
        super().__init__(message)


class Conflict(KindredError):
    status = 409
    code = "conflict"


class TooLarge(KindredError):
    status = 413
    code = "too_large"


class Invalid(KindredError):
    """Input that breaks a rule; `fields` maps each field at fault to what to fix."""

    status = 422
    code = "invalid"

    def __init__(self, fields: Mapping[str, str], message: str | None = None) -> None:
        super().__init__(message or "Please check the highlighted fields.", fields)


class RateLimited(KindredError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: int, message: str | None = None) -> None:
        minutes = max(1, round(retry_after / 60))
        super().__init__(
            message
            or f"That's a lot of tries in a short time. Please wait about {minutes} minute"
            f"{'s' if minutes != 1 else ''} and try again."
        )
        self.retry_after = retry_after
