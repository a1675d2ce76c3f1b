"""Settings come from the environment, with safe development defaults and a clean deploy check."""

import os
import runpy
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

SETTINGS_FILE = Path(__file__).resolve().parent.parent / "pinboard" / "settings.py"
PROJECT = SETTINGS_FILE.parent.parent
CONFIG_VARIABLES = [
    "DATABASE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "MEDIA_ROOT", "EMAIL_BACKEND",
    "REDIS_URL", "HTTPS", "DATABASE_CONNECT_TIMEOUT", "MAX_UPLOAD_BYTES", "EMAIL_HOST",
]  # fmt: skip


def load_settings(monkeypatch, **env) -> dict:
    for name in CONFIG_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def test_development_defaults_use_local_postgres_and_console_email(monkeypatch):
    settings = load_settings(monkeypatch)
    assert settings["DEBUG"] is True
    database = settings["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("127.0.0.1", 5432, "pinboard")
    assert database["CONN_HEALTH_CHECKS"] is True
    assert settings["MAILERS"]["default"]["BACKEND"].endswith("console.EmailBackend")
    assert settings["CACHES"]["default"]["BACKEND"].endswith("DatabaseCache")


def test_environment_overrides_every_setting(monkeypatch, tmp_path):
    settings = load_settings(
        monkeypatch,
        DATABASE_URL="postgres://app:pw@db.internal:6543/pins",
        SECRET_KEY="s" * 60,
        DEBUG="false",
        ALLOWED_HOSTS="pins.example.com, www.pins.example.com",
        MEDIA_ROOT=str(tmp_path),
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="smtp.example.com",
        REDIS_URL="redis://127.0.0.1:6379/1",
        MAX_UPLOAD_BYTES="1000",
    )
    database = settings["DATABASES"]["default"]
    assert (database["HOST"], database["PORT"], database["NAME"]) == ("db.internal", 6543, "pins")
    assert (database["USER"], database["PASSWORD"]) == ("app", "pw")
    assert settings["SECRET_KEY"] == "s" * 60
    assert settings["DEBUG"] is False
    assert settings["ALLOWED_HOSTS"] == ["pins.example.com", "www.pins.example.com"]
    assert settings["MEDIA_ROOT"] == tmp_path
    assert settings["MAILERS"]["default"]["BACKEND"].endswith("smtp.EmailBackend")
    assert settings["MAILERS"]["default"]["OPTIONS"]["host"] == "smtp.example.com"
    assert settings["CACHES"]["default"]["BACKEND"].endswith("RedisCache")
    assert settings["MAX_UPLOAD_BYTES"] == 1000
    assert settings["SESSION_COOKIE_SECURE"] is True


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY must be set"):
        load_settings(monkeypatch, DEBUG="false")


def test_a_database_other_than_postgresql_is_refused(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="PostgreSQL only"):
        load_settings(monkeypatch, DATABASE_URL="sqlite:///db.sqlite3")


def test_a_mistyped_boolean_is_refused_with_its_name(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="DEBUG must be true or false"):
        load_settings(monkeypatch, DEBUG="maybe")


def test_pages_keep_persistent_connections_and_give_up_connecting_quickly(monkeypatch):
    # No pool (pages never run under Django's ASGI handler, see pinboard/asgi.py): each page
    # thread keeps its connection, and an unreachable database fails within seconds (a 503).
    database = load_settings(monkeypatch)["DATABASES"]["default"]
    assert database["CONN_MAX_AGE"] == 60
    assert "pool" not in database["OPTIONS"]
    assert database["OPTIONS"]["connect_timeout"] == 3


def test_deploy_check_is_clean_in_production_settings():
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "pins.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
