"""The site's URL map (ROOT_URLCONF): which app serves which paths (DESIGN.md §7). Route names
carry no namespace; each app keeps its own routes in its urls module."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from pinboard.views import admin_login

# A database that can't be reached answers 503 "busy, try again" rather than 500.
handler500 = "pinboard.views.errors.server_error"

urlpatterns = [
    # Sign-up, log in, password reset, email (allauth)
    path("accounts/", include("allauth.urls")),
    # Settings pages, blocks (accounts/urls.py)
    path("", include("accounts.urls")),
    # Before the admin's own URLs: its login is the site's (one form, one set of rate limits).
    path("admin/login/", admin_login.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    # Conversations, the inbox, live events, the Send dialog, reports (messaging/urls.py)
    path("messages/", include("messaging.urls")),
    # /settings/data/: "Download my data" (messaging/export/urls.py)
    path("", include("messaging.export.urls")),
    # Unsubscribing from a kind of email, from a link in it (messaging/views/unsubscribe.py)
    path("notifications/unsubscribe/", include("messaging.unsubscribe_urls")),
    # Web Push devices, the manifest, the service worker (/sw.js) and the offline page
    path("", include("messaging.push_urls")),
    # The bell's page and its fragments (messaging/notification_urls.py)
    path("notifications/", include("messaging.notification_urls")),
    # /settings/notifications/: what reaches you, and where (messaging/settings_urls.py)
    path("", include("messaging.settings_urls")),
    # The home feed, people, boards, pins, search (pinboard/app_urls.py)
    path("", include("pinboard.app_urls")),
]


def serve_media(request, path: str):
    """Development only. Content-Type comes from the file name, which is always our own
    re-encoding's (.webp); SecurityMiddleware adds `X-Content-Type-Options: nosniff`. MEDIA_ROOT
    is read per request, so tests can point it at a temporary folder."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


if settings.SERVE_MEDIA:
    # Development only: production serves MEDIA_ROOT from the reverse proxy.
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", serve_media)]
