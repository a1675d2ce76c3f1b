"""The server-sent-event stream (`/messages/events/`): one per tab, only the signed-in person's
events. An async view: it is served by the ASGI server (uvicorn), never by a WSGI worker."""

from datetime import UTC, datetime, timedelta

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from messaging.live import Stream


def _last_event_id(request) -> int | None:
    """EventSource resends the last id it saw when it reconnects; `?since=` does the same for
    a page that knows where its content ends."""
    raw = request.headers.get("Last-Event-ID") or request.GET.get("since") or ""
    return int(raw) if raw.isdigit() else None


# A page older than this starts its stream from now: replaying more would be noise, and the
# page asks for the newest messages when its stream opens anyway.
RENDERED_AT_LIMIT = timedelta(minutes=10)


def _rendered_at(request) -> datetime | None:
    """`?rendered=` is the page's render time (Unix seconds, base.html): the stream replays
    what happened between it and the connection."""
    raw = request.GET.get("rendered", "")
    if not raw.isdigit():
        return None
    try:
        rendered_at = datetime.fromtimestamp(int(raw), tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    now = timezone.now()
    return rendered_at if now - RENDERED_AT_LIMIT <= rendered_at <= now else None


async def events(request):
    user = await request.auser()
    if not user.is_authenticated or not isinstance(request, ASGIRequest):
        # 204 tells EventSource to stop reconnecting: a signed-out tab has nothing to hear, and
        # a WSGI server (runserver, a misrouted gunicorn) cannot hold a stream open; pages then
        # fall back to polling.
        return HttpResponse(status=204)
    stream = Stream(
        user_id=user.pk,
        last_event_id=_last_event_id(request),
        rendered_at=_rendered_at(request),
    )
    response = StreamingHttpResponse(aiter(stream), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass events through as they come
    return response
