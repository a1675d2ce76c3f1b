"""Root URLconf: the stable, readable paths of DESIGN.md §7."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from pinboard.views import admin_login, boards, feed, pin_editor, pins, profiles, search

# A database that can't be reached answers 503 "busy, try again" rather than 500.
handler500 = "pinboard.views.errors.server_error"

urlpatterns = [
    path("", feed.home, name="home"),
    path("accounts/", include("allauth.urls")),
    path("", include("accounts.urls")),
    # Before the admin's own URLs: its login is the site's (one form, one set of rate limits).
    path("admin/login/", admin_login.admin_login, name="admin_login"),
    path("admin/", admin.site.urls),
    path("messages/", include("messaging.urls")),
    path("notifications/", include("messaging.notification_urls")),
    # People
    path("users/<str:username>/", profiles.profile, name="profile"),
    path("users/<str:username>/follow/", profiles.follow, name="user_follow"),
    # Boards
    path("boards/new/", boards.board_create, name="board_create"),
    path("boards/<int:pk>/", boards.board_detail, name="board_detail"),
    path("boards/<int:pk>/edit/", boards.board_edit, name="board_edit"),
    path("boards/<int:pk>/delete/", boards.board_delete, name="board_delete"),
    path("boards/<int:pk>/follow/", boards.board_follow, name="board_follow"),
    path("boards/<int:pk>/collaborators/", boards.collaborators, name="board_collaborators"),
    path(
        "boards/<int:pk>/collaborators/<int:user_id>/remove/",
        boards.collaborator_remove,
        name="board_collaborator_remove",
    ),
    path("boards/<int:pk>/invitation/", boards.invitation_respond, name="board_invitation"),
    path("boards/<int:pk>/leave/", boards.board_leave, name="board_leave"),
    # Pins
    path("pins/<int:pk>/", pins.pin_detail, name="pin_detail"),
    path("pins/<int:pk>/save/", pins.pin_save, name="pin_save"),
    path("pins/<int:pk>/like/", pins.pin_like, name="pin_like"),
    path("pins/<int:pk>/comments/", pins.comment_create, name="comment_create"),
    path("comments/<int:pk>/delete/", pins.comment_delete, name="comment_delete"),
    # Search
    path("search/", search.search, name="search"),
    # Creating, editing and deleting pins
    path("pins/new/", pin_editor.pin_create, name="pin_create"),
    path("pins/<int:pk>/edit/", pin_editor.pin_edit, name="pin_edit"),
    path("pins/<int:pk>/delete/", pin_editor.pin_delete, name="pin_delete"),
    # (more routes are added below this line)
    path("", include("messaging.settings_urls")),  # /settings/data/: the data export
]


def serve_media(request, path: str):
    """Development only. Content-Type comes from the file name, which is always our own
    re-encoding's (.webp); SecurityMiddleware adds `X-Content-Type-Options: nosniff`. MEDIA_ROOT
    is read per request, so tests can point it at a temporary folder."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


if settings.SERVE_MEDIA:
    # Development only: production serves MEDIA_ROOT from the reverse proxy.
    urlpatterns += [re_path(r"^media/(?P<path>.*)$", serve_media)]
