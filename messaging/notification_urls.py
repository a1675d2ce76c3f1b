"""The bell's routes, under /notifications/ (included at the site root by pinboard/urls.py)."""

from django.urls import path

from messaging.views import notifications

urlpatterns = [
    path("", notifications.notification_list, name="notifications"),
    path("latest/", notifications.notification_dropdown, name="notifications_latest"),
    path("count/", notifications.notification_count, name="notifications_count"),
    path("read/", notifications.notifications_read_all, name="notifications_read_all"),
]
