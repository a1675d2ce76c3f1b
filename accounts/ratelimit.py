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
  failed attempts would not count. The count is one statement in autocommit: it holds its
  row's lock for that statement only.
- A middleware rather than a decorator on each view: a view cannot forget it (an unconverted
  RateLimited would be a 500), and the view keeps no try/except. Where the view's page needs its
  local form, the view hands a `page` callable to `check_rate`; the exception carries it.

The count is one atomic statement, exact under concurrency:
- PostgreSQL (the default): `INSERT … ON CONFLICT DO UPDATE … RETURNING` on accounts.RateCount,
  one row per (action, person) whose count restarts at 1 when a new window begins. Expired rows
  are harmless (the next count resets them); `manage.py prune_rate_counts` deletes them (daily,
  beside prune_events), so the table holds only the people active in their current window.
- Redis (when REDIS_URL makes CACHES["default"] Django's RedisCache): INCR and EXPIREAT in one
  MULTI pipeline through the cache's own redis-py client, one key per window that expires by
  itself.

Not a library: django-ratelimit (the well-kept one) counts with cache.add + cache.incr, which on
the database cache is several queries and a read-then-write that undercounts bursts (what this
module replaced), and its decorator counts before the form is validated.

allauth keeps its own limits for sign-up, login and password reset (ACCOUNT_RATE_LIMITS), counted
in CACHES["default"].
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.contrib import messages as flash
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import render
from django_htmx.http import trigger_client_event

from accounts.models import RateCount
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
    window_end = (int(now // period) + 1) * period
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        count = _count_in_redis(cache, action, key, window_end)
    else:
        count, window_end = _count_in_postgresql(action, key, window_end)
    if count > limit:
        retry_after = max(1, int(window_end - now) + 1)
        raise RateLimited(action=action, retry_after=retry_after, page=page)


_UPSERT = """\
INSERT INTO {table} AS counted (action, subject, count, expires_at) VALUES (%s, %s, 1, %s)
ON CONFLICT (action, subject) DO UPDATE SET
    count = CASE WHEN counted.expires_at < EXCLUDED.expires_at THEN 1 ELSE counted.count + 1 END,
    expires_at = GREATEST(counted.expires_at, EXCLUDED.expires_at)
RETURNING count, expires_at"""


def _count_in_postgresql(action: str, key: object, window_end: int) -> tuple[int, float]:
    """One statement: the row is locked for its duration, so concurrent counts queue on it and
    each gets its own number. A row from an older window starts again at 1. A server whose clock
    lags a little counts into the newer window it finds (GREATEST), never back into an old one."""
    sql = _UPSERT.format(table=connection.ops.quote_name(RateCount._meta.db_table))
    expires_at = datetime.fromtimestamp(window_end, tz=UTC)
    with connection.cursor() as cursor:
        cursor.execute(sql, [action, str(key), expires_at])
        count, expires_at = cursor.fetchone()
    return count, expires_at.timestamp()


def _count_in_redis(cache: RedisCache, action: str, key: object, window_end: int) -> int:
    """INCR and EXPIREAT in one MULTI: one round trip, and a key never lives without its expiry.
    The key names its window, so the next window starts from nothing."""
    redis_key = cache.make_and_validate_key(f"ratelimit:{action}:{key}:{window_end}")
    # Django's RedisCache has no atomic "increment or create"; its redis-py client does. The
    # write client, so with several LOCATIONs the count goes to the primary.
    client = cache._cache.get_client(redis_key, write=True)
    with client.pipeline(transaction=True) as pipe:
        pipe.incr(redis_key)
        pipe.expireat(redis_key, window_end + 1)
        count, _ = pipe.execute()
    return count


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
