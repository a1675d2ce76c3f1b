"""`/messages/events/` when a request for it reaches Django.

The stream itself is served by the event server's own ASGI app (messaging/stream.py, routed in
pinboard/asgi.py), never by a Django view. A WSGI server (gunicorn, runserver, the test
live_server) that is asked for it anyway cannot hold a stream open: 204 tells EventSource to stop,
and pages fall back to polling. The route stays so templates can `{% url 'message_events' %}`.
"""

from django.http import HttpResponse


def events(request):
    return HttpResponse(status=204)
