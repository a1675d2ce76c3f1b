"""The staff's view of people. Moderation actions that reach into boards and pins (deactivate
and hide content) are added by pinboard/admin.py, which may import accounts (never the reverse)."""

from collections.abc import Callable

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from accounts.models import Block, Follow, User

# Links on a person's change page to what they made or what was said about them, each a
# (label, changelist URL name, filter query string, count) from one count query. Other apps
# (pinboard: boards, pins, comments; messaging: reports) add theirs from their admin modules.
UserLink = Callable[[User], tuple[str, str, str, int]]
USER_LINKS: list[UserLink] = []


def _follow_links(user: User):
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

    @admin.display(description="their content")
    def content_links(self, user: User) -> str:
        if user.pk is None:
            return "—"
        rows = []
        for link in [_follow_links, *USER_LINKS]:
            for label, url_name, query, count in link(user):
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
