"""The export's pages under /settings/ (beside accounts' settings pages), included at the site
root by pinboard/urls.py: the export reads every app, so its pages live in messaging."""

from django.urls import path

from messaging.export import download, views

urlpatterns = [
    path("settings/data/", views.settings_data, name="settings_data"),
    path("settings/data/download/<int:pk>/", download.download, name="settings_data_download"),
]
