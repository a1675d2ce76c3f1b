"""The bell: the notifications page, its dropdown in the nav, the count, and their settings.

Seeing a notification is reading it: the page and the dropdown mark what they show read (the
lines still show as new this once). Everything is rendered by messaging/bell.py's rules.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from messaging import bell, notifications, services
from messaging.forms import NotificationSettingsForm


def _mark_shown_read(request, lines) -> None:
    services.notifications_mark_read(
        user=request.user, ids=[line.pk for line in lines if line.unread]
    )


@login_required
def notification_list(request):
    """/notifications/: everything, newest first, a page at a time (htmx: just the next lines)."""
    cursor = bell.decode_cursor(request.GET.get("after"))
    page = bell.page(request.user, after=cursor)
    _mark_shown_read(request, page.lines)
    next_url = f"{reverse('notifications')}?after={page.next_cursor}" if page.next_cursor else ""
    context = {"lines": page.lines, "next_url": next_url, "cursor": cursor}
    if request.htmx and cursor is not None:
        return render(request, "messaging/notifications.html#lines", context)
    return render(request, "messaging/notifications.html", context)


@login_required
def notification_dropdown(request):
    """The bell's panel: the latest few, and the way to all of them. Without JavaScript the bell
    is a link to the page instead."""
    page = bell.page(request.user, after=None, size=bell.DROPDOWN_SIZE)
    _mark_shown_read(request, page.lines)
    return render(request, "messaging/notifications.html#dropdown", {"lines": page.lines})


@login_required
def notification_count(request):
    """The bell's count alone, refreshed by the live-updates script on `event: notification`."""
    return render(request, "includes/site_header.html#nav_bell")


@require_POST
@login_required
def notifications_read_all(request):
    services.notifications_mark_read(user=request.user)
    if request.htmx:
        return render(request, "includes/site_header.html#nav_bell")
    messages.success(request, "All notifications marked as read.")
    return redirect("notifications")


@login_required
@require_http_methods(["GET", "POST"])
def settings_notifications(request):
    current = notifications.preferences_for(request.user)
    if request.method == "POST":
        form = NotificationSettingsForm(request.POST, current=current)
        if form.is_valid():
            services.notification_preferences_update(user=request.user, choices=form.choices())
            messages.success(request, "Your notification settings are saved.")
            return redirect("settings_notifications")
        status = 400
    else:
        form = NotificationSettingsForm(current=current)
        status = 200
    return render(request, "messaging/settings_notifications.html", {"form": form}, status=status)
