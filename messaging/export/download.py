"""/settings/data/download/<id>/: a finished "Download my data" zip, to its owner only.

The id is the EXPORT_READY notification's (what the bell links to); it is looked up among the
signed-in person's own notifications, so anyone else's id is a 404 like one that doesn't exist.
The zip lives outside MEDIA_ROOT (messaging/export/files.py): this view is the only way to it.
"""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_GET

from messaging.export import files as export_files
from messaging.models import Notification, NotificationKind

EXPIRED = "That download is no longer kept (downloads last {days} days). Make a new one below."


@login_required
@require_GET
def download(request, pk: int):
    notification = get_object_or_404(
        Notification.objects.for_recipient(request.user),
        pk=pk,
        kind=NotificationKind.EXPORT_READY,
    )
    path = export_files.path_of(notification.file)
    if path is None or export_files.expired(notification):  # pruned, due for it, or replaced
        flash.info(request, EXPIRED.format(days=export_files.KEEP.days))
        return redirect("settings_data")
    filename = f"pinboard-{request.user.username}-{notification.created_at:%Y-%m-%d}.zip"
    # FileResponse streams the file in chunks (an export can weigh gigabytes) and closes it.
    return FileResponse(
        open(path, "rb"),
        as_attachment=True,
        filename=filename,
        content_type="application/zip",
    )
