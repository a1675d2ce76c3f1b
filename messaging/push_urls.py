"""Web Push and the installable app, at the site root (included by pinboard/urls.py by name):
/manifest.webmanifest, /sw.js, /offline/ and the device settings under /settings/notifications/."""

from django.urls import path

from messaging.views import push, pwa

urlpatterns = [
    path("manifest.webmanifest", pwa.manifest, name="manifest"),
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("offline/", pwa.offline, name="offline"),
    path("settings/notifications/devices/", push.push_devices, name="push_devices"),
    path("settings/notifications/devices/subscribe/", push.push_subscribe, name="push_subscribe"),
    path(
        "settings/notifications/devices/<int:pk>/remove/",
        push.push_device_remove,
        name="push_device_remove",
    ),
]
