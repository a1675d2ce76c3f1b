"""Reporting a pin, a comment, a profile or a message (`/messages/report/<kind>/<id>/`).

One view per the htmx conventions: a plain page with the form without JavaScript, the same form
as a dialog (htmx, into #dialog-slot), and its body swapped in place after a POST. What is
reported is read through the reporter's read rule first (messaging/reports/services.py:
`reportable`), so something they can't see is a 404 like a missing id, and nothing is stored.

A person can't report their own thing, and a second report of the same thing while their first
is open only tells them it is under review. Reports count against a per-person rate limit
(settings.RATE_LIMITS["report"]), checked just before storing, so over the limit nothing is kept.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from accounts.ratelimit import check_rate
from messaging.forms import REPORT_DETAILS_MAX, ReportForm
from messaging.reports.services import (
    ALREADY_REPORTED,
    THANKS,
    Target,
    already_reported,
    refusal,
    report_create,
    reportable,
)

TEMPLATE = "messaging/report.html"
HEADINGS = {
    "pin": "Report this pin",
    "comment": "Report this comment",
    "profile": "Report this profile",
    "message": "Report this message",
}


def _target(request, kind: str, key) -> Target:
    things = reportable(kind, request.user)
    if kind == "profile":
        return Target(kind, get_object_or_404(things, username__iexact=key))
    return Target(kind, get_object_or_404(things, pk=key))


def _back_url(target: Target) -> str:
    """Where the person goes after reporting (or cancelling): back to the thing."""
    obj = target.obj
    if target.kind == "comment":
        return reverse("pin_detail", args=[obj.pin_id]) + "#comments"
    if target.kind == "message":
        return reverse("conversation", args=[obj.conversation_id]) + f"#message-{obj.pk}"
    return obj.get_absolute_url()


def _context(request, target: Target, form: ReportForm, *, stop: str = "") -> dict:
    key = target.obj.username if target.kind == "profile" else target.obj.pk
    return {
        "target": target,
        "heading": HEADINGS[target.kind],
        "form": form,
        "details": form["details"].value() or "",
        "details_max": REPORT_DETAILS_MAX,
        "details_max_text": f"{REPORT_DETAILS_MAX:,}",
        "report_url": reverse(f"report_{target.kind}", args=[key]),
        "back_url": _back_url(target),
        # Why no form is shown: your own thing, or already reported and under review.
        "stop": stop,
    }


def _stop_reason(request, target: Target) -> str:
    if why := refusal(reporter=request.user, target=target):
        return why
    if already_reported(reporter=request.user, target=target):
        return ALREADY_REPORTED.format(noun=target.kind)
    return ""


def _render(request, context: dict, *, status: int = 200):
    """GET: the dialog for htmx, else the page. POST: htmx swaps the body in place (htmx only
    swaps 2xx answers, so errors come as 200 there); without JavaScript, the page again."""
    if request.method == "GET":
        template = f"{TEMPLATE}#dialog" if request.htmx else TEMPLATE
    else:
        template = f"{TEMPLATE}#body" if request.htmx else TEMPLATE
        status = 200 if request.htmx else status
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def report(request, kind: str, key):
    target = _target(request, kind, key)
    if request.method == "GET":
        stop = _stop_reason(request, target)
        return _render(request, _context(request, target, ReportForm(), stop=stop))

    form = ReportForm(request.POST)
    if why := refusal(reporter=request.user, target=target):
        return _render(request, _context(request, target, form, stop=why), status=400)
    if already_reported(reporter=request.user, target=target):
        # Not an error: what they asked for is already done.
        stop = ALREADY_REPORTED.format(noun=target.kind)
        return _render(request, _context(request, target, form, stop=stop))
    if not form.is_valid():
        return _render(request, _context(request, target, form), status=400)
    check_rate(
        action="report",
        key=request.user.pk,
        page=lambda: render(request, TEMPLATE, _context(request, target, form)),
    )
    try:
        report_create(
            reporter=request.user,
            reason=form.cleaned_data["reason"],
            details=form.cleaned_data["details"],
            **{target.kind: target.obj},
        )
    except ValidationError as exc:
        # A report made in another tab a moment ago, or a reason the service refuses.
        return _render(request, _context(request, target, form, stop=exc.messages[0]), status=400)

    context = _context(request, target, ReportForm())
    if request.htmx:
        return render(request, f"{TEMPLATE}#done", {**context, "thanks": THANKS})
    messages.success(request, THANKS)
    return redirect(context["back_url"])
