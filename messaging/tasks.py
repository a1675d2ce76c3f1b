"""Background work (django.tasks; the worker is `manage.py db_worker`).

Each task takes ids, never objects (they are stored as JSON until the worker runs them), and
reads its rows afresh: what it was about may have changed or gone in the meantime. Channels are
called one by one, each guarded, so a failing email server never stops a push.
"""

import logging

from django.tasks import task
from django.utils import timezone

from accounts.models import User
from messaging import emails, notifications, push
from messaging.export import files as export_files
from messaging.export.archive import write_user_export
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
    return [push.message_arrived, emails.message_arrived]


@task
def email_unread_messages(participant_id: int) -> None:
    """One person's check, scheduled by emails.message_arrived to run after the delay: email
    what arrived in that conversation if it is still unread (emails.email_unread decides)."""
    emails.email_unread(participant_id=participant_id, now=timezone.now())


@task
def send_message_emails() -> None:
    """The sweep (emails.send_due_message_emails), for a scheduler that enqueues tasks; cron
    runs `manage.py send_message_emails` instead."""
    emails.send_due_message_emails(now=timezone.now())


@task
def send_digests() -> None:
    """The daily digest of unread messages (emails.send_digests); see `manage.py send_digests`."""
    emails.send_digests(now=timezone.now())


@task
def deliver_notification(notification_id: int) -> None:
    """A bell notification to the channels beyond the bell, each on its own: Web Push and
    email."""
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is None or notification.read_at is not None:
        return
    for channel in (push.notification_push, emails.notification_email):
        try:
            channel(notification)
        except Exception:
            logger.exception(
                "Delivering notification %s through %s failed", notification_id, channel
            )


@task
def build_export(user_id: int) -> None:
    """ "Download my data", built away from the request (an export with thousands of images
    takes minutes): the zip goes to private storage and its owner gets an EXPORT_READY
    notification pointing at the download view (messaging/export/files.py). Old zips are
    pruned first, so storage holds at most a week of them even without the daily command."""
    export_files.prune()
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:  # deleted or deactivated since asking: nothing to give
        return
    name, partial = export_files.new_file()
    try:
        with open(partial, "wb") as out:
            write_user_export(user=user, file=out)
        export_files.publish(user_id=user.pk, name=name, partial=partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        (export_files.export_root() / name).unlink(missing_ok=True)
        raise
