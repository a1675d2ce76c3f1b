"""The staff's view of people. The apps that may import accounts (never the reverse) extend
`UserAdmin` and register their subclass in its place: pinboard/admin.py adds the moderation
actions that reach into boards and pins and links to them, messaging/admin.py links to reports."""

from collections.abc import Iterator

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from accounts.models import Block, Follow, User

# A link on a person's change page: (label, changelist URL name, filter query string, count).
UserLink = tuple[str, str, str, int]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "display_name", "is_active", "is_staff", "date_joined"]
    list_filter = ["is_active", "is_staff", "is_superuser", "date_joined"]
    search_fields = ["username", "email", "display_name"]
    date_hierarchy = "date_joined"
    readonly_fields = ["content_links", "last_login", "date_joined"]
    fieldsets = [
        (None, {"fields": ["content_links"]}),
        *DjangoUserAdmin.fieldsets,
        ("Profile", {"fields": ["display_name", "bio", "avatar", "message_privacy"]}),
    ]
    show_full_result_count = False

    def content_links_for(self, user: User) -> Iterator[UserLink]:
        """Links to what the person made or what was said about them, each counted with one
        query. Subclasses add their app's links after these (`yield from super()...`)."""
        yield (
            "following",
            "admin:accounts_follow_changelist",
            f"follower__id__exact={user.pk}",
            Follow.objects.filter(follower=user).count(),
        )
        yield (
            "followers",
            "admin:accounts_follow_changelist",
            f"followee__id__exact={user.pk}",
            Follow.objects.filter(followee=user).count(),
        )

    @admin.display(description="their content")
    def content_links(self, user: User) -> str:
        if user.pk is None:
            return "—"
        rows = []
        for label, url_name, query, count in self.content_links_for(user):
            try:
                url = reverse(url_name)
            except NoReverseMatch:  # that model's admin is not installed
                continue
            rows.append((url, query, count, label))
        return format_html(
            '<ul class="user-content-links">{}</ul>',
            format_html_join("", '<li><a href="{}?{}">{} {}</a></li>', rows),
        )


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ["follower", "followee", "created_at"]
    list_filter = ["created_at"]
    list_select_related = ["follower", "followee"]
    search_fields = ["follower__username", "followee__username"]
    autocomplete_fields = ["follower", "followee"]
    show_full_result_count = False


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = ["blocker", "blocked", "created_at"]
    list_select_related = ["blocker", "blocked"]
    search_fields = ["blocker__username", "blocked__username"]
    autocomplete_fields = ["blocker", "blocked"]
    date_hierarchy = "created_at"
    show_full_result_count = False
