"""Who hears about what (DESIGN.md §6): the one module that decides; the channels deliver.

Services call in here once their transaction commits (a message: `message_sent`); pinboard's and
accounts' services announce their events with signals (pinboard/signals.py, accounts/signals.py),
since they may not import messaging. The delivery channels are separate modules, each of which can
fail without touching the others: the bell (in-app rows, live over the event stream), email
(messaging/emails.py) and Web Push (messaging/push.py). Fan-out runs as a task
(messaging/tasks.py), so a send costs one enqueue, not nine people's worth of work.
"""

import logging
from dataclasses import dataclass

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Now

from accounts.models import Block
from messaging import events
from messaging.models import (
    Message,
    Notification,
    NotificationActor,
    NotificationKind,
    NotificationPreference,
    NotifyLevel,
    Participant,
)

logger = logging.getLogger(__name__)


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


# --- The bell: in-app notifications ----------------------------------------------------------

# Kinds about a state (following, a save, a like, an invitation...): one actor is news once per
# subject, ever. A like, unlike and like again, or a second invitation, tells no one twice, even
# after the first was read. Comments and mentions are events: each one is news.
ONCE_PER_ACTOR = frozenset(
    {
        Kind.FOLLOW,
        Kind.PIN_SAVED,
        Kind.PIN_LIKED,
        Kind.BOARD_INVITED,
        Kind.BOARD_ACCEPTED,
        Kind.CONVERSATION_ADDED,
        Kind.MESSAGE_REQUEST,
    }
)

# Joins the unread group for a subject, or starts it; concurrent events meet on the partial unique
# index (messaging_notification_one_unread_group), and the row stays locked until commit, so the
# actor bookkeeping below is serialised per group.
_UPSERT_GROUP = """
    INSERT INTO messaging_notification
        (recipient_id, kind, pin_id, board_id, conversation_id, actor_count, file,
         created_at, updated_at)
    VALUES (%s, %s, %s, %s, %s, 0, '', now(), now())
    ON CONFLICT (recipient_id, kind, pin_id, board_id, conversation_id) WHERE read_at IS NULL
    DO UPDATE SET kind = EXCLUDED.kind
    RETURNING id
"""


def notify(
    *,
    kind: str,
    recipient_id: int,
    actor_id: int | None,
    pin=None,
    board=None,
    conversation=None,
    message=None,
) -> int | None:
    """Put an event in someone's bell, grouped with the unread ones about the same subject
    ("Ada and 4 others saved Blue sofa"). Returns the notification's id, or None when it is no
    news to them: their own doing, a block either way, in-app turned off for the kind, or (for
    ONCE_PER_ACTOR kinds) that person already told them about that subject.

    Called once the event's own transaction has committed; open tabs hear of it live, and the
    other channels (push, email) get their chance in tasks.deliver_notification."""
    if actor_id is None or actor_id == recipient_id:
        return None
    if Block.objects.between(recipient_id, actor_id).exists():
        return None
    if not channels_for([recipient_id], kind)[recipient_id].in_app:
        return None
    subject = {
        "recipient_id": recipient_id,
        "kind": kind,
        "pin_id": pin.pk if pin is not None else None,
        "board_id": board.pk if board is not None else None,
        "conversation_id": conversation.pk if conversation is not None else None,
    }
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_UPSERT_GROUP, list(subject.values()))
            notification_id = cursor.fetchone()[0]
        if (
            kind in ONCE_PER_ACTOR
            and NotificationActor.objects.filter(
                actor_id=actor_id, notification__in=Notification.objects.filter(**subject)
            ).exists()
        ):
            # Told already: undo the group this call may just have started (an empty one).
            transaction.set_rollback(True)
            return None
        new_actor = not NotificationActor.objects.filter(
            notification_id=notification_id, actor_id=actor_id
        ).exists()
        if new_actor:
            NotificationActor.objects.create(notification_id=notification_id, actor_id=actor_id)
        Notification.objects.filter(pk=notification_id).update(
            actor_count=F("actor_count") + int(new_actor),
            last_actor_id=actor_id,
            message=message,
            updated_at=Now(),
        )
        events.publish_notification(recipient_id=recipient_id)
        transaction.on_commit(lambda: deliver_notification_later(notification_id))
    return notification_id


def deliver_notification_later(notification_id: int) -> None:
    """The push (and email) channels' hook: one task per notification, after commit."""
    from messaging import tasks  # tasks imports the channels, which import this module

    tasks.deliver_notification.enqueue(notification_id)


def notify_on_commit(**kwargs) -> None:
    """notify() once the current transaction commits (what messaging's services call)."""
    transaction.on_commit(lambda: _notify_guarded(**kwargs))


def _notify_guarded(**kwargs) -> None:
    """A failing bell must not fail the write that caused it (it has committed already)."""
    try:
        notify(**kwargs)
    except Exception:
        logger.exception("Notifying %s of %s failed", kwargs.get("recipient_id"), kwargs["kind"])


# --- Where the events come from --------------------------------------------------------------
# pinboard's and accounts' services send signals after commit (they may not import messaging);
# messaging's own services call notify_on_commit. Connected in messaging/apps.py.


def on_user_followed(*, follower, followee, **_) -> None:
    _notify_guarded(kind=Kind.FOLLOW, recipient_id=followee.pk, actor_id=follower.pk)


def on_pin_saved(*, user, pin, **_) -> None:
    _notify_guarded(kind=Kind.PIN_SAVED, recipient_id=pin.owner_id, actor_id=user.pk, pin=pin)


def on_pin_liked(*, user, pin, **_) -> None:
    _notify_guarded(kind=Kind.PIN_LIKED, recipient_id=pin.owner_id, actor_id=user.pk, pin=pin)


def on_pin_commented(*, comment, **_) -> None:
    _notify_guarded(
        kind=Kind.PIN_COMMENTED,
        recipient_id=comment.pin.owner_id,
        actor_id=comment.author_id,
        pin=comment.pin,
    )


def on_board_invited(*, board, inviter, invitee, **_) -> None:
    _notify_guarded(
        kind=Kind.BOARD_INVITED, recipient_id=invitee.pk, actor_id=inviter.pk, board=board
    )


def on_board_invitation_accepted(*, membership, **_) -> None:
    # The one who invited hears of it (the owner, who alone may invite).
    _notify_guarded(
        kind=Kind.BOARD_ACCEPTED,
        recipient_id=membership.invited_by_id or membership.board.owner_id,
        actor_id=membership.user_id,
        board=membership.board,
    )


def people_joined(*, conversation, by, participants, added: bool) -> None:
    """messaging.services, inside its transaction: people now in a conversation because of `by`.
    A message request is its own notification; otherwise only an add says "added you" (a new
    conversation's first message reaches them as a message)."""
    for participant in participants:
        if participant.is_request:
            kind = Kind.MESSAGE_REQUEST
        elif added:
            kind = Kind.CONVERSATION_ADDED
        else:
            continue
        notify_on_commit(
            kind=kind, recipient_id=participant.user_id, actor_id=by.pk, conversation=conversation
        )


def preferences_for(user) -> dict[str, Channels]:
    """Every kind's channels for one person (the settings page). One query."""
    chosen = {
        row.kind: Channels(
            in_app=row.in_app, email=row.email, push=row.push, daily_digest=row.daily_digest
        )
        for row in NotificationPreference.objects.filter(user=user)
    }
    return {kind: chosen.get(kind, DEFAULTS[kind]) for kind in Kind.values}


def mentioned(message: Message, user_ids: list[int]) -> None:
    """The people `message` @mentions and who may hear of it (messaging/services.py decided:
    in the conversation, no block with the sender, not a waiting request, not set to hear
    nothing), called inside the send's transaction after the mentions are stored: each gets a
    bell line once it commits ("Ada mentioned you in Flat 3B")."""
    for user_id in user_ids:
        notify_on_commit(
            kind=Kind.MENTION,
            recipient_id=user_id,
            actor_id=message.sender_id,
            conversation=message.conversation,
            message=message,
        )
