"""Input rules with messages a person can act on, collected per field.

Used by every service that takes text from people, whether it came from a form or JSON, so
the same limits hold everywhere. Wrong types become field errors, never exceptions.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from forum.errors import Invalid

# Control characters other than tab and newline break databases (PostgreSQL rejects NUL)
# and can hide text; they are removed rather than refused.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


class Form:
    """Collects cleaned values and per-field errors; `check()` raises Invalid if any."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def text(
        self,
        name: str,
        value: Any,
        *,
        label: str,
        max_length: int,
        min_length: int = 1,
        required: bool = True,
        multiline: bool = False,
    ) -> str:
        if value is None:
            value = ""
        if not isinstance(value, str):
            self.errors[name] = f"{label} must be text."
            return ""
        cleaned = _CONTROL.sub("", unicodedata.normalize("NFC", value))
        cleaned = cleaned.replace("\r\n", "\n").replace("\r", "\n")
        if not multiline:
            cleaned = " ".join(cleaned.split())
        cleaned = cleaned.strip()
        if not cleaned:
            if required:
                self.errors[name] = f"{label} can't be empty."
            return ""
        if len(cleaned) < min_length:
            self.errors[name] = f"{label} needs at least {min_length} characters."
        elif len(cleaned) > max_length:
            self.errors[name] = (
                f"{label} can be at most {max_length:,} characters; this has {len(cleaned):,}."
            )
        return cleaned

    def choice(self, name: str, value: Any, choices: Iterable[str], *, label: str) -> str:
        options = tuple(choices)
        if not isinstance(value, str) or value not in options:
            self.errors[name] = f"{label} must be one of: {', '.join(options)}."
            return options[0]
        return value

    def boolean(self, name: str, value: Any, *, label: str) -> bool:
        if isinstance(value, bool):
            return value
        if value in (None, "", "0", "false", "off", "no"):
            return False
        if value in ("1", "true", "on", "yes"):
            return True
        self.errors[name] = f"{label} must be true or false."
        return False

    def fail(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    def check(self) -> None:
        if self.errors:
            raise Invalid(self.errors)


def positive_int(value: Any, default: int, *, maximum: int) -> int:
    """A page number or size from a query string, bounded, falling back on nonsense."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return max(1, min(number, maximum))
