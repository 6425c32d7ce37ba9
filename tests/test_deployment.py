"""docker-compose.yml and the Dockerfile stay consistent with the settings."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS = (ROOT / "coaching" / "settings.py").read_text()


def test_compose_has_the_production_services():
    assert set(COMPOSE["services"]) == {"migrate", "web", "worker", "beat", "postgres", "redis"}
    assert "gunicorn coaching.wsgi" in COMPOSE["services"]["web"]["command"]
    assert COMPOSE["services"]["worker"]["command"].startswith("celery -A coaching worker")
    assert COMPOSE["services"]["beat"]["command"].startswith("celery -A coaching beat")


def test_app_services_share_one_configuration():
    names = ("migrate", "web", "worker", "beat")
    environments = [COMPOSE["services"][name]["environment"] for name in names]
    assert all(environment == environments[0] for environment in environments)


def test_app_processes_start_once_migrations_have_run():
    """No connection kept across a schema change holds a stale prepared statement."""
    assert COMPOSE["services"]["migrate"]["command"] == "python manage.py migrate --no-input"
    assert COMPOSE["services"]["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        assert "migrate" not in COMPOSE["services"][name]["command"]
        needs = COMPOSE["services"][name]["depends_on"]
        assert needs["migrate"] == {"condition": "service_completed_successfully"}


def test_every_variable_given_to_the_app_is_read_by_the_settings():
    read = set(re.findall(r'env(?:\.\w+)?\(\s*"([A-Z_]+)"', SETTINGS))
    given = set(COMPOSE["services"]["web"]["environment"])
    assert given - read == set()


def test_production_services_point_at_postgres_and_redis():
    environment = COMPOSE["services"]["web"]["environment"]
    assert environment["DJANGO_DEBUG"] == "0"
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert environment["DATABASE_URL"].endswith("@postgres:5432/coaching")
    assert environment["REDIS_URL"] == "redis://redis:6379/0"


def test_worker_and_web_share_the_media_volume():
    for name in ("web", "worker"):
        assert "media:/app/media" in COMPOSE["services"][name]["volumes"]


def test_the_worker_can_seal_documents():
    environment = COMPOSE["services"]["worker"]["environment"]
    assert environment["SIGNING_KEY_PATH"].startswith("/run/secrets/")
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "libpango" in dockerfile  # WeasyPrint


def test_dockerfile_serves_with_gunicorn_as_an_unprivileged_user():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.13" in dockerfile
    assert "USER app" in dockerfile
    assert "gunicorn" in dockerfile
