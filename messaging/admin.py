"""The staff's view of conversations: metadata only.

Privacy rule (issue #6): staff do not read private conversations. A message's text appears in the
admin only once someone reported that message (`Message.reports`); everywhere else (changelist,
change page, search, inlines, `__str__`, delete pages) a message is its kind, sender and dates.
Messages are read-only here; only a reported one may be deleted. The report queue is defined in
messaging/reports/admin.py and registered here.

The pin, board and person admins of pinboard are extended here and registered in their place
(pinboard may not import messaging): deleting a pin or board also says which conversations keep
their messages, and a person's page links to reports about them and by them.
"""

from collections.abc import Iterator

from django.contrib import admin, messages
from django.db.models import Case, Count, Exists, OuterRef, Q, Subquery, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin import UserLink
from accounts.models import User
from messaging.models import Conversation, Event, Message, Participant, Report
from messaging.reports.admin import ReportAdmin, StatusFilter
from pinboard.admin import BoardAdmin, ModerationUserAdmin, PinAdmin
from pinboard.models import Board, Pin

NOT_SHOWN = "Not shown: staff read a message only once someone reports it."


def _reported():
    return Exists(Report.objects.filter(message=OuterRef("pk")))


def _count(model, field: str, **conditions):
    rows = model.objects.filter(**{field: OuterRef("pk")}, **conditions)
    rows = rows.order_by().values(field)
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)


def _link(url_name: str, query: str, text: str) -> str:
    return format_html('<a href="{}?{}">{}</a>', reverse(url_name), query, text)


# --- Conversations ----------------------------------------------------------------------------


class ParticipantInline(admin.TabularInline):
    model = Participant
    fk_name = "conversation"
    fields = ["user", "joined_at", "left_at", "is_request", "declined_at", "level"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    """Who talks, since when, how much: never what they say."""

    list_display = [
        "__str__",
        "created_by",
        "participant_count",
        "message_count",
        "created_at",
        "last_message_at",
    ]
    list_select_related = ["created_by"]
    list_filter = ["created_at", "last_message_at"]
    date_hierarchy = "created_at"
    # Exact usernames of people in it: finds a person's conversations without reading them.
    search_fields = ["=participants__user__username", "=created_by__username"]
    fields = [
        "name",
        "created_by",
        "created_at",
        "last_message_at",
        "participant_count",
        "message_count",
        "messages_link",
    ]
    readonly_fields = fields
    inlines = [ParticipantInline]
    show_full_result_count = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                participant_count=_count(Participant, "conversation", left_at__isnull=True),
                message_count=_count(Message, "conversation"),
            )
        )

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # It would take every message with it, unreported ones included (see MessageAdmin).
        return False

    @admin.display(description="participants", ordering="participant_count")
    def participant_count(self, conversation: Conversation) -> int:
        return conversation.participant_count

    @admin.display(description="messages", ordering="message_count")
    def message_count(self, conversation: Conversation) -> int:
        return conversation.message_count

    @admin.display(description="messages (metadata)")
    def messages_link(self, conversation: Conversation) -> str:
        return _link(
            "admin:messaging_message_changelist",
            f"conversation__id__exact={conversation.pk}",
            f"{conversation.message_count} message(s): kinds, senders and dates",
        )


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ["user", "conversation", "joined_at", "left_at", "is_request", "level"]
    list_select_related = ["user", "conversation"]
    list_filter = ["is_request", "level", "joined_at"]
    search_fields = ["=user__username"]
    raw_id_fields = ["user", "conversation", "invited_by"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False  # people join through the site (requests, invitations, limits)

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# --- Messages ---------------------------------------------------------------------------------


class ReportedFilter(admin.SimpleListFilter):
    title = "reported"
    parameter_name = "reported"

    def lookups(self, request, model_admin):
        return [("yes", "Reported"), ("no", "Not reported")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(is_reported=True)
        if self.value() == "no":
            return queryset.filter(is_reported=False)
        return queryset


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    """Metadata of every message; the text only of reported ones. Not searchable by text."""

    list_display = [
        "id",
        "conversation",
        "sender",
        "kind",
        "created_at",
        "edited_at",
        "deleted_at",
        "reported",
        "content",
    ]
    list_display_links = ["id"]
    list_select_related = ["conversation", "sender"]
    list_filter = [ReportedFilter, "kind", "created_at"]
    # Who sent it, never what it says.
    search_fields = ["=sender__username"]
    fields = [
        "conversation",
        "sender",
        "kind",
        "pin",
        "board",
        "profile",
        "reply_to",
        "created_at",
        "edited_at",
        "deleted_at",
        "reported",
        "content",
        "reports_link",
    ]
    readonly_fields = fields
    show_full_result_count = False

    def get_queryset(self, request):
        # The text column is never read; a reported message's text comes as `shown_text`, from
        # the same query (so a changelist full of reported messages costs no query per row).
        return (
            super()
            .get_queryset(request)
            .defer("text")
            .annotate(
                is_reported=_reported(),
                shown_text=Case(When(_reported(), then="text"), default=None),
            )
        )

    def get_search_results(self, request, queryset, search_term):
        # Belt and braces: whatever search_fields become, text is never a searched column.
        assert not any("text" in field for field in self.get_search_fields(request))
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        if obj is not None and not Report.objects.filter(message=obj).exists():
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        # The bulk action may only take reported messages, whatever was ticked.
        unreported = queryset.exclude(Exists(Report.objects.filter(message=OuterRef("pk"))))
        if unreported.exists():
            self.message_user(
                request,
                "Only reported messages can be deleted; nothing was deleted.",
                messages.ERROR,
            )
            return
        super().delete_queryset(request, queryset)

    @admin.display(description="reported", boolean=True, ordering="is_reported")
    def reported(self, message: Message) -> bool:
        return message.is_reported

    @admin.display(description="text")
    def content(self, message: Message) -> str:
        if not message.is_reported:
            return NOT_SHOWN
        return message.shown_text or "(no text)"

    @admin.display(description="reports")
    def reports_link(self, message: Message) -> str:
        if not message.is_reported:
            return "None"
        return _link(
            "admin:messaging_report_changelist",
            f"message__id__exact={message.pk}&status=all",
            "Reports about this message",
        )


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "kind", "conversation", "message_id", "created_at"]
    list_select_related = ["user", "conversation"]
    list_filter = ["kind", "created_at"]
    search_fields = ["=user__username"]
    raw_id_fields = ["user", "conversation", "message"]
    readonly_fields = ["user", "kind", "conversation", "message", "created_at"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# --- Reports ----------------------------------------------------------------------------------

admin.site.register(Report, ReportAdmin)


# --- pinboard's and accounts' admins, extended ------------------------------------------------


def _conversations_keeping(field: str, pks: list[int]):
    carrying = Message.objects.filter(Q(**{f"{field}__in": pks}))
    rows = carrying.aggregate(n=Count("pk"), conversations=Count("conversation", distinct=True))
    yield (
        f"messages in {rows['conversations']} conversation(s) that carried it stay, showing a "
        "“no longer available” card",
        rows["n"],
    )


class MessagingPinAdmin(PinAdmin):
    """pinboard's PinAdmin; its delete confirmation also counts the messages that carried the
    pin (they stay, with a "no longer available" card)."""

    def delete_keeps(self, pks):
        return [*super().delete_keeps(pks), *_conversations_keeping("pin", pks)]


class MessagingBoardAdmin(BoardAdmin):
    """pinboard's BoardAdmin; its delete confirmation also counts the messages that carried the
    board or one of its pins (the board and every pin on it go: those messages keep their place)."""

    def delete_keeps(self, pks):
        return [
            *super().delete_keeps(pks),
            *_conversations_keeping("board", pks),
            *(
                (sentence.replace("carried it", "carried one of its pins"), n)
                for sentence, n in _conversations_keeping("pin__board", pks)
            ),
        ]


class MessagingUserAdmin(ModerationUserAdmin):
    """pinboard's ModerationUserAdmin, with links to the reports about the person and by them."""

    def content_links_for(self, user: User) -> Iterator[UserLink]:
        yield from super().content_links_for(user)
        yield (
            "reports about them",
            "admin:messaging_report_changelist",
            f"profile__id__exact={user.pk}&status=all",
            Report.objects.filter(profile=user).count(),
        )
        yield (
            "reports they made",
            "admin:messaging_report_changelist",
            f"reporter__id__exact={user.pk}&status={StatusFilter.ALL}",
            Report.objects.filter(reporter=user).count(),
        )


# Each replaces pinboard's registration: pinboard may not import messaging (imports run one way).
admin.site.unregister(Pin)
admin.site.register(Pin, MessagingPinAdmin)
admin.site.unregister(Board)
admin.site.register(Board, MessagingBoardAdmin)
admin.site.unregister(User)
admin.site.register(User, MessagingUserAdmin)
