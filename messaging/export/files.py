"""Where finished "Download my data" zips wait for their owner (the build itself is
messaging/export.py, run by tasks.build_export).

Each zip is stored under EXPORT_ROOT (outside MEDIA_ROOT: the web server must never serve it)
with a random name, and announced by a Notification(kind=EXPORT_READY, file=<name>) to its
owner. The only way to it is the download view, which finds the file through that notification
and the signed-in person (Notification.objects.for_recipient), so a name that leaked would
still lead nowhere. Zips are deleted after KEEP (at the next export, and by
`manage.py prune_exports`).
"""

import os
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from messaging import events, notifications
from messaging.models import Notification, NotificationKind

KEEP = timedelta(days=7)


def export_root() -> Path:
    return Path(settings.EXPORT_ROOT)


def path_of(name: str) -> Path | None:
    """The stored zip's path, if the name is one of ours and the file is still there."""
    if not name or Path(name).name != name or not name.endswith(".zip"):
        return None
    path = export_root() / name
    return path if path.is_file() else None


def new_file() -> tuple[str, Path]:
    """A fresh random name and the temporary path to write it at (renamed by `publish`)."""
    root = export_root()
    root.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}.zip"
    return name, root / f".{name}.partial"


def _delete(name: str) -> None:
    if path := path_of(name):
        path.unlink(missing_ok=True)


@transaction.atomic
def publish(*, user_id: int, name: str, partial: Path) -> Notification:
    """Put the written zip in place and tell its owner (one unread "ready" line: a newer
    export replaces the one not yet looked at, and its file)."""
    os.replace(partial, export_root() / name)
    now = timezone.now()
    notification = (
        Notification.objects.select_for_update()
        .filter(recipient_id=user_id, kind=NotificationKind.EXPORT_READY, read_at__isnull=True)
        .first()
    )
    if notification is None:
        notification = Notification.objects.create(
            recipient_id=user_id, kind=NotificationKind.EXPORT_READY, file=name
        )
    else:
        old = notification.file
        notification.file = name
        notification.created_at = notification.updated_at = now
        notification.save(update_fields=["file", "created_at", "updated_at"])
        transaction.on_commit(lambda: _delete(old))
    events.publish_notification(recipient_id=user_id)
    # Email (and push, if the person chose it) say so too: the zip can take minutes.
    notification_id = notification.pk
    transaction.on_commit(lambda: notifications.deliver_notification_later(notification_id))
    return notification


def expired(notification: Notification) -> bool:
    return notification.created_at < timezone.now() - KEEP


def latest_for(user) -> Notification | None:
    """The person's newest download still kept (for the "Your data" page): one query."""
    return (
        Notification.objects.for_recipient(user)
        .filter(kind=NotificationKind.EXPORT_READY, created_at__gte=timezone.now() - KEEP)
        .exclude(file="")
        .order_by("-created_at", "-id")
        .first()
    )


def prune(*, now=None) -> int:
    """Delete zips older than KEEP, and their notifications (a link to nothing helps no one);
    also stray files (an interrupted build's partial file, a zip whose row is gone). Returns
    how many files were deleted."""
    cutoff = (now or timezone.now()) - KEEP
    Notification.objects.filter(kind=NotificationKind.EXPORT_READY, created_at__lt=cutoff).delete()
    root = export_root()
    if not root.is_dir():
        return 0
    deleted = 0
    for path in root.iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff.timestamp():
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted
