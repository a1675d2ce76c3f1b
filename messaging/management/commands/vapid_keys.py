"""`manage.py vapid_keys`: a fresh VAPID key pair for Web Push, as environment lines."""

from cryptography.hazmat.primitives import serialization
from django.core.management.base import BaseCommand
from py_vapid import Vapid02
from py_vapid.utils import b64urlencode


class Command(BaseCommand):
    # Works before any database exists: setting up a site starts with its keys.
    requires_system_checks = []

    help = (
        "Print a new VAPID key pair (base64url, raw) as VAPID_PUBLIC_KEY=... and "
        "VAPID_PRIVATE_KEY=... lines for the environment. Keep the private key secret; changing "
        "it later makes every browser subscribe again."
    )

    def handle(self, *args, **options):
        vapid = Vapid02()
        vapid.generate_keys()
        private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
        public = vapid.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.stdout.write(f"VAPID_PUBLIC_KEY={b64urlencode(public)}")
        self.stdout.write(f"VAPID_PRIVATE_KEY={b64urlencode(private)}")
        self.stdout.write("VAPID_SUBJECT=mailto:you@example.com")
