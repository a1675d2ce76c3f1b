"""WSGI entry point (production page servers: persistent, health-checked connections)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pinboard.settings")

application = get_wsgi_application()
