"""
No double booking: each session names the coach who holds it, and on
PostgreSQL an exclusion constraint refuses two planned meetings of one coach
that overlap (btree_gist lets ``=`` on the coach sit beside ``&&`` on the
time range). The range is computed in UTC with immutable functions only, as
an index expression requires. SQLite has no such constraint: the services'
per-coach lock and check guard it there.
"""

import django.db.models.deletion
from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations, models

CONSTRAINT = "coach_planned_sessions_do_not_overlap"

ADD = f"""
ALTER TABLE engagements_coachingsession ADD CONSTRAINT {CONSTRAINT}
EXCLUDE USING gist (
    coach_id WITH =,
    tsrange(
        starts_at AT TIME ZONE 'UTC',
        (starts_at AT TIME ZONE 'UTC') + make_interval(mins => duration_minutes)
    ) WITH &&
) WHERE (status = 'planned')
"""
DROP = f"ALTER TABLE engagements_coachingsession DROP CONSTRAINT {CONSTRAINT}"


def fill_coach(apps, schema_editor):
    CoachingSession = apps.get_model("engagements", "CoachingSession")
    for session in CoachingSession.objects.select_related("engagement").iterator():
        session.coach_id = session.engagement.coach_id
        session.save(update_fields=["coach"])
    if schema_editor.connection.vendor == "postgresql":
        # Fire the deferred foreign-key checks now: the next operation alters the table.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("engagements", "0009_hardening"),
    ]

    operations = [
        migrations.AddField(
            model_name="coachingsession",
            name="coach",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="sessions",
                to="engagements.coach",
                verbose_name="coach",
            ),
        ),
        migrations.RunPython(fill_coach, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="coachingsession",
            name="coach",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="sessions",
                to="engagements.coach",
                verbose_name="coach",
            ),
        ),
        BtreeGistExtension(),
        migrations.RunPython(_on_postgresql(ADD), _on_postgresql(DROP)),
    ]
