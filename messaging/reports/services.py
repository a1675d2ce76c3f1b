"""Reports: every write to `Report`, and the read rules that say what a person may report.

A person reports only what they can see: a pin or comment through pinboard's read rules, a
message through `Message.objects.readable_by`, a profile of an active person. Anything else
is a 404 in the views, exactly like a missing id (DESIGN.md §3.1).

Staff resolve reports from the admin queue (messaging/reports/admin.py) through the functions at
the end: dismiss, hide the reported thing, or deactivate its author. Each resolution records who
resolved it and when, and closes every open report about the same thing, so the queue never asks
twice about something already dealt with.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import User
from messaging.models import Message, Report
from messaging.services import message_remove
from pinboard import services as pinboard_services
from pinboard.models import Comment, Pin

KINDS = ("pin", "comment", "profile", "message")
THANKS = "Thanks, we'll review it."


@dataclass(frozen=True)
class Target:
    """One reportable thing, already read through the reporter's read rule."""

    kind: str  # one of KINDS
    obj: Pin | Comment | User | Message

    @property
    def author_id(self) -> int | None:
        if self.kind == "pin":
            return self.obj.owner_id
        if self.kind == "comment":
            return self.obj.author_id
        if self.kind == "message":
            return self.obj.sender_id
        return self.obj.pk

    def filter(self) -> Q:
        """Reports about this same thing."""
        return Q(**{self.kind: self.obj})


def reportable(kind: str, user: User) -> QuerySet:
    """What `user` may report of one kind: exactly what they may see of it."""
    if kind == "pin":
        return Pin.objects.visible_to(user).select_related("image", "owner")
    if kind == "comment":
        return Comment.objects.visible_to(user).select_related("author", "pin")
    if kind == "message":
        # A deleted message has nothing left to report (its text and card are gone).
        return (
            Message.objects.readable_by(user)
            .filter(deleted_at__isnull=True)
            .select_related("sender")
        )
    if kind == "profile":
        return User.objects.active()
    raise ValueError(f"Unknown report kind: {kind}")


def target_of(report: Report) -> Target | None:
    """What a report is about, or None when that thing has since been deleted."""
    for kind in KINDS:
        obj = getattr(report, kind)
        if obj is not None:
            return Target(kind, obj)
    return None


def refusal(*, reporter: User, target: Target) -> str:
    """Why this person can't report this thing at all ("" when they can)."""
    if target.author_id == reporter.pk:
        if target.kind == "profile":
            return "You can't report yourself."
        return f"This is your own {target.kind}, so you can't report it."
    return ""


def already_reported(*, reporter: User, target: Target) -> bool:
    """The person has an open report about this thing (a new one would only repeat it)."""
    return Report.objects.open().filter(target.filter(), reporter=reporter).exists()


ALREADY_REPORTED = "You've already reported this {noun}. It's under review."


@transaction.atomic
def report_create(
    *,
    reporter: User,
    reason: str,
    details: str = "",
    pin: Pin | None = None,
    comment: Comment | None = None,
    profile: User | None = None,
    message: Message | None = None,
) -> Report:
    """File a report about exactly one thing the reporter can see (the caller has read it
    through `reportable`). Refuses reporting your own thing, and a repeat of a report that is
    still open, with a ValidationError coded "own" or "duplicate"."""
    named = {
        kind: obj
        for kind, obj in {
            "pin": pin,
            "comment": comment,
            "profile": profile,
            "message": message,
        }.items()
        if obj is not None
    }
    if len(named) != 1:
        raise ValueError("A report is about exactly one pin, comment, profile or message.")
    [(kind, obj)] = named.items()
    target = Target(kind, obj)
    if reason not in Report.Reason.values:
        raise ValidationError("Choose a reason from the list.", code="reason")
    details = details.strip()
    max_details = Report._meta.get_field("details").max_length
    if len(details) > max_details:
        raise ValidationError(
            f"Details can be up to {max_details:,} characters; yours have {len(details):,}.",
            code="too_long",
        )
    if why := refusal(reporter=reporter, target=target):
        raise ValidationError(why, code="own")
    # Lock the reporter's row: two simultaneous submits of the same report then run one after
    # the other, and the second sees the first (no unique constraint can say "while open").
    User.objects.select_for_update().filter(pk=reporter.pk).exists()
    if already_reported(reporter=reporter, target=target):
        raise ValidationError(ALREADY_REPORTED.format(noun=target.kind), code="duplicate")
    return Report.objects.create(reporter=reporter, reason=reason, details=details, **named)


# --- Resolving reports (the admin queue) ------------------------------------------------------


def _resolve(*, report: Report, by: User, status: str) -> int:
    """Close this report and every other open report about the same thing. Returns how many
    reports were closed."""
    target = target_of(report)
    same = Report.objects.filter(pk=report.pk)
    if target is not None:
        same = Report.objects.filter(
            Q(pk=report.pk) | (target.filter() & Q(status=Report.Status.OPEN))
        )
    return same.filter(status=Report.Status.OPEN).update(
        status=status, resolved_at=timezone.now(), resolved_by=by
    )


@transaction.atomic
def report_dismiss(*, report: Report, by: User) -> int:
    """Nothing wrong: close the report (and the open ones about the same thing)."""
    return _resolve(report=report, by=by, status=Report.Status.DISMISSED)


class NothingToHide(ValidationError):
    pass


@transaction.atomic
def report_hide_item(*, report: Report, by: User) -> int:
    """Hide the reported pin or comment from every page, or remove the reported message (it
    stays in its conversation as "message deleted"). A profile can't be hidden on its own:
    deactivating its owner is the way (`report_deactivate_author`)."""
    target = target_of(report)
    if target is None:
        raise NothingToHide("The reported item no longer exists.", code="gone")
    if target.kind == "pin":
        pinboard_services.pin_set_hidden(pin=target.obj, hidden=True)
    elif target.kind == "comment":
        pinboard_services.comment_set_hidden(comment=target.obj, hidden=True)
    elif target.kind == "message":
        message_remove(message=target.obj)
    else:
        raise NothingToHide(
            "A profile can't be hidden on its own; deactivate the person instead.",
            code="profile",
        )
    return _resolve(report=report, by=by, status=Report.Status.ACTIONED)


@transaction.atomic
def report_deactivate_author(*, report: Report, by: User) -> int:
    """Deactivate whoever made the reported thing, and hide what they posted."""
    target = target_of(report)
    author_id = target.author_id if target is not None else None
    if author_id is None:
        raise NothingToHide("The reported item or its author no longer exists.", code="gone")
    author = User.objects.get(pk=author_id)
    if author.pk == by.pk:
        raise NothingToHide("You can't deactivate your own account here.", code="self")
    pinboard_services.user_deactivate(user=author, hide_content=True)
    return _resolve(report=report, by=by, status=Report.Status.ACTIONED)
