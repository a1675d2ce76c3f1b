"""Messaging's page under /settings/ (beside accounts' settings pages), included at the site
root by pinboard/urls.py: which notifications reach the person, and where."""

from django.urls import path

from messaging.views import notifications

urlpatterns = [
    path(
        "settings/notifications/",
        notifications.settings_notifications,
        name="settings_notifications",
    ),
]
