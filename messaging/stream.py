"""The event stream endpoint, `/messages/events/`, as a plain ASGI application.

Why not a Django view: Django's ASGI handler runs each request's middleware on a thread of its
own that lives as long as the request (for a stream, hours: 5,000 streams were 5,009 threads),
and a client that disconnects mid-request cancels the request while its synchronous part still
runs, orphaning the database connection it had taken from the pool (issue #11: nine dead tabs
took every page down). This endpoint needs only two small reads to know who is asking (the
session row, then the user's password hash to check the session is still valid) and then the
person's events, all with async psycopg on the hub's pool (messaging/live.py): no thread, no
Django connection, nothing a vanished client can leave behind.

Bounded per connection: each chunk is sent before the next is read, and a tab that stops reading
for settings.LIVE_SEND_TIMEOUT_SECONDS is dropped (it catches up from its Last-Event-ID when it
comes back).
"""

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from importlib import import_module
from urllib.parse import parse_qsl

import psycopg
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http.cookie import parse_cookie
from django.http.request import split_domain_port, validate_host
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from psycopg_pool import PoolTimeout

from messaging.live import Stream, get_hub

logger = logging.getLogger(__name__)

# A page older than this starts its stream from now: replaying more would be noise, and the
# page asks for the newest messages when its stream opens anyway.
RENDERED_AT_LIMIT = timedelta(minutes=10)

_SESSION_SQL = """
    SELECT session_data FROM django_session
    WHERE session_key = %(key)s AND expire_date > %(now)s
"""
_USER_SQL = "SELECT password, is_active FROM accounts_user WHERE id = %(id)s"

_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # nginx: pass events through as they come
    (b"x-content-type-options", b"nosniff"),
]


class Unavailable(Exception):
    """The database could not say who is asking: answer 503, never "signed out"."""


def _session_store_class():
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        raise ImproperlyConfigured("The event stream reads sessions from the database table.")
    return import_module(settings.SESSION_ENGINE).SessionStore


async def signed_in_user_id(session_key: str) -> int | None:
    """The user a session cookie belongs to, checked as Django's auth middleware checks it
    (unexpired session, known backend, active user, password unchanged since sign-in)."""
    # Django's keys are 32 lowercase letters and digits; anything else (a NUL byte included,
    # which PostgreSQL would refuse) is nobody's.
    if not (session_key.isascii() and session_key.isalnum() and len(session_key) <= 40):
        return None
    hub = get_hub()
    try:
        rows = await hub.read(_SESSION_SQL, {"key": session_key, "now": timezone.now()})
    except (psycopg.Error, PoolTimeout) as error:
        raise Unavailable from error
    if not rows:
        return None
    try:
        session = _session_store_class()().decode(rows[0][0])
        user_id = get_user_model()._meta.pk.to_python(session.get(SESSION_KEY))
    except (ValueError, TypeError, ValidationError):
        return None
    if user_id is None or session.get(BACKEND_SESSION_KEY) not in settings.AUTHENTICATION_BACKENDS:
        return None
    try:
        rows = await hub.read(_USER_SQL, {"id": user_id})
    except (psycopg.Error, PoolTimeout) as error:
        raise Unavailable from error
    if not rows:
        return None
    password, is_active = rows[0]
    if not is_active:
        return None
    user = get_user_model()(pk=user_id, password=password)
    hashes = [user.get_session_auth_hash()] + [
        user._get_session_auth_hash(secret=secret) for secret in settings.SECRET_KEY_FALLBACKS
    ]
    session_hash = session.get(HASH_SESSION_KEY) or ""
    if not any(constant_time_compare(session_hash, known) for known in hashes):
        return None
    return user_id


def _headers(scope) -> dict[str, str]:
    return {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}


def _host_allowed(host: str) -> bool:
    domain, _port = split_domain_port(host)
    allowed = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]
    return bool(domain) and validate_host(domain, allowed)


def _query(scope) -> dict[str, str]:
    return dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))


def last_event_id(headers: dict[str, str], query: dict[str, str]) -> int | None:
    """EventSource resends the last id it saw when it reconnects; `?since=` does the same for
    a page that knows where its content ends."""
    raw = headers.get("last-event-id") or query.get("since") or ""
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def rendered_at(query: dict[str, str]) -> datetime | None:
    """`?rendered=` is the page's render time (Unix seconds, base.html): the stream replays
    what happened between it and the connection."""
    raw = query.get("rendered", "")
    if not raw.isdigit():
        return None
    try:
        moment = datetime.fromtimestamp(int(raw), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    now = timezone.now()
    return moment if now - RENDERED_AT_LIMIT <= moment <= now else None


async def _respond(send, status: int, body: bytes = b"") -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"cache-control", b"no-cache")]
    if status == 503:
        headers.append((b"retry-after", b"2"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _until_disconnected(receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _pump(stream: Stream, send) -> None:
    """Send the stream's chunks, each within LIVE_SEND_TIMEOUT_SECONDS (the server's flow
    control makes `send` wait while the tab isn't reading)."""
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    chunks = stream.chunks()
    try:
        async for chunk in chunks:
            message = {"type": "http.response.body", "body": chunk.encode(), "more_body": True}
            try:
                await asyncio.wait_for(send(message), settings.LIVE_SEND_TIMEOUT_SECONDS)
            except TimeoutError:
                logger.info(
                    "Live events: dropped a tab of user %s that stopped reading", stream.user_id
                )
                return
    finally:
        await chunks.aclose()


async def application(scope, receive, send) -> None:
    """The ASGI app for `/messages/events/` (pinboard/asgi.py routes that path here)."""
    headers = _headers(scope)
    if scope["method"] != "GET":
        await _respond(send, 405, b"Method not allowed.")
        return
    if not _host_allowed(headers.get("host", "")):
        await _respond(send, 400, b"Bad host.")
        return
    session_key = parse_cookie(headers.get("cookie", "")).get(settings.SESSION_COOKIE_NAME, "")
    try:
        user_id = await signed_in_user_id(session_key)
    except Unavailable:
        await _respond(send, 503, b"Live updates are briefly unavailable.")
        return
    if user_id is None:
        # 204 tells EventSource to stop reconnecting: a signed-out tab has nothing to hear.
        await _respond(send, 204)
        return
    query = _query(scope)
    stream = Stream(
        user_id=user_id,
        last_event_id=last_event_id(headers, query),
        rendered_at=rendered_at(query),
    )
    pumping = asyncio.ensure_future(_pump(stream, send))
    watching = asyncio.ensure_future(_until_disconnected(receive))
    try:
        await asyncio.wait({pumping, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (pumping, watching):
            task.cancel()
        await asyncio.gather(pumping, watching, return_exceptions=True)
