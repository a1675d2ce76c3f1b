"""The admin has no login of its own: /admin/login/ sends people to the site's login (allauth),
so there is one login form with one set of rate limits (ACCOUNT_RATE_LIMITS, `login_failed`)
and the admin's form cannot be used to guess passwords around them."""

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from accounts.redirects import own_site_url


def _next_url(request) -> str:
    return own_site_url(request, request.GET.get(REDIRECT_FIELD_NAME, ""), reverse("admin:index"))


def admin_login(request):
    next_url = _next_url(request)
    if request.user.is_authenticated:
        if request.user.is_active and request.user.is_staff:
            return redirect(next_url)
        # Signed in without access: sending them to the login page would bounce straight back
        # here (allauth redirects signed-in people to `next`), so say so instead.
        return render(request, "admin/login_not_staff.html", status=403)
    return redirect(f"{reverse('account_login')}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")
