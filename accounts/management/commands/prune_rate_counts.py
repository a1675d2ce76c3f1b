"""`manage.py prune_rate_counts`: delete rate-limit counters whose window has ended."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.models import RateCount


class Command(BaseCommand):
    help = (
        "Delete rate-limit counters (accounts.RateCount) whose window has ended. An expired "
        "counter is harmless (the next count starts it again at 1), but each person keeps one "
        "row per limited action until this runs. One DELETE; safe while the site serves. Run "
        "it daily (beside prune_events). With REDIS_URL set, counts live in Redis, expire "
        "there by themselves, and this table stays empty."
    )

    def handle(self, *args, **options) -> None:
        # A counter restarted by a count meanwhile is not lost: PostgreSQL re-checks the
        # condition on the row once the count's lock is released, and it no longer matches.
        deleted, _ = RateCount.objects.filter(expires_at__lt=timezone.now()).delete()
        self.stdout.write(f"Deleted {deleted:,} expired rate-limit counters.")
