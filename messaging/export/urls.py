"""The export's page under /settings/ (beside accounts' settings pages), included at the site
root by pinboard/urls.py: the export reads every app, so its page lives in messaging."""

from django.urls import path

from messaging.export import views

urlpatterns = [
    path("settings/data/", views.settings_data, name="settings_data"),
]
