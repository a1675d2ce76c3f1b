"""The report queue in the admin: what people reported, and the three ways staff resolve it.

Registered by messaging/admin.py (Django's autodiscovery imports only an app's admin.py). The
queue opens on the open reports, newest first; every row names what was reported (a link to it
on the site and to its admin page, a thumbnail for a pin), who reported it and who made it, in
one query whatever the queue's length.

A reported message's text is shown here on its report's page: the one place staff may read a
message, because someone in its conversation chose to show it to them (issue #6's privacy rule).
"""

from django.contrib import admin, messages
from django.db.models import Case, IntegerField, Value, When
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join

from messaging.models import Report
from messaging.reports.services import (
    NothingToHide,
    report_deactivate_author,
    report_dismiss,
    report_hide_item,
    target_of,
)

OPEN = Report.Status.OPEN
# The actions are offered in the queue and on a report's own page, where staff read the item.
EVERYWHERE = [admin.ActionLocation.CHANGE_LIST, admin.ActionLocation.CHANGE_FORM]


class StatusFilter(admin.SimpleListFilter):
    """Status, open by default: the queue is what still needs a decision. "All" lists every
    report, open ones first."""

    title = "status"
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [*Report.Status.choices, (self.ALL, "All")]

    def selected(self) -> str:
        return self.value() or OPEN

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": self.selected() == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        if self.selected() == self.ALL:
            return queryset
        return queryset.filter(status=self.selected())


def _admin_url(obj) -> str:
    """The object's admin change page, if its model is registered ("" otherwise)."""
    opts = obj._meta
    try:
        return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return ""


def _site_url(target) -> str:
    obj = target.obj
    if target.kind == "comment":
        return reverse("pin_detail", args=[obj.pin_id]) + "#comments"
    if target.kind == "message":
        return ""  # staff are not in the conversation: the text is shown on the report's page
    return obj.get_absolute_url()


def _author(target):
    if target is None:
        return None
    return {
        "pin": lambda pin: pin.owner,
        "comment": lambda comment: comment.author,
        "profile": lambda profile: profile,
        "message": lambda message: message.sender,
    }[target.kind](target.obj)


def _label(target) -> str:
    obj = target.obj
    if target.kind == "pin":
        return f"Pin: {obj.title}"
    if target.kind == "comment":
        return f"Comment: {obj.text[:60]}"
    if target.kind == "profile":
        return f"Profile: @{obj.username}"
    return f"Message {obj.pk} in conversation {obj.conversation_id}"


def _person(person) -> str:
    if person is None:
        return "deleted user"
    url = _admin_url(person)
    if not url:
        return format_html("@{}", person.username)
    return format_html('<a href="{}">@{}</a>', url, person.username)


class ReportAdmin(admin.ModelAdmin):
    list_display = ["created_at", "reason", "reported_item", "reporter_link", "author", "status"]
    list_display_links = ["created_at"]
    list_filter = [StatusFilter, "reason"]
    date_hierarchy = "created_at"
    search_fields = ["reporter__username", "details"]
    list_select_related = [
        "reporter",
        "pin__image",
        "pin__owner",
        "comment__author",
        "profile",
        "message__sender",
    ]
    actions = ["dismiss", "hide_item", "deactivate_author"]
    show_full_result_count = False
    fields = [
        "reported_detail",
        "author",
        "reason",
        "details",
        "reporter_link",
        "created_at",
        "status",
        "resolved_at",
        "resolved_by",
    ]
    readonly_fields = fields

    def get_ordering(self, request):
        # Open reports first (they are the work), then newest first.
        open_first = Case(
            When(status=OPEN, then=Value(0)), default=Value(1), output_field=IntegerField()
        )
        return [open_first.asc(), "-created_at"]

    def has_add_permission(self, request) -> bool:
        return False  # reports come from people, through the site

    # --- Columns ------------------------------------------------------------------------------

    @admin.display(description="reported")
    def reported_item(self, report: Report) -> str:
        target = target_of(report)
        if target is None:
            return "(deleted)"
        links = []
        if site_url := _site_url(target):
            links.append((site_url, "on the site"))
        if admin_url := _admin_url(target.obj):
            links.append((admin_url, "in the admin"))
        thumbnail = ""
        if target.kind == "pin":
            thumbnail = format_html(
                '<img src="{}" alt="" width="48" height="48" style="object-fit:cover;'
                'border-radius:6px;vertical-align:middle;margin-right:.4rem">',
                target.obj.image.grid.url,
            )
        return format_html(
            "{}{} {}",
            thumbnail,
            _label(target),
            format_html_join(" · ", '<a href="{}">{}</a>', links),
        )

    @admin.display(description="reporter", ordering="reporter__username")
    def reporter_link(self, report: Report) -> str:
        return _person(report.reporter)

    @admin.display(description="author")
    def author(self, report: Report) -> str:
        target = target_of(report)
        if target is None:
            return "-"
        return _person(_author(target))

    @admin.display(description="reported item")
    def reported_detail(self, report: Report) -> str:
        """The reported thing in full on the report's page (a message's text included)."""
        target = target_of(report)
        if target is None:
            return "The reported item has been deleted."
        obj = target.obj
        if target.kind == "pin":
            state = "hidden" if obj.hidden_at else "visible"
            return format_html(
                '<img src="{}" alt="" width="236" style="border-radius:8px;display:block"><p>'
                "<strong>{}</strong> ({})</p><p>{}</p>{}",
                obj.image.grid.url,
                obj.title,
                state,
                obj.description,
                self.reported_item(report),
            )
        if target.kind == "comment":
            state = "hidden" if obj.hidden_at else "visible"
            return format_html(
                "<blockquote>{}</blockquote><p>({})</p>{}",
                obj.text,
                state,
                self.reported_item(report),
            )
        if target.kind == "profile":
            state = "active" if obj.is_active else "deactivated"
            return format_html(
                "<p><strong>{}</strong> @{} ({})</p><p>{}</p>{}",
                obj.name,
                obj.username,
                state,
                obj.bio,
                self.reported_item(report),
            )
        state = "removed" if obj.is_deleted else "visible to its conversation"
        card = "" if obj.kind == obj.Kind.TEXT else f" (with a {obj.get_kind_display()} card)"
        return format_html(
            "<blockquote>{}</blockquote><p>{}{}, sent {} ({})</p>",
            obj.text or "(no text)",
            _label(target),
            card,
            obj.created_at.strftime("%Y-%m-%d %H:%M"),
            state,
        )

    # --- Actions ------------------------------------------------------------------------------

    def _resolve_each(self, request, queryset, resolve, done: str) -> None:
        closed = 0
        problems = []
        for report in queryset.filter(status=OPEN):
            # An earlier report in this batch may have closed this one (same reported thing).
            if not Report.objects.open().filter(pk=report.pk).exists():
                continue
            try:
                closed += resolve(report=report, by=request.user)
            except NothingToHide as exc:
                problems.append(f"Report {report.pk}: {exc.messages[0]}")
        if closed:
            self.message_user(request, done.format(n=closed, s="" if closed == 1 else "s"))
        for problem in problems:
            self.message_user(request, problem, level=messages.WARNING)
        if not closed and not problems:
            self.message_user(
                request, "None of the selected reports were open.", level=messages.WARNING
            )

    @admin.action(
        description="Dismiss (nothing wrong)", permissions=["change"], location=EVERYWHERE
    )
    def dismiss(self, request, queryset):
        self._resolve_each(request, queryset, report_dismiss, "Dismissed {n} report{s}.")

    @admin.action(
        description="Hide the reported item (remove a message)",
        permissions=["change"],
        location=EVERYWHERE,
    )
    def hide_item(self, request, queryset):
        self._resolve_each(
            request, queryset, report_hide_item, "Hid the item; closed {n} report{s}."
        )

    @admin.action(
        description="Deactivate the author and hide their content",
        permissions=["change"],
        location=EVERYWHERE,
    )
    def deactivate_author(self, request, queryset):
        self._resolve_each(
            request,
            queryset,
            report_deactivate_author,
            "Deactivated the author; closed {n} report{s}.",
        )
