""" "Your data" in settings: ask for everything of yours as a zip, built by a task
(messaging/tasks.py build_export) and downloaded from messaging/export/download.py."""

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.ratelimit import check_rate
from messaging import tasks
from messaging.export import files as export_files

PREPARING = "We're preparing your download; we'll notify you when it's ready."


@login_required
@require_http_methods(["GET", "POST"])
def settings_data(request):
    """GET: what the export holds, and the latest download while it is kept. POST: start one.

    POST rather than a link: building the export reads everything the person has, so a
    prefetching browser or crawler must not trigger it (and the form carries a CSRF token)."""
    if request.method == "POST":
        check_rate(action="export", key=request.user.pk)
        # An export with thousands of images takes minutes: a task builds it, the person is
        # notified (and this page offers it) when it is ready.
        tasks.build_export.enqueue(request.user.pk)
        flash.success(request, PREPARING)
        return redirect("settings_data")
    context = {"ready": export_files.latest_for(request.user), "keep_days": export_files.KEEP.days}
    return render(request, "messaging/settings_data.html", context)
