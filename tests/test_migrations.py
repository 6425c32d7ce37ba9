"""The migrations describe the models exactly and apply on the configured database."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from .conftest import require_service

pytestmark = pytest.mark.django_db


def test_models_and_migrations_agree():
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def test_every_migration_is_applied_to_the_test_database():
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    assert plan == []


@pytest.mark.services
def test_migrations_run_on_postgresql_with_their_constraints():
    require_service("PostgreSQL", connection.vendor == "postgresql")
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "engagements_engagement")
    assert "engagement_ends_after_start" in constraints
    assert constraints["engagement_ends_after_start"]["check"]


def test_migrating_back_to_zero_and_forward_works(transactional_db):
    call_command("migrate", "engagements", "zero", verbosity=0)
    call_command("migrate", verbosity=0)
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
