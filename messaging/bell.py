"""Reading the bell: a page of someone's notifications, re-checked for them at render time.

Like a card in a message (messaging/cards.py), a notification is a reference: what it names is
checked for the viewer every time it is shown. A pin or board they may no longer see reads "a pin
you can no longer see", with no title and no link; an actor a block now stands between is not
named. A page costs a fixed number of queries: the rows (with their last actor), the viewer's
blocks, one query per kind of target (pins, boards, conversations), whatever the page's size.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince

from accounts.models import Block
from messaging.compiled import CompiledQuery
from messaging.models import Notification, NotificationKind, Participant
from pinboard.models import Board, BoardMember, Pin

Kind = NotificationKind
PAGE_SIZE = 25
DROPDOWN_SIZE = 8

# What each kind says after the actor's name; the subject (if any) follows.
_VERBS = {
    Kind.FOLLOW: "started following you",
    Kind.PIN_SAVED: "saved",
    Kind.PIN_LIKED: "liked",
    Kind.PIN_COMMENTED: "commented on",
    Kind.BOARD_INVITED: "invited you to collaborate on",
    Kind.BOARD_ACCEPTED: "joined",
    Kind.CONVERSATION_ADDED: "added you to a conversation",
    Kind.MESSAGE_REQUEST: "sent you a message request",
    Kind.MENTION: "mentioned you in a conversation",
    Kind.EXPORT_READY: "Your data download is ready",
}
GONE_PIN = "a pin you can no longer see"
GONE_BOARD = "a board you can no longer see"


@dataclass
class Line:
    """What a template shows for one notification."""

    pk: int
    who: str  # "Ada", "Ada and 4 others", "5 people", or "" (no actor, e.g. a download)
    verb: str
    subject: str  # a pin's or board's title, GONE_PIN / GONE_BOARD, or ""
    url: str  # "" when there is nothing the viewer may open
    unread: bool
    updated_at: datetime

    @property
    def text(self) -> str:
        return " ".join(part for part in (self.who, self.verb, self.subject) if part)

    @property
    def when(self) -> str:
        """Relative: "just now", "5 minutes ago", "2 days ago"."""
        if timezone.now() - self.updated_at < timedelta(minutes=1):
            return "just now"
        return f"{timesince(self.updated_at, depth=1)} ago"


def unread_count(user) -> int:
    return Notification.objects.for_recipient(user).unread().count()


def _unread_count_query(*, user):
    """The bell's count as one row (or none), for the nav's combined query
    (messaging/context_processors.py): the partial index messaging_notif_unread_idx answers it."""
    return (
        Notification.objects.filter(recipient_id=user)
        .unread()
        .values("recipient_id")
        .annotate(total=Count("pk"))
        .values_list("total")
    )


UNREAD_COUNT = CompiledQuery(_unread_count_query, "user")


# --- Cursor pagination, newest first ---------------------------------------------------------
# The list is ordered by (updated_at, id) descending (index messaging_notif_list_idx): a group
# that grows moves up. The cursor is the last line's position, "<microseconds>_<id>".

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def encode_cursor(notification: Notification) -> str:
    micros = (notification.updated_at - _EPOCH) // timedelta(microseconds=1)
    return f"{micros}_{notification.pk}"


def decode_cursor(raw: str | None) -> tuple[datetime, int] | None:
    """The position after which to continue; anything malformed means "from the start"."""
    micros, _, pk = (raw or "").partition("_")
    if not (micros.isdigit() and pk.isdigit()):
        return None
    try:
        return _EPOCH + timedelta(microseconds=int(micros)), int(pk)
    except OverflowError:
        return None


@dataclass
class Page:
    lines: list[Line]
    next_cursor: str | None


def page(user, *, after: tuple[datetime, int] | None, size: int = PAGE_SIZE) -> Page:
    rows = Notification.objects.for_recipient(user).select_related("last_actor")
    if after is not None:
        updated_at, pk = after
        rows = rows.filter(Q(updated_at__lt=updated_at) | Q(updated_at=updated_at, pk__lt=pk))
    rows = list(rows.order_by("-updated_at", "-pk")[: size + 1])
    shown = rows[:size]
    next_cursor = encode_cursor(shown[-1]) if len(rows) > size else None
    return Page(lines=prepare(shown, user), next_cursor=next_cursor)


# --- Preparing: one query per kind of target -------------------------------------------------


def prepare(notifications: list[Notification], viewer) -> list[Line]:
    """Lines for these rows (read with select_related("last_actor")), as the viewer may see them
    now. At most four queries: blocks, pins, boards, conversations (none for an empty kind)."""
    if not notifications:
        return []
    blocked = _blocked_ids(viewer)
    pins = _visible_pins(viewer, {n.pin_id for n in notifications if n.pin_id})
    boards = _visible_boards(viewer, {n.board_id for n in notifications if n.board_id})
    places = _places(viewer, {n.conversation_id for n in notifications if n.conversation_id})
    return [_line(n, blocked, pins, boards, places) for n in notifications]


def _blocked_ids(viewer) -> set[int]:
    pairs = Block.objects.involving(viewer).values_list("blocker_id", "blocked_id")
    return {other for pair in pairs for other in pair if other != viewer.pk}


def _visible_pins(viewer, ids: set[int]) -> dict[int, Pin]:
    if not ids:
        return {}
    return {pin.pk: pin for pin in Pin.objects.visible_to(viewer).filter(pk__in=ids).only("title")}


def _visible_boards(viewer, ids: set[int]) -> dict[int, Board]:
    """Boards the viewer may see, plus those they are invited to (the home page lists a pending
    invitation by the board's name too); `invited` says which is which."""
    if not ids:
        return {}
    invited = BoardMember.objects.filter(
        board=OuterRef("pk"), user=viewer, status=BoardMember.Status.INVITED
    )
    boards = (
        Board.objects.filter(pk__in=ids)
        .annotate(invited=Exists(invited))
        .filter(Q(pk__in=Board.objects.visible_to(viewer).values("pk")) | Q(invited=True))
        .only("name")
    )
    return {board.pk: board for board in boards}


def _places(viewer, ids: set[int]) -> dict[int, Participant]:
    """The viewer's current place in each conversation (absent once they left or declined)."""
    if not ids:
        return {}
    rows = Participant.objects.current().filter(user=viewer, conversation_id__in=ids)
    return {row.conversation_id: row for row in rows.only("conversation_id", "is_request")}


def _who(notification: Notification, blocked: set[int]) -> str:
    actor = notification.last_actor
    count = notification.actor_count
    if actor is None or actor.pk in blocked:
        # Deleted, or a block stands between them now: no name.
        return "Someone" if count <= 1 else f"{count} people"
    if count <= 1:
        return actor.name
    others = count - 1
    return f"{actor.name} and {others} other{'s' if others > 1 else ''}"


def _line(n: Notification, blocked, pins, boards, places) -> Line:
    subject, url = "", ""
    if n.pin_id:
        pin = pins.get(n.pin_id)
        subject, url = (pin.title or "your pin", pin.get_absolute_url()) if pin else (GONE_PIN, "")
    elif n.board_id:
        board = boards.get(n.board_id)
        if board is None:
            subject = GONE_BOARD
        else:
            subject = board.name
            url = reverse("home") if board.invited else board.get_absolute_url()
    elif n.conversation_id:
        place = places.get(n.conversation_id)
        if place is not None and place.is_request:
            url = reverse("message_requests")
        elif place is not None:
            url = reverse("conversation", args=(n.conversation_id,))
    elif n.kind == Kind.FOLLOW and n.last_actor and n.last_actor.pk not in blocked:
        url = n.last_actor.get_absolute_url()
    elif n.kind == Kind.EXPORT_READY:
        url = reverse("settings_data")
    who = "" if n.kind == Kind.EXPORT_READY else _who(n, blocked)
    return Line(
        pk=n.pk,
        who=who,
        verb=_VERBS.get(n.kind, ""),
        subject=subject,
        url=url,
        unread=n.read_at is None,
        updated_at=n.updated_at,
    )
