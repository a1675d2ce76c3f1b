from django.contrib import admin
from django.utils.html import format_html

from pinboard.models import Board, BoardFollow, BoardMember, Comment, Like, Pin, PinImage


class BoardMemberInline(admin.TabularInline):
    model = BoardMember
    fk_name = "board"
    autocomplete_fields = ["user", "invited_by"]
    extra = 0


@admin.register(Board)
class BoardAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "is_secret", "pin_count", "created_at"]
    list_filter = ["is_secret", "created_at"]
    list_select_related = ["owner"]
    search_fields = ["name", "owner__username"]
    autocomplete_fields = ["owner"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "updated_at"]
    exclude = ["collaborators"]
    inlines = [BoardMemberInline]

    def get_queryset(self, request):
        return super().get_queryset(request).with_pin_count()

    @admin.display(description="pins", ordering="pin_count")
    def pin_count(self, board: Board) -> int:
        return board.pin_count


@admin.register(Pin)
class PinAdmin(admin.ModelAdmin):
    list_display = ["thumbnail", "title", "owner", "board", "created_at"]
    list_display_links = ["thumbnail", "title"]
    list_filter = ["board__is_secret", "created_at"]
    list_select_related = ["owner", "board", "image"]
    search_fields = ["title", "owner__username", "board__name"]
    autocomplete_fields = ["owner", "board", "saved_from"]
    raw_id_fields = ["image"]
    date_hierarchy = "created_at"
    readonly_fields = ["thumbnail", "created_at"]

    @admin.display(description="image")
    def thumbnail(self, pin: Pin) -> str:
        return format_html(
            '<img src="{}" alt="" width="60" style="border-radius:6px">', pin.image.grid.url
        )


@admin.register(PinImage)
class PinImageAdmin(admin.ModelAdmin):
    list_display = ["file", "width", "height", "dominant_color", "created_at"]
    date_hierarchy = "created_at"
    readonly_fields = ["file", "width", "height", "dominant_color", "created_at"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["author", "pin", "text", "created_at"]
    list_select_related = ["author", "pin"]
    search_fields = ["text", "author__username"]
    autocomplete_fields = ["author", "pin"]
    date_hierarchy = "created_at"


@admin.register(Like)
class LikeAdmin(admin.ModelAdmin):
    list_display = ["user", "pin", "created_at"]
    list_select_related = ["user", "pin"]
    autocomplete_fields = ["user", "pin"]


@admin.register(BoardFollow)
class BoardFollowAdmin(admin.ModelAdmin):
    list_display = ["user", "board", "created_at"]
    list_select_related = ["user", "board"]
    autocomplete_fields = ["user", "board"]
