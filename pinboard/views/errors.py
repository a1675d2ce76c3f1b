"""The site's 500 handler: a database that cannot be reached is a 503, not a bug.

When PostgreSQL is restarting or out of connections, a request fails while taking a connection
(within `connect_timeout`, settings.DATABASES). That is a moment's unavailability the person can
retry, so it gets "busy, try again" with Retry-After; everything else gets the plain 500 page.
Both render without a request context: the database may be what failed.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.views import defaults

UNAVAILABLE_MESSAGE = "Pinboard is busy for a moment. What you typed is kept; try again."
RETRY_AFTER_SECONDS = 5


def server_error(request):
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        response = HttpResponse(render_to_string("503.html"), status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        # app.js shows this header's text for a failed htmx request (and keeps the form).
        response["X-Pinboard-Error"] = UNAVAILABLE_MESSAGE
        return response
    return defaults.server_error(request)
