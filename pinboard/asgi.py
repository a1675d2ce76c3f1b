"""ASGI entry point: the live event stream, and (in development) every page too.

`uvicorn pinboard.asgi:application` is what `make run` serves and, in production, the event
server beside gunicorn. It routes:

- `/messages/events/` to the event stream (messaging/stream.py), a plain async ASGI app that
  holds thousands of open streams without a thread or a Django database connection each;
- every other path to Django's *WSGI* handler, run on a fixed pool of threads (a2wsgi).

Pages never go through Django's ASGI handler. Measured on this project: under it, a client that
disconnects mid-request cancels the request while its synchronous view still runs on another
thread; the database connection that view took from the psycopg pool is stored in a context that
is then thrown away, so it never goes back to the pool, and after ten dead tabs every page
waited for a connection that would never come (issue #11). Under the WSGI handler a request runs
to its end on the thread that took the connection, and Django's `request_finished` gives it back
there, whatever the client did. It is also several times cheaper per request (DESIGN.md §1).

This module is the site's composition root, like the root URLconf: it may wire any app.
"""

import gc
import os
import tempfile

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pinboard.settings")

# Pages: Django's WSGI handler on a fixed pool of threads. Each thread keeps its own database
# connection (CONN_MAX_AGE, health-checked), so the process holds at most this many.
_pages_wsgi = get_wsgi_application()

from a2wsgi import WSGIMiddleware  # noqa: E402 (after Django is set up)

from messaging import stream  # noqa: E402
from messaging.live import stop_hubs  # noqa: E402

PAGE_THREADS = int(os.environ.get("ASGI_PAGE_THREADS", "8"))
# Bodies up to this size are read into memory; larger ones (uploads) spill to a temporary file.
BODY_IN_MEMORY_BYTES = 2_621_440
BODY_CHUNK_BYTES = 65_536

# The ASGI process holds the live event streams (messaging/live.py).
# A process holding thousands of streams keeps many long-lived objects, and a full collection of
# that heap stops it for a second or more. When the process also serves pages (`make run`),
# CPython's default thresholds (700, 10, 10) promote enough request objects to force one every
# ~40 s while sending 20 messages/s. Rarer young collections let short-lived objects die first
# (`manage.py bench_live`, see the README).
gc.set_threshold(10_000, 20, 10)


class _Pages:
    """Django's WSGI app behind ASGI, with the request body read *before* a thread is taken.

    a2wsgi reads the body from the thread as the view asks for it, so a slow or stalled upload
    would hold one of the few page threads for as long as the client dawdles. Here the body is
    read first (async, costing no thread; a client that vanishes mid-upload frees everything at
    once) and then replayed to the thread.
    """

    def __init__(self) -> None:
        self.wsgi = WSGIMiddleware(_pages_wsgi, workers=PAGE_THREADS)

    async def __call__(self, scope, receive, send) -> None:
        with tempfile.SpooledTemporaryFile(max_size=BODY_IN_MEMORY_BYTES) as body:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return  # gone before the request was complete: nothing to answer
                body.write(message.get("body", b""))
                if not message.get("more_body", False):
                    break
            body.seek(0)

            async def replay():
                chunk = body.read(BODY_CHUNK_BYTES)
                return {"type": "http.request", "body": chunk, "more_body": len(chunk) > 0}

            await self.wsgi(scope, replay, send)


class Site:
    """Routes the stream path to the event stream and everything else to the pages."""

    def __init__(self) -> None:
        self.pages = _Pages()
        self.stream_path = "/messages/events/"

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http" and scope["path"] == self.stream_path:
            await stream.application(scope, receive, send)
        elif scope["type"] == "http":
            await self.pages(scope, receive, send)
        else:  # websockets: none here
            await send({"type": "websocket.close", "code": 1000})

    async def _lifespan(self, receive, send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                # Close the LISTEN connection and the streams' read pool cleanly.
                await stop_hubs()
                await send({"type": "lifespan.shutdown.complete"})
                return


application = Site()
