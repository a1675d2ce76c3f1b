"""The inbox read: a person's conversations, newest activity first, one keyset page at a time.

A page costs a fixed number of queries however many conversations, people and messages there are:
the conversations with the viewer's own read marker (one query), their last messages with their
senders (one prefetch), everyone still in them (one prefetch), and the per-viewer card checks of
messaging/cards.py (at most one query per kind of card: pins, boards, profiles). The nav badge
is one SUM over the partial index `messaging_part_unread_idx`.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from django.db.models import (
    Case,
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from messaging.cards import UNAVAILABLE, VISIBLE, prepare_cards
from messaging.compiled import CompiledQuery
from messaging.models import Conversation, Message, NotifyLevel, Participant, hidden_by_block

PAGE_SIZE = 20
# Names shown in a row's title before "and N others".
NAMES_SHOWN = 2
AVATARS_SHOWN = 3
PREVIEW_LENGTH = 140

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


# --- Cursors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where the previous page ended: its last row's (last_message_at, id)."""

    last_message_at: datetime | None
    pk: int

    def encode(self) -> str:
        # Microseconds since the epoch keep the timestamp exact (PostgreSQL stores microseconds);
        # "-<id>" stands for a conversation without messages (those sort last).
        if self.last_message_at is None:
            return f"-{self.pk}"
        return f"{(self.last_message_at - _EPOCH) // _MICROSECOND}-{self.pk}"

    @classmethod
    def decode(cls, raw: str | None) -> "Cursor | None":
        """Anything that isn't a cursor this module wrote means "from the start"."""
        if not raw or raw.count("-") != 1:
            return None
        stamp, pk = raw.split("-")
        if not pk.isdigit() or (stamp and not stamp.isdigit()):
            return None
        try:
            at = _EPOCH + int(stamp) * _MICROSECOND if stamp else None
        except OverflowError:
            return None
        return cls(last_message_at=at, pk=int(pk))

    def after(self) -> Q:
        """Rows that come after this cursor in (last_message_at DESC NULLS LAST, id DESC)."""
        if self.last_message_at is None:
            return Q(last_message_at__isnull=True, pk__lt=self.pk)
        return (
            Q(last_message_at__lt=self.last_message_at)
            | Q(last_message_at=self.last_message_at, pk__lt=self.pk)
            | Q(last_message_at__isnull=True)
        )


@dataclass(frozen=True)
class InboxPage:
    conversations: list[Conversation]
    next_cursor: str | None

    @property
    def has_next(self) -> bool:
        return self.next_cursor is not None


# --- The query -----------------------------------------------------------------------------


def inbox_conversations(user, *, requests: bool = False) -> QuerySet[Conversation]:
    """The person's conversations with everything a row shows, newest activity first: their
    inbox, or with `requests` the message requests waiting for them (never both).

    `viewer_unread`, `viewer_mentions` and `viewer_level` come from the viewer's own
    Participant row (a separate filtered join, so they never mix with another participant's);
    `last_message` is fetched with its sender (its card is read by `describe`); `people` holds
    everyone still in the conversation (viewer too).
    """
    return (
        Conversation.objects.readable_by(user)
        .annotate(viewer=FilteredRelation("participants", condition=Q(participants__user=user)))
        .filter(viewer__is_request=requests)
        .annotate(
            viewer_unread=F("viewer__unread_count"),
            viewer_mentions=F("viewer__unread_mentions"),
            viewer_level=F("viewer__level"),
        )
        .prefetch_related(
            Prefetch(
                # Not with_card_data(): a preview shows no quote.
                "last_message",
                queryset=Message.objects.select_related("sender").with_block_flag(user),
            ),
            Prefetch(
                "participants",
                queryset=Participant.objects.active().select_related("user"),
                to_attr="people",
            ),
        )
        .order_by(F("last_message_at").desc(nulls_last=True), F("id").desc())
    )


def inbox_page(
    user, *, cursor: Cursor | None = None, size: int = PAGE_SIZE, requests: bool = False
) -> InboxPage:
    """One page of the inbox (or of the Requests tab), ready to render (see `describe`)."""
    conversations = inbox_conversations(user, requests=requests)
    if cursor is not None:
        conversations = conversations.filter(cursor.after())
    rows = list(conversations[: size + 1])
    page, more = rows[:size], len(rows) > size
    describe(page, user)
    next_cursor = None
    if more:
        last = page[-1]
        next_cursor = Cursor(last_message_at=last.last_message_at, pk=last.pk).encode()
    return InboxPage(conversations=page, next_cursor=next_cursor)


def inbox_row(user, pk: int) -> Conversation | None:
    """One conversation as an inbox row (after a quick reply), or None if the person isn't in it."""
    conversation = inbox_conversations(user).filter(pk=pk).first()
    if conversation is not None:
        describe([conversation], user)
    return conversation


# What one conversation adds to the badge: every unread message, only those that mention the
# person ("mentions only"), or nothing.
BADGE_COUNT = Case(
    When(level=NotifyLevel.ALL, then=F("unread_count")),
    When(level=NotifyLevel.MENTIONS, then=F("unread_mentions")),
    default=Value(0),
)


def _unread_total_query(*, user):
    """Unread counts over the person's participations with unread messages (the partial index
    messaging_part_unread_idx's conditions) in conversations they may read: the one rule,
    ConversationQuerySet.readable_by, so requests, declined requests and conversations hidden by
    a block never count. Each conversation counts as its level says (`BADGE_COUNT`)."""
    readable = Conversation.objects.readable_by(User(pk=user)).filter(pk=OuterRef("conversation"))
    return (
        Participant.objects.filter(
            user_id=user, left_at__isnull=True, unread_count__gt=0, is_request=False
        )
        .exclude(level=NotifyLevel.NONE)
        .filter(Exists(readable))
        .values("user_id")
        .annotate(total=Sum(BADGE_COUNT))
        .values_list("total")
    )


# The nav badge is on every page: compiled once, because building this query through the ORM
# (the block rule's nested EXISTS) cost ~2.5 ms of Python per page, ten times its execution.
UNREAD_TOTAL = CompiledQuery(_unread_total_query, "user")


def unread_total(user) -> int:
    """Unread messages over the person's active conversations, as each one's level says: one
    SUM that the partial index messaging_part_unread_idx answers. Message requests, declined
    requests and conversations hidden by a block never count."""
    if user is None or not user.is_authenticated:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(*UNREAD_TOTAL.bind(user=user.pk))
        row = cursor.fetchone()
    return row[0] if row else 0


def request_count(user) -> int:
    """Message requests waiting for the person (the Requests tab's count): one COUNT over their
    own participant rows, which are few."""
    if user is None or not user.is_authenticated:
        return 0
    return (
        Participant.objects.current()
        .filter(user=user, is_request=True)
        .exclude(hidden_by_block(user, OuterRef("conversation")))
        .count()
    )


# --- What a row shows ----------------------------------------------------------------------


def describe(conversations: list[Conversation], viewer) -> None:
    """Set what each row shows on the conversations: `others`, `avatars`, `title`, `preview`,
    `when` (relative), `unread` (as the level counts) and a fresh `reply_key` for its quick
    reply."""
    last_messages = [c.last_message for c in conversations if c.last_message is not None]
    # A preview line names a pin or board; it shows no cover.
    prepare_cards(last_messages, viewer, covers=False)
    now = timezone.now()
    for conversation in conversations:
        others = sorted(
            (p.user for p in conversation.people if p.user_id != viewer.pk),
            key=lambda person: person.name.lower(),
        )
        conversation.others = others
        conversation.avatars = others[:AVATARS_SHOWN]
        conversation.title = conversation.name or people_title(others)
        conversation.preview = preview(conversation.last_message, viewer)
        conversation.when = relative_time(conversation.last_message_at, now)
        conversation.unread = {
            NotifyLevel.ALL: conversation.viewer_unread,
            NotifyLevel.MENTIONS: conversation.viewer_mentions,
        }.get(conversation.viewer_level, 0)
        conversation.reply_key = uuid.uuid4()
        conversation.reply_text = ""
        conversation.reply_errors = []


def people_title(others: list) -> str:
    """ "Ada", "Ada and Bram", "Ada, Bram and Chen", "Ada, Bram and 2 others"."""
    names = [person.name for person in others]
    if not names:
        return "Only you"
    if len(names) == 1:
        return names[0]
    if len(names) <= NAMES_SHOWN + 1:
        return f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{', '.join(names[:NAMES_SHOWN])} and {len(names) - NAMES_SHOWN} others"


_CARD_NOUN = {
    Message.Kind.PIN: "a pin",
    Message.Kind.BOARD: "a board",
    Message.Kind.PROFILE: "a profile",
}


def preview(message: Message | None, viewer) -> str:
    """The line under a row's title, for this viewer (a card's title only if they may see it).

    Expects the message's card prepared for the same viewer (messaging/cards.py).
    """
    if message is None:
        return "No messages yet"
    if message.is_deleted:
        return "message deleted"
    if getattr(message, "from_blocked", False):
        return "Message from someone you blocked"
    if message.sender_id is None:
        who = "Deleted user"
    elif message.sender_id == viewer.pk:
        who = "You"
    else:
        who = message.sender.name
    if message.kind == Message.Kind.TEXT:
        return f"{who}: {_snippet(message.text)}"
    noun = _CARD_NOUN[message.kind]
    state = message.card_state
    if state == UNAVAILABLE:
        return f"{who} sent {noun} that's no longer available"
    if message.kind == Message.Kind.PIN and state == VISIBLE:
        return f"{who} sent a pin: {message.pin.title}"
    if message.kind == Message.Kind.BOARD and state == VISIBLE:
        return f"{who} sent a board: {message.board.name}"
    # A profile, or a pin or board this viewer may not see: no title.
    return f"{who} sent {noun}"


def _snippet(text: str) -> str:
    """One line, short enough for a row (the row's CSS ellipsis does the rest)."""
    line = " ".join(text.split())
    return line if len(line) <= PREVIEW_LENGTH else f"{line[: PREVIEW_LENGTH - 1]}…"


def relative_time(moment: datetime | None, now: datetime) -> str:
    """ "just now", "5 min", "3 h", "2 d", then the date ("12 Mar", or "12 Mar 2023")."""
    if moment is None:
        return ""
    elapsed = now - moment
    if elapsed < timedelta(minutes=1):
        return "just now"
    if elapsed < timedelta(hours=1):
        return f"{elapsed // timedelta(minutes=1)} min"
    if elapsed < timedelta(days=1):
        return f"{elapsed // timedelta(hours=1)} h"
    if elapsed < timedelta(days=7):
        return f"{elapsed.days} d"
    local = timezone.localtime(moment)
    if local.year == timezone.localtime(now).year:
        return date_format(local, "j M")
    return date_format(local, "j M Y")
