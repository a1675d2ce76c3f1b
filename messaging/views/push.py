"""The browsers that receive Web Push: the list (with a Remove button each, no JavaScript
needed), and the endpoint static/js/push.js posts a new subscription to.

/settings/notifications/ includes the list (templates/messaging/includes/push_devices.html);
/settings/notifications/devices/ shows it alone, the page a Remove button returns to by default.
"""

import json

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from messaging import push
from messaging.push_devices import (
    PushSubscriptionForm,
    TooManyDevices,
    device_name,
    push_subscription_remove,
    push_subscription_save,
)

MAX_BODY_BYTES = 4096


@login_required
def push_devices(request):
    return render(request, "messaging/push_devices.html")


@login_required
@require_POST
def push_subscribe(request):
    """Register this browser's subscription (PushSubscription.toJSON(), as JSON). 201 when
    saved; 400 with a sentence saying what is wrong, and nothing stored, otherwise."""
    if not push.is_configured():
        return _bad("Notifications on devices are not set up on this site.")
    if len(request.body) > MAX_BODY_BYTES:
        return _bad("That is not a push subscription.")
    try:
        data = json.loads(request.body)
    except (UnicodeDecodeError, ValueError):
        return _bad("That is not a push subscription.")
    form = PushSubscriptionForm.from_json(data)
    if not form.is_valid():
        return _bad(" ".join(error for errors in form.errors.values() for error in errors))
    try:
        push_subscription_save(
            user=request.user,
            endpoint=form.cleaned_data["endpoint"],
            p256dh=form.cleaned_data["p256dh"],
            auth=form.cleaned_data["auth"],
            device=device_name(request.headers.get("User-Agent", "")),
        )
    except TooManyDevices as exc:
        return _bad(str(exc))
    done = "Notifications are on in this browser."
    flash.success(request, done)  # shown when static/js/push.js reloads the settings page
    return HttpResponse(done, status=201, content_type="text/plain; charset=utf-8")


def _bad(message: str) -> HttpResponseBadRequest:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


@login_required
@require_POST
def push_device_remove(request, pk: int):
    """Forget one of your browsers (someone else's, or one already gone, is 404)."""
    if not push_subscription_remove(user=request.user, subscription_id=pk):
        raise Http404
    flash.success(request, "That device won't get notifications any more.")
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "push_devices"
    return redirect(next_url)
