"""Response headers Django's own middleware does not set, and the CSRF failure page.

SecurityMiddleware sets nosniff, Referrer-Policy, HSTS and the HTTPS redirect; the clickjacking
middleware sets X-Frame-Options; the CSP middleware sets Content-Security-Policy. What is left is
Permissions-Policy: Pinboard uses no camera, microphone, location or payments, so it turns them
(and the other powerful features) off for itself and for anything that might ever embed it.
"""

from django.conf import settings
from django.http import HttpResponseForbidden
from django.template.loader import render_to_string

# Features switched off for every page: an empty allow-list, "()", means "nobody".
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)

# The header a refused CSRF token carries, so app.js can tell "your session changed" from any
# other 403 (which gets its own message).
CSRF_FAILURE_HEADER = "X-Pinboard-CSRF-Failure"
CSRF_FAILURE_MESSAGE = "Your session changed — reload the page to continue."


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


def csrf_failure(request, reason: str = ""):
    """settings.CSRF_FAILURE_VIEW: a stale or missing CSRF token, typically after signing in or
    out in another tab. Marked with CSRF_FAILURE_HEADER for htmx; without JavaScript a page that
    says what happened. The reason is for developers only (shown when DEBUG is on)."""
    context = {"message": CSRF_FAILURE_MESSAGE, "reason": reason if settings.DEBUG else ""}
    response = HttpResponseForbidden(render_to_string("403_csrf.html", context, request=request))
    response[CSRF_FAILURE_HEADER] = "1"
    return response
