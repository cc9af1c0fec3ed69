"""Settings come from KINDRED_* variables once, with safe defaults."""

from __future__ import annotations

import stat

import pytest

from forum.settings import RateLimit, Settings


def test_defaults_use_sqlite_in_the_data_dir_and_generate_a_private_secret(tmp_path):
    settings = Settings.from_env({"KINDRED_DATA_DIR": str(tmp_path / "var")})
    assert settings.database_url == f"sqlite:///{tmp_path / 'var' / 'kindred.db'}"
    secret_file = tmp_path / "var" / "secret_key"
    assert secret_file.read_text() == settings.secret_key and len(settings.secret_key) > 40
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    again = Settings.from_env({"KINDRED_DATA_DIR": str(tmp_path / "var")})
    assert again.secret_key == settings.secret_key, "the key survives restarts"
    assert not settings.debug and settings.search_backend == "whoosh"
    assert settings.base_url == "http://127.0.0.1:8000" and not settings.https


def test_values_from_the_environment_win(tmp_path):
    settings = Settings.from_env(
        {
            "KINDRED_DATA_DIR": str(tmp_path),
            "KINDRED_DATABASE_URL": "postgresql://kindred@db.internal:5432/kindred",
            "KINDRED_SECRET_KEY": "from-the-environment",
            "KINDRED_BASE_URL": "https://community.example.org/",
            "KINDRED_DEBUG": "true",
            "KINDRED_SEARCH": "postgres",
        }
    )
    assert settings.secret_key == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()
    assert settings.https and settings.base_url == "https://community.example.org"
    assert settings.debug and settings.search_backend == "postgres" and not settings.is_sqlite


@pytest.mark.parametrize(
    "environ",
    [
        {"KINDRED_DATABASE_URL": "mysql://x"},
        {"KINDRED_SEARCH": "elastic"},
        {"KINDRED_SEARCH": "postgres"},
        {"KINDRED_SEARCH_WRITER": "elsewhere"},
        {"KINDRED_RATE_LIMITS": "posts=1/60"},
        {"KINDRED_RATE_LIMITS": "post_user=lots"},
        {"KINDRED_RATE_LIMITS": "post_user=0/60"},
    ],
)
def test_impossible_settings_fail_fast_with_the_reason(tmp_path, environ):
    with pytest.raises(ValueError, match="KINDRED_"):
        Settings.from_env({"KINDRED_DATA_DIR": str(tmp_path), "KINDRED_SECRET_KEY": "k", **environ})


def test_rate_limits_and_the_search_writer_can_be_set_from_the_environment(tmp_path):
    settings = Settings.from_env(
        {
            "KINDRED_DATA_DIR": str(tmp_path),
            "KINDRED_SECRET_KEY": "k",
            "KINDRED_RATE_LIMITS": " post_user=300/60, sign_in_ip=1000/300 ",
            "KINDRED_SEARCH_WRITER": "separate",
        }
    )
    assert settings.rate_limits["post_user"] == RateLimit(300, 60)
    assert settings.rate_limits["sign_in_ip"] == RateLimit(1000, 300)
    assert settings.rate_limits["register_ip"] == RateLimit(5, 3600), "the others stay"
    assert settings.search_writer == "separate"
    default = Settings.from_env({"KINDRED_DATA_DIR": str(tmp_path), "KINDRED_SECRET_KEY": "k"})
    assert default.search_writer == "inline" and default.rate_limits["post_user"] == RateLimit(
        30, 600
    )


async def test_https_base_url_makes_cookies_secure_and_adds_hsts(settings):
    import httpx

    from forum.app import create_app

    app = create_app(settings.with_changes(base_url="https://community.example.org"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="https://community.example.org"
        ) as client:
            response = await client.get("/login")
    assert "secure" in response.headers["set-cookie"].lower()
    assert response.headers["strict-transport-security"].startswith("max-age=")
