"""Web Push: the channel that reaches a browser with no tab open (RFC 8030).

pywebpush encrypts each payload for the browser's keys (RFC 8291, aes128gcm) and signs a VAPID
token (RFC 8292) with our key; we write no cryptography. notifications.py decides who hears about
what; this module decides, per person, whether push is on for it and whether they are looking
already (a live event stream in the last minute: Presence), then sends one payload per browser
through `send_push`, a task of its own so a slow or failing push service delays no one else.

A push is shown on a lock screen, so it never names secret content: a message's text only when
it carries no pin, board or profile card ("Sent a pin" otherwise), and a notification names a pin
or board only if it is public and the recipient may see it.

Never twice: a Delivery row ("push", key) is written before anything is sent, per person and per
browser; a retried task finds it and stops.
"""

import json
import logging
from datetime import timedelta
from functools import cache

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import connection
from django.tasks import task
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from py_vapid import Vapid02
from py_vapid.utils import b64urlencode
from pywebpush import WebPushException, webpush

from accounts.models import User
from messaging.inbox import people_title, unread_total
from messaging.models import (
    Delivery,
    Message,
    Notification,
    NotificationKind,
    Participant,
    Presence,
    PushSubscription,
)
from messaging.notifications import channels_for
from pinboard.models import Board, Pin

logger = logging.getLogger(__name__)

CHANNEL = "push"
# Someone whose event stream was open this recently saw it arrive: no push.
PRESENT_WITHIN = timedelta(seconds=60)
TIMEOUT_SECONDS = 10
ATTEMPTS = 3
RETRY_AFTER = timedelta(minutes=1)
# How long a push service keeps a push for a browser that is offline.
TTL_SECONDS = 24 * 60 * 60
BODY_LENGTH = 140

_CARD_BODY = {
    Message.Kind.PIN: "Sent a pin",
    Message.Kind.BOARD: "Sent a board",
    Message.Kind.PROFILE: "Sent a profile",
}


def is_configured() -> bool:
    """Push is on only with both VAPID keys set (README "Web Push")."""
    return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)


def new_vapid_keys() -> tuple[str, str]:
    """A fresh (public, private) pair, base64url raw: what VAPID_PUBLIC_KEY/PRIVATE_KEY hold."""
    vapid = Vapid02()
    vapid.generate_keys()
    private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    public = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64urlencode(public), b64urlencode(private)


def public_key() -> str:
    """What a browser subscribes with (its `applicationServerKey`)."""
    return settings.VAPID_PUBLIC_KEY


@cache
def _vapid(private_key: str) -> Vapid02:
    return Vapid02.from_raw(private_key.encode())


# --- Who is looking already ------------------------------------------------------------------


def present_user_ids(user_ids) -> set[int]:
    """Those among `user_ids` with an event stream open in the last minute (one query)."""
    since = timezone.now() - PRESENT_WITHIN
    return set(
        Presence.objects.filter(user_id__in=list(user_ids), seen_at__gte=since).values_list(
            "user_id", flat=True
        )
    )


# One statement, so a push costs one round trip here, not a transaction's three.
_CLAIM_SQL = """
    INSERT INTO messaging_delivery (channel, key, created_at) VALUES (%s, %s, now())
    ON CONFLICT (channel, key) DO NOTHING RETURNING id
"""


def _claim(key: str) -> bool:
    """Record that `key` is being sent; False if it already was (a retried task)."""
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL, [CHANNEL, key])
        return cursor.fetchone() is not None


def _fan_out(user_id: int, subscriptions: list[PushSubscription], payload: dict, key: str):
    """Push to each browser of the person, once per `key`: right here, inside the task that
    fans the message out (measured with `manage.py bench_push`: a task per browser cost a
    second trip through the worker's queue, ~0.5 s at its 1 s polling, and capped one worker
    at ~65 pushes a second). Only a failed push becomes a task of its own, to be retried."""
    if not subscriptions or not _claim(key):
        return
    body = json.dumps(payload)
    for subscription in subscriptions:
        _send_once(subscription, body, f"{key}:{subscription.pk}", attempt=1)


def _subscriptions_by_user(user_ids) -> dict[int, list[PushSubscription]]:
    found: dict[int, list[PushSubscription]] = {}
    for subscription in PushSubscription.objects.filter(user_id__in=list(user_ids)).order_by("pk"):
        found.setdefault(subscription.user_id, []).append(subscription)
    return found


def _icon() -> str:
    return static("icons/icon-192.png")


# --- A new message -------------------------------------------------------------------------


def message_title(message: Message, recipient_id: int, people: list) -> str:
    """ "Ada in Flat 3B", "Ada in Ada and Bram" (the inbox row's title for the recipient), or
    just "Ada" in a one-to-one conversation."""
    sender = message.sender.name
    others = sorted((p for p in people if p.pk != recipient_id), key=lambda u: u.name.lower())
    if message.conversation.name:
        return f"{sender} in {message.conversation.name}"
    if len(others) <= 1:
        return sender
    return f"{sender} in {people_title(others)}"


def message_body(message: Message) -> str:
    """The text of a plain message; never anything of a card (not even the text sent with it)."""
    if message.has_card:
        return _CARD_BODY.get(message.kind, "Sent a message")
    text = " ".join(message.text.split())
    if len(text) > BODY_LENGTH:
        text = text[: BODY_LENGTH - 1].rstrip() + "…"
    return text


def message_arrived(message: Message, recipients) -> None:
    """The channel callable of tasks.deliver_message: push the message to each recipient who
    wants it pushed and is not looking."""
    if not is_configured() or not recipients:
        return
    user_ids = [r.user_id for r in recipients]
    wants = {
        NotificationKind.MESSAGE: channels_for(user_ids, NotificationKind.MESSAGE),
        NotificationKind.MENTION: channels_for(user_ids, NotificationKind.MENTION),
    }
    chosen = [
        r.user_id
        for r in recipients
        if wants[NotificationKind.MENTION if r.mentioned else NotificationKind.MESSAGE][
            r.user_id
        ].push
    ]
    present = present_user_ids(chosen)
    subscriptions = _subscriptions_by_user(u for u in chosen if u not in present)
    if not subscriptions:
        return
    people = [
        p.user
        for p in Participant.objects.current()
        .filter(conversation_id=message.conversation_id)
        .select_related("user")
    ]
    conversation_url = reverse("conversation", kwargs={"pk": message.conversation_id})
    for user_id, theirs in subscriptions.items():
        payload = {
            "title": message_title(message, user_id, people),
            "body": message_body(message),
            "url": f"{conversation_url}#message-{message.pk}",
            "tag": f"conversation-{message.conversation_id}",
            "icon": _icon(),
            "badge": unread_total(User(pk=user_id)),
        }
        _fan_out(user_id, theirs, payload, f"message:{message.pk}:{user_id}")


# --- A notification from the bell ------------------------------------------------------------

_NOTIFICATION_TITLES = {
    NotificationKind.FOLLOW: "{who} followed you",
    NotificationKind.PIN_SAVED: "{who} saved your pin",
    NotificationKind.PIN_LIKED: "{who} liked your pin",
    NotificationKind.PIN_COMMENTED: "{who} commented on your pin",
    NotificationKind.BOARD_INVITED: "{who} invited you to a board",
    NotificationKind.BOARD_ACCEPTED: "{who} joined your board",
    NotificationKind.CONVERSATION_ADDED: "{who} added you to a conversation",
    NotificationKind.MESSAGE_REQUEST: "{who} wants to send you a message",
    NotificationKind.MENTION: "{who} mentioned you",
    NotificationKind.EXPORT_READY: "Your data download is ready",
}


def _who(notification: Notification) -> str:
    name = notification.last_actor.name if notification.last_actor else "Someone"
    others = notification.actor_count - 1
    if others == 1:
        return f"{name} and 1 other"
    if others > 1:
        return f"{name} and {others} others"
    return name


def notification_payload(notification: Notification) -> dict:
    """What a bell notification shows on a lock screen: who did what, and a pin's or board's
    name only when it is public and the recipient may see it (the bell's own rule, stricter)."""
    recipient = notification.recipient
    title = _NOTIFICATION_TITLES.get(notification.kind, "{who}").format(who=_who(notification))
    body, url = "", reverse("home")
    if notification.pin_id:
        pin = (
            Pin.objects.visible_to(recipient)
            .select_related("board")
            .filter(pk=notification.pin_id)
            .first()
        )
        if pin is not None:
            url = reverse("pin_detail", kwargs={"pk": pin.pk})
            if not pin.board.is_secret:
                body = pin.title
    elif notification.board_id:
        board = Board.objects.visible_to(recipient).filter(pk=notification.board_id).first()
        if board is not None:
            url = reverse("board_detail", kwargs={"pk": board.pk})
            if not board.is_secret:
                body = board.name
    elif notification.conversation_id:
        url = reverse("conversation", kwargs={"pk": notification.conversation_id})
    elif notification.kind == NotificationKind.FOLLOW and notification.last_actor:
        url = reverse("profile", kwargs={"username": notification.last_actor.username})
    return {
        "title": title,
        "body": body,
        "url": url,
        "tag": f"notification-{notification.pk}",
        "icon": _icon(),
        "badge": unread_total(recipient),
    }


def notification_push(notification: Notification) -> None:
    """Push one bell notification (called by tasks.deliver_notification): if push is on for
    its kind and the recipient is not looking. Each new actor of a grouped notification may
    push once more (the same tag replaces the earlier one on the device)."""
    if not is_configured():
        return
    if notification.kind == NotificationKind.MENTION and notification.message_id:
        return  # message_arrived pushed the message itself, by the mention choice
    user_id = notification.recipient_id
    if not channels_for([user_id], notification.kind)[user_id].push:
        return
    if present_user_ids([user_id]):
        return
    subscriptions = _subscriptions_by_user([user_id]).get(user_id, [])
    if not subscriptions:
        return
    payload = notification_payload(notification)
    key = f"notification:{notification.pk}:{notification.actor_count}"
    _fan_out(user_id, subscriptions, payload, key)


# --- Sending to one browser ----------------------------------------------------------------


def _deliver(subscription: PushSubscription, body: str):
    return webpush(
        subscription_info={
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        },
        data=body,
        vapid_private_key=_vapid(settings.VAPID_PRIVATE_KEY),
        # A fresh dict each time: webpush writes aud and exp into it.
        vapid_claims={"sub": settings.VAPID_SUBJECT},
        timeout=TIMEOUT_SECONDS,
        ttl=TTL_SECONDS,
    )


@task
def send_push(subscription_id: int, body: str, key: str, attempt: int = 1) -> None:
    """Send one payload to one browser, once. A push service that says the subscription is gone
    (404, 410) has it deleted; any other failure is logged and tried again, up to ATTEMPTS times
    (a minute later where the task backend can wait; at once where it cannot)."""
    subscription = PushSubscription.objects.filter(pk=subscription_id).first()
    if subscription is not None and is_configured():
        _send_once(subscription, body, key, attempt=attempt)


def _send_once(subscription: PushSubscription, body: str, key: str, *, attempt: int) -> None:
    if not _claim(key):
        return
    try:
        _deliver(subscription, body)
    except WebPushException as exc:
        status = getattr(exc.response, "status_code", None)
        if status in (404, 410):
            logger.info("Push subscription %s is gone (%s): deleted", subscription.pk, status)
            subscription.delete()
            return
        _failed(subscription.pk, body, key, attempt, exc)
        return
    except Exception as exc:  # a timeout, a refused connection, a bad key
        _failed(subscription.pk, body, key, attempt, exc)
        return
    PushSubscription.objects.filter(pk=subscription.pk).update(last_used_at=timezone.now())


def _failed(subscription_id: int, body: str, key: str, attempt: int, exc: Exception) -> None:
    logger.warning("Push to subscription %s failed (attempt %s): %s", subscription_id, attempt, exc)
    # Nothing was delivered: release the key so the retry may send.
    Delivery.objects.filter(channel=CHANNEL, key=key).delete()
    if attempt >= ATTEMPTS:
        return
    retry = send_push
    if send_push.get_backend().supports_defer:
        retry = send_push.using(run_after=timezone.now() + RETRY_AFTER)
    retry.enqueue(subscription_id, body, key, attempt + 1)
