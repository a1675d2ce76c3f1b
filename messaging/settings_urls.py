"""Messaging's pages under /settings/ (beside accounts' settings pages), included at the site
root by pinboard/urls.py: the export reads every app, so its page lives here."""

from django.urls import path

from messaging.views import data, notifications

urlpatterns = [
    path("settings/data/", data.settings_data, name="settings_data"),
    path(
        "settings/notifications/",
        notifications.settings_notifications,
        name="settings_notifications",
    ),
]
