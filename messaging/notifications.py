"""Who hears about what (DESIGN.md §6): the one module that decides; the channels deliver.

Services call in here once their transaction commits (a message: `message_sent`); pinboard's and
accounts' services announce their events with signals (pinboard/signals.py, accounts/signals.py),
since they may not import messaging. The delivery channels are separate modules, each of which can
fail without touching the others: the bell (in-app rows, live over the event stream), email
(messaging/emails.py) and Web Push (messaging/push.py). Fan-out runs as a task
(messaging/tasks.py), so a send costs one enqueue, not nine people's worth of work.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, Q

from accounts.models import Block
from messaging.models import (
    Message,
    NotificationKind,
    NotificationPreference,
    NotifyLevel,
    Participant,
)


@dataclass(frozen=True)
class Channels:
    """Where one kind reaches a person."""

    in_app: bool
    email: bool
    push: bool
    daily_digest: bool = False


Kind = NotificationKind
# What a person gets until they choose otherwise (/settings/notifications/). Messages show in the
# inbox, not the bell; likes are too many to push.
DEFAULTS: dict[str, Channels] = {
    Kind.FOLLOW: Channels(in_app=True, email=False, push=True),
    Kind.PIN_SAVED: Channels(in_app=True, email=False, push=True),
    Kind.PIN_LIKED: Channels(in_app=True, email=False, push=False),
    Kind.PIN_COMMENTED: Channels(in_app=True, email=False, push=True),
    Kind.BOARD_INVITED: Channels(in_app=True, email=True, push=True),
    Kind.BOARD_ACCEPTED: Channels(in_app=True, email=False, push=True),
    Kind.CONVERSATION_ADDED: Channels(in_app=True, email=False, push=True),
    Kind.MESSAGE_REQUEST: Channels(in_app=True, email=True, push=True),
    Kind.MENTION: Channels(in_app=True, email=True, push=True),
    Kind.MESSAGE: Channels(in_app=False, email=True, push=True),
    Kind.EXPORT_READY: Channels(in_app=True, email=True, push=False),
}


def channels_for(user_ids: list[int], kind: str) -> dict[int, Channels]:
    """Each person's channels for one kind: their saved choice, else the default. One query."""
    default = DEFAULTS[kind]
    chosen = {
        row.user_id: Channels(
            in_app=row.in_app, email=row.email, push=row.push, daily_digest=row.daily_digest
        )
        for row in NotificationPreference.objects.filter(user_id__in=user_ids, kind=kind)
    }
    return {user_id: chosen.get(user_id, default) for user_id in user_ids}


@dataclass(frozen=True)
class MessageRecipient:
    """Someone a new message should reach beyond their open tabs."""

    user_id: int
    participant_id: int
    mentioned: bool


def message_recipients(message: Message) -> list[MessageRecipient]:
    """The people a new message notifies: in the conversation now (not the sender, not someone
    who left, declined, or has it waiting as a request — the request is its own notification),
    with no block either way between them and the sender, and whose level lets it through
    (everything, or mentions only and they are mentioned). One query, whatever the size."""
    if message.sender_id is None:
        return []
    blocked = Block.objects.filter(
        Q(blocker_id=OuterRef("user_id"), blocked_id=message.sender_id)
        | Q(blocker_id=message.sender_id, blocked_id=OuterRef("user_id"))
    )
    mentioned = Message.mentions.through.objects.filter(
        message_id=message.pk, user_id=OuterRef("user_id")
    )
    rows = (
        Participant.objects.current()
        .filter(conversation_id=message.conversation_id, is_request=False)
        .exclude(user_id=message.sender_id)
        .exclude(level=NotifyLevel.NONE)
        .annotate(blocked=Exists(blocked), mentioned=Exists(mentioned))
        .filter(blocked=False)
        .values_list("user_id", "pk", "level", "mentioned")
    )
    return [
        MessageRecipient(user_id=user_id, participant_id=pk, mentioned=is_mentioned)
        for user_id, pk, level, is_mentioned in rows
        if level == NotifyLevel.ALL or is_mentioned
    ]


def message_sent(message: Message) -> None:
    """Called by messaging.services inside the send's transaction: once it commits, one task
    fans the message out to every recipient's channels."""
    from messaging import tasks  # tasks imports the channels, which import this module

    message_id = message.pk
    transaction.on_commit(lambda: tasks.deliver_message.enqueue(message_id))


def mentioned(message: Message, user_ids: list[int]) -> None:
    """The people `message` @mentions and who may hear of it (messaging/services.py decided:
    in the conversation, no block with the sender, not a waiting request, not set to hear
    nothing), called inside the send's transaction after the mentions are stored. A stub until
    the bell lands: it will call notify(kind=MENTION, ...) for each on commit."""
