"""ASGI entry point (development: `uvicorn --reload`; production: the live event stream)."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pinboard.settings")
# Each ASGI request may run on a new thread, so persistent per-thread connections would leak:
# use psycopg's connection pool instead (see DATABASES in settings).
os.environ.setdefault("DATABASE_POOL", "true")

# The ASGI process holds the live event streams (messaging/live.py).
# A process holding thousands of streams keeps about 200 long-lived objects per stream (1.2
# million at 5,000 streams), and a full collection of that heap stops it for 1.1-1.9 s. When the
# process also serves pages (`make run`), CPython's default thresholds (700, 10, 10) promote
# enough request objects to force one every ~40 s while sending 20 messages/s. Rarer young
# collections let short-lived objects die first: none in 150 s of sending (`manage.py bench_live
# --streams 5000`, see the README). An events-only process rarely needs one either way.
gc.set_threshold(10_000, 20, 10)

application = get_asgi_application()
