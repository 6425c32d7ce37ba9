"""Production settings: the deploy check passes, secrets are required, headers are set."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "SECRET_KEY": "a-long-random-production-secret-" + "x" * 40,
    "ALLOWED_HOSTS": "coaching.example.com",
    "DATABASE_URL": "postgres://coaching:secret@db:5432/coaching",
    "REDIS_URL": "redis://redis:6379/0",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
}


def run_manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV}
    clean.pop("SECURE_SSL_REDIRECT", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = run_manage("check", env={**env, "SECRET_KEY": ""})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_cookies_are_secure_and_host_prefixed():
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS > 0, s.CELERY_TASK_ALWAYS_EAGER,"
        " s.MAILERS['default']['BACKEND'], s.MAILERS['default']['OPTIONS']['host'])"
    )
    result = run_manage("shell", "-v0", "-c", code, env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "__Host-sessionid",
        "__Host-csrftoken",
        "True",
        "True",
        "True",
        "False",
        "django.core.mail.backends.smtp.EmailBackend",
        "smtp.example.com",
    ]


def test_development_needs_nothing_and_runs_tasks_in_process():
    code = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER)"
    )
    env = {"DJANGO_DEBUG": "1", "SECRET_KEY": "", "DATABASE_URL": "", "REDIS_URL": ""}
    clean = {k: v for k, v in os.environ.items() if k not in ("CELERY_BROKER_URL",)}
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v0", "-c", code],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True"]


def test_french_first_in_paris_time():
    assert settings.LANGUAGE_CODE == "fr"
    assert [code for code, _name in settings.LANGUAGES] == ["fr", "en"]
    assert settings.TIME_ZONE == "Europe/Paris"
    assert settings.USE_TZ


def test_celery_is_configured_not_to_lose_tasks():
    from coaching.celery import app

    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    options = conf.broker_transport_options
    # A killed worker's task comes back within about 30 s.
    assert options["visibility_timeout"] + options["unacked_restore_interval"] <= 40
    assert options["unacked_restore_throttle"] == 1
    assert conf.task_time_limit < options["visibility_timeout"]


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy(client):
    response = client.get("/connexion/")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    # Inline code only ever runs with the per-request nonce.
    assert "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_french_catalogue_is_complete_and_compiled():
    po = ROOT / "engagements" / "locale" / "fr" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    if not shutil.which("msgfmt"):
        pytest.skip("gettext's msgfmt is not installed")
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "-", str(po)],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    statistics = result.stderr.decode()
    assert "untranslated" not in statistics and "fuzzy" not in statistics, statistics
    assert result.stdout == mo.read_bytes(), "run `make messages`: django.mo is stale"
