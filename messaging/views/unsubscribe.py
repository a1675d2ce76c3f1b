"""Unsubscribing from one kind of email, from a link in that email (messaging/emails.py).

The link carries a signed token of (user id, kind): it is the whole authority, so it works
signed out, and a tampered or expired one changes nothing (a 400 page that says so).

Two endpoints:
- `/notifications/unsubscribe/<token>/`, the link in the email's footer: GET shows what it
  will turn off and a button; the button's POST is an ordinary form with Django's CSRF check.
  GET never changes anything, so a mail scanner or link preview that fetches links can't
  unsubscribe anyone.
- `.../one-click/`, the `List-Unsubscribe` header's target (RFC 8058): mail clients POST
  `List-Unsubscribe=One-Click` to it with no cookies, so it cannot pass a CSRF check and is
  exempt from it. That is safe because CSRF protects requests whose authority is ambient (a
  session cookie the browser attaches on its own); here nothing ambient is used: the authority
  is the signed token in the URL, which a forging site cannot make, and the most a request can
  do is turn one kind of email off for the person the token names. GET there only shows the
  page above.
"""

from django.core import signing
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.models import User
from messaging.emails import email_off, read_unsubscribe_token
from messaging.models import NotificationKind

TEMPLATE = "messaging/unsubscribe.html"


def _person_and_kind(token: str) -> tuple[User, str] | None:
    try:
        user_id, kind = read_unsubscribe_token(token)
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=user_id).first()
    return (user, kind) if user is not None else None


def _invalid(request) -> HttpResponse:
    return render(request, TEMPLATE, {"invalid": True}, status=400)


@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    found = _person_and_kind(token)
    if found is None:
        return _invalid(request)
    user, kind = found
    context = {"token": token, "kind_label": NotificationKind(kind).label.lower()}
    if request.method == "POST":
        email_off(user=user, kind=kind)
        context["done"] = True
    return render(request, TEMPLATE, context)


@csrf_exempt  # see the module's docstring: the signed token, not a cookie, is the authority
@require_http_methods(["GET", "POST"])
def unsubscribe_one_click(request, token: str):
    if request.method == "GET":
        return redirect("notifications_unsubscribe", token=token)
    found = _person_and_kind(token)
    if found is None:
        return _invalid(request)
    if request.POST.get("List-Unsubscribe") != "One-Click":
        return HttpResponse(
            "A one-click unsubscribe must send List-Unsubscribe=One-Click (RFC 8058).",
            status=400,
            content_type="text/plain",
        )
    user, kind = found
    email_off(user=user, kind=kind)
    return HttpResponse("Unsubscribed.", content_type="text/plain")
