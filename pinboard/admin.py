"""The staff's view of boards and pins: moderation (hide / unhide), and deletions that say what
they take with them and what they leave alone. People's admin gets the moderation actions and
links to their boards, pins and comments here (`ModerationUserAdmin`).

Changelists cost a fixed number of queries whatever the row count: related rows come through
`list_select_related`, counts through annotations, and big tables skip the second, unfiltered
COUNT(*) (`show_full_result_count = False`).
"""

import dataclasses
from collections.abc import Callable, Iterator

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected
from django.contrib.admin.options import ActionLocation
from django.contrib.postgres.search import SearchQuery
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin import UserAdmin, UserLink
from accounts.models import User
from pinboard import services
from pinboard.images import pin_images_delete_unused
from pinboard.models import (
    SEARCH_CONFIG,
    Board,
    BoardFollow,
    BoardMember,
    Comment,
    Like,
    Pin,
    PinImage,
)

HIDDEN_HELP = "Hidden by moderators: only the owner still sees it, with a notice."


def _count_subquery(queryset, field: str):
    rows = queryset.filter(**{field: OuterRef("pk")}).order_by().values(field)
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)


class HiddenFilter(admin.SimpleListFilter):
    title = "moderation"
    parameter_name = "hidden"

    def lookups(self, request, model_admin):
        return [("yes", "Hidden"), ("no", "Shown")]

    def queryset(self, request, queryset):
        hidden = self.hidden_q()
        if self.value() == "yes":
            return queryset.filter(hidden)
        if self.value() == "no":
            return queryset.exclude(hidden)
        return queryset

    def hidden_q(self) -> Q:
        return Q(hidden_at__isnull=False)


class PinHiddenFilter(HiddenFilter):
    def lookups(self, request, model_admin):
        return [("yes", "Hidden (itself or its board)"), ("no", "Shown")]

    def hidden_q(self) -> Q:
        return Q(hidden_at__isnull=False) | Q(board__hidden_at__isnull=False)


class ModerationMixin:
    """Hide / unhide actions through the services, and a delete confirmation (single and bulk)
    that also lists what the deletion does *not* take: `delete_keeps(pks)`."""

    hide_service: Callable  # the service setting the flag: <model>_set_hidden(<model>=, hidden=)

    def _set_hidden(self, request, queryset, *, hidden: bool) -> None:
        changed = 0
        with transaction.atomic():
            for obj in queryset:
                if (obj.hidden_at is not None) != hidden:
                    self.hide_service(**{self.model._meta.model_name: obj, "hidden": hidden})
                    changed += 1
        verb = "Hid" if hidden else "Unhid"
        name = (
            self.model._meta.verbose_name if changed == 1 else self.model._meta.verbose_name_plural
        )
        self.message_user(request, f"{verb} {changed} {name}.", messages.SUCCESS)

    @admin.action(description="Hide selected from everyone but their owner", permissions=["change"])
    def hide(self, request, queryset):
        self._set_hidden(request, queryset, hidden=True)

    @admin.action(description="Unhide selected (show them again)", permissions=["change"])
    def unhide(self, request, queryset):
        self._set_hidden(request, queryset, hidden=False)

    @admin.display(description="hidden", boolean=True, ordering="hidden_at")
    def is_hidden(self, obj) -> bool:
        return obj.hidden_at is not None

    # --- What a deletion keeps --------------------------------------------------------------

    def delete_keeps(self, pks: list[int]) -> list[tuple[str, int]]:
        """What deleting these rows leaves in place, as (sentence, count) pairs for the delete
        confirmation page. Apps that pinboard may not import (messaging: conversations that
        carried a pin or board) extend it in a subclass (`[*super().delete_keeps(pks), ...]`)."""
        return []

    def render_delete_form(self, request, context):
        context["kept_on_delete"] = self.delete_keeps([context["object"].pk])
        return super().render_delete_form(request, context)

    def get_actions(self, request, action_location=ActionLocation.CHANGE_LIST):
        actions = super().get_actions(request, action_location=action_location)
        if "delete_selected" in actions:
            actions["delete_selected"] = dataclasses.replace(
                actions["delete_selected"], func=_delete_selected_showing_kept
            )
        return actions


def _delete_selected_showing_kept(modeladmin, request, queryset):
    """Django's bulk delete, with the confirmation page also listing what is kept."""
    response = delete_selected(modeladmin, request, queryset)
    if isinstance(response, TemplateResponse):
        pks = list(queryset.values_list("pk", flat=True))
        response.context_data["kept_on_delete"] = modeladmin.delete_keeps(pks)
    return response


class BoardMemberInline(admin.TabularInline):
    model = BoardMember
    fk_name = "board"
    autocomplete_fields = ["user", "invited_by"]
    extra = 0


@admin.register(Board)
class BoardAdmin(ModerationMixin, admin.ModelAdmin):
    hide_service = staticmethod(services.board_set_hidden)
    list_display = ["name", "owner", "is_secret", "is_hidden", "pin_count", "created_at"]
    list_filter = [HiddenFilter, "is_secret", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__username"]
    autocomplete_fields = ["owner"]
    date_hierarchy = "created_at"
    readonly_fields = ["hidden_at", "pin_count", "pins_link", "created_at", "updated_at"]
    exclude = ["collaborators"]
    inlines = [BoardMemberInline]
    actions = ["hide", "unhide"]
    show_full_result_count = False
    delete_confirmation_max_display = 50

    def get_queryset(self, request):
        # Every pin, hidden or not (with_pin_count() counts what the public sees).
        pins = _count_subquery(Pin.objects.all(), "board")
        return super().get_queryset(request).defer("search_vector").annotate(pin_count=pins)

    @admin.display(description="pins", ordering="pin_count")
    def pin_count(self, board: Board) -> int:
        return board.pin_count

    @admin.display(description="pins on this board")
    def pins_link(self, board: Board) -> str:
        return _changelist_link(Pin, f"board__id__exact={board.pk}", board.pin_count, "pin")

    def delete_keeps(self, pks):
        saves = Pin.objects.filter(saved_from__board__in=pks).exclude(board__in=pks).count()
        return [(_SAVES_KEPT, saves)]

    def delete_model(self, request, obj):
        services.board_delete(board=obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        image_ids = set(Pin.objects.filter(board__in=queryset).values_list("image_id", flat=True))
        queryset.delete()
        pin_images_delete_unused(image_ids)


_SAVES_KEPT = (
    "saves of these pins by other people on their own boards keep working (they share the "
    "image, which is deleted only when no pin uses it)"
)


def _changelist_link(model, query: str, count: int, noun: str) -> str:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    return format_html(
        '<a href="{}?{}">{} {}{}</a>', url, query, count, noun, "" if count == 1 else "s"
    )


@admin.register(Pin)
class PinAdmin(ModerationMixin, admin.ModelAdmin):
    hide_service = staticmethod(services.pin_set_hidden)
    list_display = ["thumbnail", "title", "owner", "board", "is_hidden", "created_at"]
    list_display_links = ["thumbnail", "title"]
    list_filter = [PinHiddenFilter, "board__is_secret", "created_at"]
    list_select_related = ["owner", "board", "image"]
    # Searched by get_search_results below: words through the full-text index, or an exact
    # owner username (icontains over every title was a 100 ms scan on 100,000 pins).
    search_fields = ["title"]
    search_help_text = "Words of the title or description, or an exact username."
    autocomplete_fields = ["owner", "board", "saved_from"]
    raw_id_fields = ["image"]
    readonly_fields = ["thumbnail", "hidden_at", "saves_link", "created_at"]
    actions = ["hide", "unhide"]
    show_full_result_count = False
    delete_confirmation_max_display = 50

    def get_queryset(self, request):
        return super().get_queryset(request).defer("search_vector", "board__search_vector")

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        words = SearchQuery(term, search_type="websearch", config=SEARCH_CONFIG)
        return queryset.filter(Q(search_vector=words) | Q(owner__username__iexact=term)), False

    @admin.display(description="image")
    def thumbnail(self, pin: Pin) -> str:
        return format_html(
            '<img src="{}" alt="" width="60" height="{}" style="border-radius:6px">',
            pin.image.grid_url,
            pin.image.height_for_width(60),
        )

    @admin.display(description="saves by others")
    def saves_link(self, pin: Pin) -> str:
        count = Pin.objects.filter(saved_from=pin).count()
        return _changelist_link(Pin, f"saved_from__id__exact={pin.pk}", count, "save")

    def delete_keeps(self, pks):
        saves = Pin.objects.filter(saved_from__in=pks).exclude(pk__in=pks).count()
        return [(_SAVES_KEPT, saves)]

    def delete_model(self, request, obj):
        services.pin_delete(pin=obj)

    @transaction.atomic
    def delete_queryset(self, request, queryset):
        image_ids = set(queryset.values_list("image_id", flat=True))
        queryset.delete()
        pin_images_delete_unused(image_ids)


@admin.register(PinImage)
class PinImageAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "file", "width", "height", "pin_count", "created_at"]
    list_filter = ["created_at"]
    readonly_fields = ["thumbnail", "file", "width", "height", "dominant_color", "created_at"]
    show_full_result_count = False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(pin_count=_count_subquery(Pin.objects.all(), "image"))
        )

    def has_add_permission(self, request):
        return False  # images come with pins, through the upload pipeline

    def has_delete_permission(self, request, obj=None):
        return False  # deleted by the services once no pin uses them

    @admin.display(description="image")
    def thumbnail(self, image: PinImage) -> str:
        return format_html(
            '<img src="{}" alt="" width="60" height="{}" style="border-radius:6px">',
            image.grid_url,
            image.height_for_width(60),
        )

    @admin.display(description="pins using it", ordering="pin_count")
    def pin_count(self, image: PinImage) -> int:
        return image.pin_count


@admin.register(Comment)
class CommentAdmin(ModerationMixin, admin.ModelAdmin):
    hide_service = staticmethod(services.comment_set_hidden)
    list_display = ["author", "pin", "text", "is_hidden", "created_at"]
    list_filter = [HiddenFilter, "created_at"]
    list_select_related = ["author", "pin"]
    search_fields = ["text", "author__username"]
    autocomplete_fields = ["author", "pin"]
    readonly_fields = ["hidden_at", "created_at"]
    actions = ["hide", "unhide"]
    show_full_result_count = False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("pin__search_vector")


@admin.register(Like)
class LikeAdmin(admin.ModelAdmin):
    list_display = ["user", "pin", "created_at"]
    list_filter = ["created_at"]
    list_select_related = ["user", "pin"]
    autocomplete_fields = ["user", "pin"]
    search_fields = ["user__username"]
    show_full_result_count = False


@admin.register(BoardFollow)
class BoardFollowAdmin(admin.ModelAdmin):
    list_display = ["user", "board", "created_at"]
    list_filter = ["created_at"]
    list_select_related = ["user", "board"]
    autocomplete_fields = ["user", "board"]
    search_fields = ["user__username", "board__name"]
    show_full_result_count = False


@admin.register(BoardMember)
class BoardMemberAdmin(admin.ModelAdmin):
    list_display = ["user", "board", "status", "invited_by", "created_at"]
    list_filter = ["status"]
    list_select_related = ["user", "board", "invited_by"]
    autocomplete_fields = ["user", "board", "invited_by"]
    search_fields = ["user__username", "board__name"]
    date_hierarchy = "created_at"


# --- People: moderation actions and links to their boards, pins and comments ----------------


class ModerationUserAdmin(UserAdmin):
    """accounts' UserAdmin, with actions through pinboard's services (which also end sessions
    and hide content) and links to the person's boards, pins and comments."""

    actions = ["activate", "deactivate", "deactivate_and_hide", "reactivate_and_unhide"]

    def content_links_for(self, user: User) -> Iterator[UserLink]:
        yield from super().content_links_for(user)
        yield (
            "boards",
            "admin:pinboard_board_changelist",
            f"owner__id__exact={user.pk}",
            Board.objects.filter(owner=user).count(),
        )
        yield (
            "pins",
            "admin:pinboard_pin_changelist",
            f"owner__id__exact={user.pk}",
            Pin.objects.filter(owner=user).count(),
        )
        yield (
            "comments",
            "admin:pinboard_comment_changelist",
            f"author__id__exact={user.pk}",
            Comment.objects.filter(author=user).count(),
        )

    def _each_other_user(self, request, queryset):
        # Staff never lock themselves out by ticking their own row.
        return queryset.exclude(pk=request.user.pk)

    def _apply(self, request, queryset, service, done: str, **options) -> None:
        with transaction.atomic():
            people = list(self._each_other_user(request, queryset))
            for person in people:
                service(user=person, **options)
        self.message_user(request, f"{done} {len(people)} user(s).", messages.SUCCESS)

    @admin.action(description="Activate selected users", permissions=["change"])
    def activate(self, request, queryset):
        self._apply(request, queryset, services.user_reactivate, "Activated", unhide_content=False)

    @admin.action(
        description="Deactivate selected users (signed out, can no longer sign in)",
        permissions=["change"],
    )
    def deactivate(self, request, queryset):
        self._apply(request, queryset, services.user_deactivate, "Deactivated", hide_content=False)

    @admin.action(
        description="Deactivate selected users and hide their boards, pins and comments",
        permissions=["change"],
    )
    def deactivate_and_hide(self, request, queryset):
        self._apply(
            request,
            queryset,
            services.user_deactivate,
            "Deactivated and hid the content of",
            hide_content=True,
        )

    @admin.action(
        description="Activate selected users and unhide all their content", permissions=["change"]
    )
    def reactivate_and_unhide(self, request, queryset):
        self._apply(
            request,
            queryset,
            services.user_reactivate,
            "Activated and unhid the content of",
            unhide_content=True,
        )


# Replaces accounts' registration: accounts may not import pinboard (imports run one way).
admin.site.unregister(User)
admin.site.register(User, ModerationUserAdmin)
