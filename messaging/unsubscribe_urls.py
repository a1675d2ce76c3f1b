"""/notifications/unsubscribe/…: the links in emails (messaging/views/unsubscribe.py)."""

from django.urls import path

from messaging.views import unsubscribe

urlpatterns = [
    path("<str:token>/", unsubscribe.unsubscribe, name="notifications_unsubscribe"),
    path(
        "<str:token>/one-click/",
        unsubscribe.unsubscribe_one_click,
        name="notifications_unsubscribe_one_click",
    ),
]
