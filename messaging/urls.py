"""Messaging routes, all under /messages/ (DESIGN.md §7)."""

from django.urls import include, path

from messaging.views import badge, conversation, conversation_live, events, inbox, requests, send

urlpatterns = [
    # Reporting a pin, comment, profile or message (messaging/reports/)
    path("report/", include("messaging.reports.urls")),
    # The Send dialog (messaging/views/send.py)
    path("send/", send.send_dialog, name="message_send_dialog"),
    path("send/invite/", send.send_invite, name="message_send_invite"),
    path("events/", events.events, name="message_events"),
    path("unread/", badge.unread_badge, name="message_unread_badge"),
    path("", inbox.inbox, name="inbox"),
    # Message requests and blocks (messaging/views/requests.py)
    path("requests/", requests.request_list, name="message_requests"),
    path("requests/count/", requests.request_count_badge, name="message_request_count"),
    path("<int:pk>/request/", requests.request_answer, name="message_request_answer"),
    path("<int:pk>/block/<str:username>/", requests.conversation_block, name="conversation_block"),
    path("<int:pk>/quick-reply/", inbox.quick_reply, name="conversation_quick_reply"),
    path("<int:pk>/row/", inbox.row, name="inbox_row"),
    path("<int:pk>/typing/", conversation_live.typing, name="conversation_typing"),
    # A conversation (messaging/views/conversation.py)
    path("<int:pk>/", conversation.conversation_detail, name="conversation"),
    path("<int:pk>/send/", conversation.conversation_post, name="conversation_post"),
    path("<int:pk>/read/", conversation.conversation_read, name="conversation_read"),
    path("<int:pk>/manage/", conversation.conversation_manage, name="conversation_manage"),
    path("<int:pk>/people/", conversation.conversation_add_people, name="conversation_add_people"),
    path("<int:pk>/rename/", conversation.conversation_rename, name="conversation_rename"),
    path("<int:pk>/notifications/", conversation.conversation_level, name="conversation_level"),
    path("<int:pk>/leave/", conversation.conversation_leave, name="conversation_leave"),
    path("<int:pk>/messages/<int:message_pk>/", conversation.message_detail, name="message_detail"),
    path(
        "<int:pk>/messages/<int:message_pk>/edit/", conversation.message_edit, name="message_edit"
    ),
    path(
        "<int:pk>/messages/<int:message_pk>/delete/",
        conversation.message_delete,
        name="message_delete",
    ),
]
