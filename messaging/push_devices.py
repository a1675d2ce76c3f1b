"""The browsers a person turned Web Push on in: checking what a browser sends when it subscribes,
naming it for the settings page ("Chrome on Linux"), and the two writes (save, remove).

A push endpoint is a URL our server will POST to, so it is checked like any URL a stranger hands
us: https only (plain http on 127.0.0.1 or localhost only with PUSH_ALLOW_LOCAL_ENDPOINTS, for
development and the tests' own push service), and never a literal loopback or private address.
"""

import base64
import binascii
import ipaddress
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ec
from django import forms
from django.conf import settings
from django.db import transaction

from messaging.models import PushSubscription

MAX_DEVICES = 20
MAX_ENDPOINT_LENGTH = 1000
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _b64url(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None


def _is_private_host(host: str) -> bool:
    if host in LOCAL_HOSTS or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global


class PushSubscriptionForm(forms.Form):
    """What PushSubscription.toJSON() gives: endpoint and keys.p256dh / keys.auth."""

    error_messages = {
        "endpoint": "This browser's push address isn't one we can send to (it must be https).",
        "p256dh": "This browser's encryption key is not a valid P-256 public key.",
        "auth": "This browser's auth secret must be 16 bytes, base64url-encoded.",
    }

    # A missing or over-long value gets the same specific sentence as a wrong one.
    endpoint = forms.CharField(
        max_length=MAX_ENDPOINT_LENGTH,
        error_messages=dict.fromkeys(["required", "max_length"], error_messages["endpoint"]),
    )
    p256dh = forms.CharField(
        max_length=200,
        error_messages=dict.fromkeys(["required", "max_length"], error_messages["p256dh"]),
    )
    auth = forms.CharField(
        max_length=100,
        error_messages=dict.fromkeys(["required", "max_length"], error_messages["auth"]),
    )

    def clean_endpoint(self):
        endpoint = self.cleaned_data["endpoint"].strip()
        try:
            parts = urlsplit(endpoint)
            host = (parts.hostname or "").lower()
            parts.port  # noqa: B018 — raises ValueError for a port out of range
        except ValueError:
            raise forms.ValidationError(self.error_messages["endpoint"]) from None
        local_ok = getattr(settings, "PUSH_ALLOW_LOCAL_ENDPOINTS", False)
        if parts.scheme == "https" and host and not _is_private_host(host):
            return endpoint
        if local_ok and parts.scheme in ("http", "https") and host in LOCAL_HOSTS:
            return endpoint
        raise forms.ValidationError(self.error_messages["endpoint"])

    def clean_p256dh(self):
        raw = _b64url(self.cleaned_data["p256dh"].strip())
        if raw is None or len(raw) != 65 or raw[0] != 4:
            raise forms.ValidationError(self.error_messages["p256dh"])
        try:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except ValueError:
            raise forms.ValidationError(self.error_messages["p256dh"]) from None
        return self.cleaned_data["p256dh"].strip()

    def clean_auth(self):
        raw = _b64url(self.cleaned_data["auth"].strip())
        if raw is None or len(raw) != 16:
            raise forms.ValidationError(self.error_messages["auth"])
        return self.cleaned_data["auth"].strip()

    @classmethod
    def from_json(cls, data) -> "PushSubscriptionForm":
        keys = data.get("keys") if isinstance(data, dict) else None
        keys = keys if isinstance(keys, dict) else {}
        data = data if isinstance(data, dict) else {}
        return cls(
            data={
                "endpoint": data.get("endpoint") if isinstance(data.get("endpoint"), str) else "",
                "p256dh": keys.get("p256dh") if isinstance(keys.get("p256dh"), str) else "",
                "auth": keys.get("auth") if isinstance(keys.get("auth"), str) else "",
            }
        )


# --- "Chrome on Linux" -----------------------------------------------------------------------

# Order matters: Edge and Opera say "Chrome" too, Chrome says "Safari", Android says "Linux".
_BROWSERS = [
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("SamsungBrowser/", "Samsung Internet"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
]
_SYSTEMS = [
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
]


def device_name(user_agent: str) -> str:
    """A name a person recognises their browser by: "Chrome on Linux", "Firefox on Android"."""
    browser = next((name for token, name in _BROWSERS if token in user_agent), "A browser")
    system = next((name for token, name in _SYSTEMS if token in user_agent), "")
    return f"{browser} on {system}" if system else browser


# --- Writes ----------------------------------------------------------------------------------


class TooManyDevices(Exception):
    pass


@transaction.atomic
def push_subscription_save(
    *, user, endpoint: str, p256dh: str, auth: str, device: str
) -> PushSubscription:
    """Register a browser for `user`. An endpoint someone else registered moves to `user`: the
    browser is in their hands now, and a push service's address belongs to one browser."""
    existing = PushSubscription.objects.select_for_update().filter(endpoint=endpoint).first()
    if existing is None or existing.user_id != user.pk:
        count = PushSubscription.objects.filter(user=user).count()
        if count >= MAX_DEVICES:
            raise TooManyDevices(
                f"Notifications are on in {MAX_DEVICES} browsers already: remove one first."
            )
    subscription, _ = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={"user": user, "p256dh": p256dh, "auth": auth, "device": device[:120]},
    )
    return subscription


def push_subscription_remove(*, user, subscription_id: int) -> bool:
    """Forget one of `user`'s browsers; False when there is none by that id for them."""
    deleted, _ = PushSubscription.objects.filter(user=user, pk=subscription_id).delete()
    return bool(deleted)
