"""`manage.py vapid_keys`: a fresh VAPID key pair for Web Push, as environment lines."""

from django.core.management.base import BaseCommand

from messaging.push import new_vapid_keys


class Command(BaseCommand):
    # Works before any database exists: setting up a site starts with its keys.
    requires_system_checks = []

    help = (
        "Print a new VAPID key pair (base64url, raw) as VAPID_PUBLIC_KEY=... and "
        "VAPID_PRIVATE_KEY=... lines for the environment. Keep the private key secret; changing "
        "it later makes every browser subscribe again."
    )

    def handle(self, *args, **options):
        public, private = new_vapid_keys()
        self.stdout.write(f"VAPID_PUBLIC_KEY={public}")
        self.stdout.write(f"VAPID_PRIVATE_KEY={private}")
        self.stdout.write("VAPID_SUBJECT=mailto:you@example.com")
