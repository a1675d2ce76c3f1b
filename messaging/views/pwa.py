"""The installable app: its manifest, its service worker (at the site's root, so its scope is
the whole site) and the page the worker shows when a page can't be loaded offline."""

import hashlib

from django.http import JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control, never_cache

# From static/css/app.css: --red and --surface.
THEME_COLOUR = "#c8102e"
BACKGROUND_COLOUR = "#ffffff"


@cache_control(max_age=3600, public=True)
def manifest(request):
    data = {
        "id": "/",
        "name": "Pinboard",
        "short_name": "Pinboard",
        "description": "Collect images on boards and talk about them.",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    return JsonResponse(data, content_type="application/manifest+json")


@never_cache
def service_worker(request):
    """Served from /sw.js rather than /static/ so it may control the whole site; never cached,
    so a new version reaches browsers at their next visit."""
    offline_url = reverse("offline")
    precache = [
        offline_url,
        static("css/app.css"),
        static("icons/logo.svg"),
        static("icons/icon-192.png"),
    ]
    # A new stylesheet (a new hashed name in production) is a new cache: the old one is dropped.
    version = hashlib.sha256("|".join(precache).encode()).hexdigest()[:12]
    response = render(
        request,
        "messaging/sw.js",
        {"offline_url": offline_url, "precache": precache, "version": version},
        content_type="application/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = "/"
    return response


def offline(request):
    """The same for everyone (it is cached in the browser): no names, no counts."""
    return render(request, "messaging/offline.html")
