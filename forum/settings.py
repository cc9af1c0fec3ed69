"""Kindred's settings: read once from KINDRED_* environment variables, with safe defaults.

This is the only module that reads the environment. Everything else receives a Settings.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` events per `window` seconds for one key."""

    limit: int
    window: int


DEFAULT_RATE_LIMITS = {
    "sign_in_ip": RateLimit(20, 300),
    "sign_in_user": RateLimit(10, 300),
    "register_ip": RateLimit(5, 3600),
    "post_user": RateLimit(30, 600),
}


@dataclass(frozen=True)
class Settings:
    """Everything Kindred needs to know about where it runs."""

    data_dir: Path
    database_url: str
    secret_key: str
    base_url: str = DEFAULT_BASE_URL
    debug: bool = False
    search_backend: str = "whoosh"
    # scrypt cost for new password hashes; tests lower it, stored hashes carry their own.
    password_cost: int = 2**15
    token_max_age: int = 30 * 24 * 3600
    max_body_bytes: int = 1024 * 1024
    rate_limits: Mapping[str, RateLimit] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    db_pool_min: int = 1
    db_pool_max: int = 10
    # "inline": every app process runs a search writer (they take turns); "separate": none
    # does, and `kindred search-writer` runs it as its own process (docs/deploy.md).
    search_writer: str = "inline"
    # Outgoing e-mail: through this SMTP server when a host is set, else written as .eml files
    # into <data dir>/mail/ (so it works on a laptop and in tests).
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    mail_from: str = "Kindred <kindred@localhost>"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    @property
    def https(self) -> bool:
        """Secure cookies only make sense when the site is served over HTTPS."""
        return urlparse(self.base_url).scheme == "https"

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    @property
    def index_dir(self) -> Path:
        return self.data_dir / "index"

    @property
    def mail_dir(self) -> Path:
        return self.data_dir / "mail"

    def with_changes(self, **changes: object) -> Settings:
        """A copy with some values replaced (tests and the CLI use this)."""
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read KINDRED_* variables; generate the secret key into the data dir on first run."""
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("KINDRED_DATA_DIR", "var")).resolve()
        database_url = database_url_from_env(env)
        secret = env.get("KINDRED_SECRET_KEY") or load_or_create_secret(data_dir)
        search = env.get("KINDRED_SEARCH", "whoosh").strip().lower()
        if search not in ("whoosh", "postgres"):
            raise ValueError(f"KINDRED_SEARCH must be 'whoosh' or 'postgres', not {search!r}")
        if search == "postgres" and database_url.startswith("sqlite:"):
            raise ValueError("KINDRED_SEARCH=postgres needs KINDRED_DATABASE_URL=postgresql://…")
        search_writer = env.get("KINDRED_SEARCH_WRITER", "inline").strip().lower()
        if search_writer not in ("inline", "separate"):
            raise ValueError(
                f"KINDRED_SEARCH_WRITER must be 'inline' or 'separate', not {search_writer!r}"
            )
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            secret_key=secret,
            base_url=env.get("KINDRED_BASE_URL", DEFAULT_BASE_URL).rstrip("/"),
            debug=env.get("KINDRED_DEBUG", "").lower() in ("1", "true", "yes", "on"),
            search_backend=search,
            search_writer=search_writer,
            rate_limits=rate_limits_from(env.get("KINDRED_RATE_LIMITS", "")),
            smtp_host=env.get("KINDRED_SMTP_HOST", "").strip(),
            smtp_port=_port(env.get("KINDRED_SMTP_PORT", "")),
            smtp_user=env.get("KINDRED_SMTP_USER", ""),
            smtp_password=env.get("KINDRED_SMTP_PASSWORD", ""),
            smtp_starttls=env.get("KINDRED_SMTP_STARTTLS", "on").lower()
            not in ("0", "false", "no", "off"),
            mail_from=env.get("KINDRED_MAIL_FROM", "").strip() or "Kindred <kindred@localhost>",
        )


def rate_limits_from(value: str) -> dict[str, RateLimit]:
    """The default limits with some replaced: "post_user=300/600,sign_in_ip=1000/60" (events per
    seconds). For load tests and unusual sites; an unknown name or a bad figure fails start-up."""
    limits = dict(DEFAULT_RATE_LIMITS)
    for part in filter(None, (piece.strip() for piece in value.split(","))):
        name, _, figures = part.partition("=")
        limit, _, window = figures.partition("/")
        name = name.strip()
        if name not in limits or not limit.strip().isdigit() or not window.strip().isdigit():
            raise ValueError(
                f"KINDRED_RATE_LIMITS: {part!r} is not NAME=EVENTS/SECONDS with NAME one of "
                f"{', '.join(sorted(limits))}"
            )
        if int(limit) < 1 or int(window) < 1:
            raise ValueError(f"KINDRED_RATE_LIMITS: {part!r} needs figures of at least 1")
        limits[name] = RateLimit(int(limit), int(window))
    return limits


def _port(value: str) -> int:
    if not value.strip():
        return 587
    if not value.strip().isdigit() or not 0 < int(value) < 65536:
        raise ValueError(f"KINDRED_SMTP_PORT must be a port number, not {value!r}")
    return int(value)


def database_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The database URL alone, for Piccolo's conf module which must not create files."""
    env = os.environ if environ is None else environ
    url = env.get("KINDRED_DATABASE_URL")
    if url:
        if not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("KINDRED_DATABASE_URL must start with sqlite:/// or postgresql://")
        return url
    data_dir = Path(env.get("KINDRED_DATA_DIR", "var")).resolve()
    return f"sqlite:///{data_dir / 'kindred.db'}"


def piccolo_conf_module() -> str:
    """Point Piccolo at our conf module (it reads PICCOLO_CONF) unless the caller chose one."""
    return os.environ.setdefault("PICCOLO_CONF", "forum.piccolo_conf")


def load_or_create_secret(data_dir: Path) -> str:
    """The signing key lives in the data dir, readable by its owner only."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
