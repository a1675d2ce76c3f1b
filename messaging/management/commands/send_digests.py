"""`manage.py send_digests`: the daily email of unread messages (messaging/emails.py)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from messaging import emails


class Command(BaseCommand):
    help = (
        "Email each person who chose the daily digest for new messages one list of their "
        "conversations with unread messages not emailed yet. Run it once a day; a second run "
        "the same (UTC) day sends nothing to anyone who already had theirs."
    )

    def handle(self, *args, **options) -> None:
        sent = emails.send_digests(now=timezone.now())
        self.stdout.write(f"Sent {sent} digest{'s' if sent != 1 else ''}.")
