"""Reporting a pin, comment, profile or message: /messages/report/<kind>/<key>/, included by
messaging/urls.py."""

from django.urls import path

from messaging.reports import views

urlpatterns = [
    path("pin/<int:key>/", views.report, {"kind": "pin"}, name="report_pin"),
    path("comment/<int:key>/", views.report, {"kind": "comment"}, name="report_comment"),
    path("profile/<str:key>/", views.report, {"kind": "profile"}, name="report_profile"),
    path("message/<int:key>/", views.report, {"kind": "message"}, name="report_message"),
]
