"""`manage.py send_message_emails`: the sweep of unread-message emails (messaging/emails.py)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from messaging import emails


class Command(BaseCommand):
    help = (
        "Email everyone whose unread messages have waited MESSAGE_EMAIL_DELAY_SECONDS, are "
        "still unread and arrived after they last had the site open: one email per "
        "conversation, never twice. Run it every minute (cron or a systemd timer); safe to run "
        "beside the worker's own deferred checks and twice at once."
    )

    def handle(self, *args, **options) -> None:
        sent = emails.send_due_message_emails(now=timezone.now())
        self.stdout.write(f"Sent {sent} email{'s' if sent != 1 else ''} about unread messages.")
