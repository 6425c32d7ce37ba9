"""Check the audit log's hash chain: ``python manage.py verify_audit``."""

from django.core.management.base import BaseCommand, CommandError

from engagements import audit


class Command(BaseCommand):
    help = (
        "Check that no audit event was changed or removed: each event's hash "
        "and its link to the one before. Exits with an error at the first broken link."
    )

    def handle(self, *args, **options):
        result = audit.verify()
        if not result.ok:
            raise CommandError(
                f"Audit log broken at event {result.broken_at}: {result.reason}. "
                f"{result.checked} events before it are intact."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit log intact: {result.checked} events, chain ends {result.last_hash[:16]}…"
            )
        )
