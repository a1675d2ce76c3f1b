"""Rate limits on our own writes (messages, conversations, pins, comments, reports, exports,
password guesses on the delete-account form).

Each limit is a fixed window: `limit` actions per `period` seconds per person
(settings.RATE_LIMITS), the windows aligned on the clock, so every server process agrees on them.

How a view uses it: one line, where the check belongs (after the form is valid, before the
service, so an over-limit request stores nothing):

    check_rate(action="comment", key=request.user.pk, page=lambda: _page(request, form))

Over the limit, `check_rate` raises `RateLimited`, and `RateLimitMiddleware` turns it into the
answer (`rate_limited_response`): a 429 with `Retry-After` and "You're doing that too often. Try
again in …"; for htmx an empty body and an error toast (htmx swaps nothing, so the form keeps
its text); without JavaScript `page()`, the view's own page with the form still filled in and the
message flashed, or else the small rate_limited.html page. Why this shape:

- The views, not the services, count. Services are also called by commands, seeding and tests,
  which must not be limited; some limits guard no write at all (password guesses, exports); and a
  count taken inside the service's transaction would be rolled back with a refused write, so
  failed attempts would not count.
- A middleware rather than a decorator on each view: a view cannot forget it (an unconverted
  RateLimited would be a 500), and the view keeps no try/except. Where the view's page needs its
  local form, the view hands a `page` callable to `check_rate`; the exception carries it.

Counts live in the shared cache (CACHES["default"]: PostgreSQL's cache table, or Redis when
REDIS_URL is set), so every server process counts together.

allauth keeps its own limits for sign-up, login and password reset (ACCOUNT_RATE_LIMITS), counted
in CACHES["default"].
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib import messages as flash
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django_htmx.http import trigger_client_event

from accounts.redirects import own_site_url


@dataclass
class RateLimited(Exception):
    """Raised when an action is over its limit; `retry_after` is in whole seconds. `page`, when
    given, renders the view's own page again (for a request without JavaScript)."""

    action: str
    retry_after: int
    page: Callable[[], HttpResponse] | None = field(default=None, repr=False, compare=False)

    @property
    def message(self) -> str:
        return f"You're doing that too often. Try again in {_humanize(self.retry_after)}."


def _humanize(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)  # round up: "1 minute" rather than "0 minutes"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def limit_for(action: str) -> tuple[int, int]:
    """(limit, period in seconds) for an action, from settings.RATE_LIMITS."""
    return settings.RATE_LIMITS[action]


def check_rate(*, action: str, key: object, page: Callable[[], HttpResponse] | None = None) -> None:
    """Count one `action` by `key` (usually a user id); raise RateLimited when it is one too
    many for the current window. A refused attempt is not counted against the next window.

    `page`: what to answer a request without JavaScript (the view's page with its form still
    filled in); without it, the small rate_limited.html page."""
    limit, period = limit_for(action)
    now = time.time()
    window = int(now // period)
    cache_key = f"ratelimit:{action}:{key}:{window}"
    # add() is a no-op when the key exists. incr() is atomic on Redis; on the database cache it
    # is a read then a write, so a burst of truly simultaneous requests may be undercounted by
    # a few, which is fine for a limit against abuse (set REDIS_URL for exact counts).
    cache.add(cache_key, 0, timeout=period + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add() and incr()
        cache.set(cache_key, 1, timeout=period + 1)
        count = 1
    if count > limit:
        retry_after = max(1, int((window + 1) * period - now) + 1)
        raise RateLimited(action=action, retry_after=retry_after, page=page)


def rate_limited_response(request, exc: RateLimited) -> HttpResponse:
    """The answer to a write refused by `check_rate`: 429 with `Retry-After` and the message.

    - htmx: an empty 429 that triggers the error toast (`HX-Trigger: {"toast": ...}`). htmx does
      not swap error responses, so the composer or form keeps what the person typed, and app.js
      shows only this toast, not its generic one for a 429.
    - Without JavaScript: `exc.page()` when given (the view's own page with the form still
      filled in; the message is flashed first so the page shows it), else a small page with the
      message and a link back.
    """
    message = exc.message
    if getattr(request, "htmx", False):
        response = HttpResponse(status=429)
        response = trigger_client_event(response, "toast", {"message": message, "level": "error"})
    else:
        if exc.page is not None:
            flash.error(request, message)
            response = exc.page()
        else:
            response = render(
                request, "rate_limited.html", {"message": message, "back_url": _back_url(request)}
            )
        response.status_code = 429
    response["Retry-After"] = str(exc.retry_after)
    return response


def _back_url(request) -> str:
    """Where "Go back" leads: the page the form was on, if it is on our own site."""
    return own_site_url(request, request.headers.get("referer", ""), "/")


class RateLimitMiddleware:
    """Answers a RateLimited raised by any view with `rate_limited_response`."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RateLimited):
            return rate_limited_response(request, exception)
        return None
