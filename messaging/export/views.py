""" "Your data" in settings: download everything of yours as a zip (messaging/export/archive.py)."""

import tempfile

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts.ratelimit import check_rate
from messaging.export.archive import write_user_export


@login_required
@require_http_methods(["GET", "POST"])
def settings_data(request):
    """GET: what the export holds. POST: the zip itself, as a download.

    POST rather than a link: building the export reads everything the person has, so a
    prefetching browser or crawler must not trigger it (and the form carries a CSRF token)."""
    if request.method == "POST":
        check_rate(action="export", key=request.user.pk)
        # A temporary file, not memory: an export with thousands of images can weigh gigabytes.
        # FileResponse streams it out in chunks and closes (so deletes) it when done.
        file = tempfile.TemporaryFile(suffix=".zip")  # noqa: SIM115 - the response closes it
        try:
            write_user_export(user=request.user, file=file)
        except BaseException:
            file.close()
            raise
        file.seek(0)
        filename = f"pinboard-{request.user.username}-{timezone.now():%Y-%m-%d}.zip"
        return FileResponse(
            file, as_attachment=True, filename=filename, content_type="application/zip"
        )
    return render(request, "messaging/settings_data.html")
