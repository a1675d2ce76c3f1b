"""Background work (django.tasks; the worker is `manage.py db_worker`).

Each task takes ids, never objects (they are stored as JSON until the worker runs them), and
reads its rows afresh: what it was about may have changed or gone in the meantime. Channels are
called one by one, each guarded, so a failing email server never stops a push.
"""

import logging

from django.tasks import task

from messaging import notifications
from messaging.models import Message, Notification

logger = logging.getLogger(__name__)


@task
def deliver_message(message_id: int) -> None:
    """A new message, to each recipient's channels beyond their open tabs (notifications.py
    decides who; each channel decides whether and when for its part)."""
    message = Message.objects.select_related("conversation", "sender").filter(pk=message_id).first()
    if message is None or message.deleted_at is not None:
        return
    recipients = notifications.message_recipients(message)
    if not recipients:
        return
    for channel in _message_channels():
        try:
            channel(message, recipients)
        except Exception:
            logger.exception("Delivering message %s through %s failed", message_id, channel)


def _message_channels():
    """The channels that carry a new message: Web Push now, an email later if still unread."""
    return []


@task
def deliver_notification(notification_id: int) -> None:
    """A new or grown bell notification, to the person's other channels (Web Push, email).

    The bell itself is done (the row exists and open tabs were told). The push and email
    channels plug in here; until then this only reads the row afresh, since it may have been
    read or deleted (with its pin, board or conversation) since it was enqueued."""
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None or notification.read_at is not None:
        return
