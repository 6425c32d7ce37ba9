"""``manage.py serve``: the development server, with the periodic jobs when there is no broker."""

from django.conf import settings
from django.contrib.staticfiles.management.commands.runserver import (
    Command as RunserverCommand,
)

from engagements import scheduler


class Command(RunserverCommand):
    help = (
        "Serve like runserver; with no broker configured (tasks run in-process), also run "
        "Celery beat's periodic jobs in-process: reminders, pending seals, purges."
    )

    def inner_run(self, *args, **options):
        # In the serving process only (not the autoreloader's watcher).
        if settings.CELERY_TASK_ALWAYS_EAGER:
            scheduler.start()
        super().inner_run(*args, **options)
