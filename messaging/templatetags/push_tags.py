"""What templates need of Web Push: the site's public key (base.html hands it to static/js/push.js)
and a person's devices (the settings include lists them)."""

from django import template

from messaging import push
from messaging.models import PushSubscription

register = template.Library()


@register.simple_tag
def push_public_key(user) -> str:
    """The VAPID public key for a signed-in person's browser to subscribe with; empty when push
    is off (then no script offers it)."""
    if not push.is_configured() or not getattr(user, "is_authenticated", False):
        return ""
    return push.public_key()


@register.simple_tag
def push_devices_of(user) -> list[PushSubscription]:
    """The person's browsers, newest first (one query)."""
    return list(PushSubscription.objects.filter(user=user).order_by("-created_at", "-pk"))
