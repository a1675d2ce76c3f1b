"""The boards & pins app's routes: the home feed, people's profiles, boards, pins, comments and
search (DESIGN.md §7). Included at the site root by pinboard/urls.py, the site's URL map."""

from django.urls import path

from pinboard.views import boards, feed, pin_editor, pins, profiles, search

urlpatterns = [
    path("", feed.home, name="home"),
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
]
