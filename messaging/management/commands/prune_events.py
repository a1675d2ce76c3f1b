"""`manage.py prune_events`: delete old rows of the live stream's catch-up log."""

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from messaging.models import Event

BATCH_SIZE = 10_000
DEFAULT_DAYS = 7


class Command(BaseCommand):
    help = (
        "Delete live-update events (messaging.Event) older than --older-than-days. Events "
        "only let a reconnecting tab catch up on what it missed, so old ones serve no one, "
        "and without pruning the table grows with every message. Deletes in batches of "
        f"{BATCH_SIZE:,} (short transactions; safe while the site serves). Run it daily."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--older-than-days",
            type=int,
            default=DEFAULT_DAYS,
            metavar="N",
            help="Delete events created more than N days ago (default: %(default)s; at least 1, "
            "so a tab that reconnects after a night still catches up).",
        )

    def handle(self, *args, older_than_days: int, **options) -> None:
        if older_than_days < 1:
            raise CommandError(f"--older-than-days must be at least 1, got {older_than_days}.")
        cutoff = timezone.now() - timedelta(days=older_than_days)
        deleted = 0
        while True:
            # Ids grow with time, so the old events are the first ones in id order: each batch
            # walks the primary key from the start and stops after BATCH_SIZE rows.
            ids = list(
                Event.objects.filter(created_at__lt=cutoff)
                .order_by("id")
                .values_list("id", flat=True)[:BATCH_SIZE]
            )
            if not ids:
                break
            deleted += Event.objects.filter(pk__in=ids).delete()[0]
            if options["verbosity"] >= 2:
                self.stdout.write(f"{deleted:,} deleted")
        self.stdout.write(
            f"Deleted {deleted:,} events older than {older_than_days} days "
            f"(before {cutoff:%Y-%m-%d %H:%M} UTC)."
        )
