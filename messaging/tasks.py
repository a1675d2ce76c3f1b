"""Background work (django.tasks; the worker is `manage.py db_worker`).

Each task takes ids, never objects (they are stored as JSON until the worker runs them), and
reads its rows afresh: what it was about may have changed or gone in the meantime. Channels are
called one by one, each guarded, so a failing email server never stops a push.
"""

import logging

from django.tasks import task

from messaging import notifications, push
from messaging.models import Message

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
    return [push.message_arrived]
