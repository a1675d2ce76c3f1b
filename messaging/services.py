"""Every write to conversations and messages: one transaction each, keyword-only arguments."""

import functools
import uuid
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Block, User
from accounts.services import user_block
from messaging import events, mentions, notifications
from messaging.models import (  # the value types re-exported: callers build sends with them
    MAX_TEXT_LENGTH,
    NO_ATTACHMENT,
    Attachment,
    Conversation,
    Event,
    Message,
    Notification,
    NotificationKind,
    NotificationPreference,
    NotifyLevel,
    Participant,
    SecretContentRefused,
    max_participants,
)
from messaging.permissions import cannot_message, needs_request
from pinboard.models import Board, Pin

EDIT_WINDOW = timedelta(minutes=15)


def _check_text(text: str, attachment: Attachment) -> str:
    text = text.strip()
    if len(text) > MAX_TEXT_LENGTH:
        raise ValidationError(
            f"Messages can be up to {MAX_TEXT_LENGTH:,} characters; this one has {len(text):,}.",
            code="too_long",
        )
    if not text and attachment.kind == Message.Kind.TEXT:
        raise ValidationError("Write a message first.", code="empty")
    return text


def _check_attachment_visible(*, sender: User, attachment: Attachment, people: list[User]):
    """The sender must see what they send, and so must everyone who will receive it."""
    if attachment.pin is not None:
        visible = Pin.objects.visible_to
        target = attachment.pin
    elif attachment.board is not None:
        visible = Board.objects.visible_to
        target = attachment.board
    else:
        return
    if not visible(sender).filter(pk=target.pk).exists():
        raise PermissionDenied("You can't send something you can't see.")
    blind = [person for person in people if not visible(person).filter(pk=target.pk).exists()]
    if blind:
        board = attachment.board or attachment.pin.board
        raise SecretContentRefused(
            people=blind,
            board=board,
            is_board=attachment.board is not None,
            can_invite=board.owner_id == sender.pk,
        )


def _check_can_message(sender: User, people: list[User]) -> None:
    refused = cannot_message(sender, people)
    if refused:
        names = ", ".join(person.name for person in refused)
        raise ValidationError(f"You can't message {names}.", code="cannot_message")


def _existing_for(people: set[User]) -> Conversation | None:
    """The conversation whose current members are exactly these people, if there is one."""
    ids = [person.pk for person in people]
    # Only conversations the first person is in are candidates (bounded by their inbox, not
    # by every conversation on the site).
    first = ids[0]
    candidates = Conversation.objects.filter(
        pk__in=Participant.objects.filter(user_id=first, left_at__isnull=True).values(
            "conversation_id"
        )
    )
    return (
        candidates.annotate(
            members=Count("participants", filter=Q(participants__left_at__isnull=True)),
            matching=Count(
                "participants",
                filter=Q(participants__left_at__isnull=True, participants__user__in=ids),
            ),
        )
        .filter(members=len(ids), matching=len(ids))
        .order_by("-last_message_at", "-id")
        .first()
    )


def lock_conversation(conversation: Conversation) -> None:
    """Serialise the writers that must not interleave in one conversation (sends, adds).

    FOR NO KEY UPDATE, not FOR UPDATE: every row that refers to the conversation (an event, a
    participant) takes a key-share lock on it when inserted, and a plain FOR UPDATE would make
    that insert wait. A read marker holding a person's participant row while it records its
    event would then deadlock with a send waiting for that same row.
    """
    Conversation.objects.select_for_update(no_key=True).filter(pk=conversation.pk).exists()


def _append(
    *,
    conversation: Conversation,
    sender: User,
    text: str,
    attachment: Attachment,
    reply_to: Message | None,
    idempotency_key: uuid.UUID | None,
) -> Message:
    # Lock the conversation first: sends into one conversation then take their ids in commit
    # order, so a page asking for messages "after id N" can never miss one committed late.
    lock_conversation(conversation)
    message = Message.objects.create(
        conversation=conversation,
        sender=sender,
        text=text,
        kind=attachment.kind,
        pin=attachment.pin,
        board=attachment.board,
        profile=attachment.profile,
        reply_to=reply_to,
        idempotency_key=idempotency_key,
    )
    Conversation.objects.filter(pk=conversation.pk).update(
        last_message=message, last_message_at=message.created_at
    )
    mentioned = _store_mentions(message, conversation=conversation, sender=sender)
    unread = {"unread_count": F("unread_count") + 1}
    if mentioned:  # in the same statement: the mentions-only badge counts these
        named = [user_id for user_id, _ in mentioned]
        unread["unread_mentions"] = F("unread_mentions") + Case(
            When(user_id__in=named, then=Value(1)), default=Value(0)
        )
    Participant.objects.current().filter(conversation=conversation).exclude(user=sender).update(
        **unread
    )
    Participant.objects.filter(conversation=conversation, user=sender).update(
        last_read_message_id=message.pk, unread_count=0, unread_mentions=0
    )
    events.publish_to_members(
        kind=Event.Kind.MESSAGE_NEW, conversation=conversation, message=message
    )
    if notify := [user_id for user_id, reachable in mentioned if reachable]:
        notifications.mentioned(message, notify)
    notifications.message_sent(message)
    return message


def _store_mentions(
    message: Message, *, conversation: Conversation, sender: User
) -> list[tuple[int, bool]]:
    """Store whom the text @mentions: people in the conversation now (not the sender, and
    nobody with a block either way between them and the sender: a mention never reaches across
    a block; to them it is plain text). Fixed at send (messaging/mentions.py). Returns
    (user id, reachable) for each: reachable unless their part is a request still waiting (the
    request is its own notification) or they chose to hear nothing from the conversation.
    Costs nothing without an "@", else one read and one insert."""
    if "@" not in message.text:
        return []
    blocked = Block.objects.filter(
        Q(blocker_id=sender.pk, blocked_id=OuterRef("user_id"))
        | Q(blocker_id=OuterRef("user_id"), blocked_id=sender.pk)
    )
    rows = (
        Participant.objects.current()
        .filter(conversation=conversation)
        .exclude(user=sender)
        .exclude(Exists(blocked))
        .values_list("user_id", "user__username", "is_request", "level")
    )
    people = {row[1].lower(): row for row in rows}
    names = mentions.mentioned_names(message.text, people)
    if not names:
        return []
    found = [people[name] for name in sorted(names)]
    Message.mentions.through.objects.bulk_create(
        [Message.mentions.through(message=message, user_id=row[0]) for row in found]
    )
    return [
        (user_id, not is_request and level != NotifyLevel.NONE)
        for user_id, _, is_request, level in found
    ]


def _already_sent(sender: User, idempotency_key: uuid.UUID | None) -> Message | None:
    if idempotency_key is None:
        return None
    return Message.objects.filter(sender=sender, idempotency_key=idempotency_key).first()


def _idempotent(send):
    """A send that arrives twice (double click, retry, two tabs) returns the first message.

    The first check catches the common case; if two copies race, the unique constraint on
    (sender, idempotency_key) fails the second transaction as a whole (so it leaves no stray
    conversation either) and the first message is returned.
    """

    @functools.wraps(send)
    def wrapper(*, sender: User, idempotency_key: uuid.UUID | None = None, **kwargs) -> Message:
        if sent := _already_sent(sender, idempotency_key):
            return sent
        try:
            with transaction.atomic():
                return send(sender=sender, idempotency_key=idempotency_key, **kwargs)
        except IntegrityError:
            if sent := _already_sent(sender, idempotency_key):
                return sent
            raise

    return wrapper


@_idempotent
def conversation_send(
    *,
    sender: User,
    recipients: list[User],
    text: str = "",
    attachment: Attachment = NO_ATTACHMENT,
    idempotency_key: uuid.UUID | None = None,
) -> Message:
    """Send to 1-9 people: into the conversation with exactly those people, or a new one."""
    people = {person for person in recipients if person.pk != sender.pk}
    if not people:
        raise ValidationError("Choose at least one person to send to.", code="no_recipients")
    limit = max_participants()
    if len(people) + 1 > limit:
        raise ValidationError(
            f"A conversation can have up to {limit} people, you included; you chose "
            f"{len(people)} others.",
            code="too_many",
        )
    people_list = sorted(people, key=lambda person: person.name.lower())
    _check_can_message(sender, people_list)
    text = _check_text(text, attachment)
    _check_attachment_visible(sender=sender, attachment=attachment, people=people_list)
    conversation = _existing_for(people | {sender})
    if conversation is None:
        conversation = Conversation.objects.create(created_by=sender)
        requests = needs_request(sender, people_list)
        joined = Participant.objects.bulk_create(
            [Participant(conversation=conversation, user=sender)]
            + [
                Participant(
                    conversation=conversation,
                    user=person,
                    invited_by=sender,
                    is_request=person.pk in requests,
                )
                for person in people_list
            ]
        )
        notifications.people_joined(
            conversation=conversation, by=sender, participants=joined[1:], added=False
        )
    else:
        # Choosing these people and writing to them is an answer to their request, if the
        # sender had one waiting (or had declined it) in this conversation.
        Participant.objects.filter(conversation=conversation, user=sender).filter(
            Q(is_request=True) | Q(declined_at__isnull=False)
        ).update(is_request=False, declined_at=None)
    return _append(
        conversation=conversation,
        sender=sender,
        text=text,
        attachment=attachment,
        reply_to=None,
        idempotency_key=idempotency_key,
    )


@_idempotent
def message_send(
    *,
    sender: User,
    conversation: Conversation,
    text: str = "",
    attachment: Attachment = NO_ATTACHMENT,
    reply_to: Message | None = None,
    idempotency_key: uuid.UUID | None = None,
) -> Message:
    """Post into a conversation the sender is in (text, a card, or a reply to a card)."""
    Participant.objects.participation(conversation=conversation, user=sender)
    if reply_to is not None and reply_to.conversation_id != conversation.pk:
        raise PermissionDenied("You can only reply to a message in this conversation.")
    text = _check_text(text, attachment)
    others = list(
        User.objects.filter(
            participations__conversation=conversation, participations__left_at__isnull=True
        ).exclude(pk=sender.pk)
    )
    # A group stays usable across a block; a conversation where everyone else is blocked (a
    # one-to-one) is not, whichever of the two blocked.
    if others and len(cannot_message(sender, others)) == len(others):
        _check_can_message(sender, others)
    _check_attachment_visible(sender=sender, attachment=attachment, people=others)
    return _append(
        conversation=conversation,
        sender=sender,
        text=text,
        attachment=attachment,
        reply_to=reply_to,
        idempotency_key=idempotency_key,
    )


@transaction.atomic
def conversation_add_people(
    *, conversation: Conversation, by: User, people: list[User]
) -> list[Participant]:
    """Add people (they see the whole history). Never beyond the cap, even under concurrent
    adds: the conversation row is locked while counting."""
    lock_conversation(conversation)
    Participant.objects.participation(conversation=conversation, user=by)
    members = Participant.objects.filter(conversation=conversation)
    current = set(members.filter(left_at__isnull=True).values_list("user_id", flat=True))
    # The same person listed twice is added once.
    new_people = list({p.pk: p for p in people if p.pk not in current}.values())
    if not new_people:
        raise ValidationError("They're already in this conversation.", code="already_in")
    limit = max_participants()
    if len(current) + len(new_people) > limit:
        room = limit - len(current)
        raise ValidationError(
            f"A conversation can have up to {limit} people. There's room for {room} more.",
            code="too_many",
        )
    _check_can_message(by, new_people)
    requests = needs_request(by, new_people)
    added = []
    for person in new_people:
        # Someone who left comes back on the same row; either way, the adder's standing with
        # them decides whether it waits as a request.
        participant, _ = Participant.objects.update_or_create(
            conversation=conversation,
            user=person,
            defaults={
                "left_at": None,
                "declined_at": None,
                "invited_by": by,
                "is_request": person.pk in requests,
            },
        )
        added.append(participant)
    _announce_change(conversation)
    notifications.people_joined(conversation=conversation, by=by, participants=added, added=True)
    return added


def _announce_change(conversation: Conversation, *, only: list[int] | None = None) -> None:
    kind = Event.Kind.CONVERSATION_CHANGED
    if only is None:
        events.publish_to_members(kind=kind, conversation=conversation)
    else:
        events.publish(kind=kind, conversation=conversation, recipient_ids=only)


@transaction.atomic
def conversation_rename(*, conversation: Conversation, by: User, name: str) -> Conversation:
    Participant.objects.participation(conversation=conversation, user=by)
    people_in_it = Participant.objects.active().filter(conversation=conversation).count()
    if not conversation.is_nameable(people_in_it):
        raise ValidationError("Only group conversations can be named.", code="not_a_group")
    name = name.strip()
    if len(name) > 80:
        raise ValidationError("Names can be up to 80 characters.", code="too_long")
    conversation.name = name
    conversation.save(update_fields=["name"])
    _announce_change(conversation)
    return conversation


@transaction.atomic
def conversation_leave(*, conversation: Conversation, user: User) -> None:
    participant = Participant.objects.participation(
        conversation=conversation, user=user, allow_request=True
    )
    participant.left_at = timezone.now()
    participant.unread_count = 0
    participant.save(update_fields=["left_at", "unread_count"])
    _announce_change(conversation)


@transaction.atomic
def conversation_set_level(*, conversation: Conversation, user: User, level: str) -> None:
    """What reaches the person from this conversation: everything, mentions only, or nothing."""
    if level not in NotifyLevel.values:
        raise ValidationError("Choose everything, mentions only or nothing.", code="level")
    participant = Participant.objects.participation(conversation=conversation, user=user)
    participant.level = level
    participant.save(update_fields=["level"])
    _announce_change(conversation, only=[user.pk])


@transaction.atomic
def conversation_mark_read(*, conversation: Conversation, user: User) -> None:
    # The marker comes from the database in the same UPDATE: a page object loaded before a new
    # message arrived must not mark that message read while zeroing the count.
    latest = Conversation.objects.filter(pk=conversation.pk).values("last_message_id")[:1]
    updated = Participant.objects.filter(
        conversation=conversation, user=user, left_at__isnull=True, unread_count__gt=0
    ).update(last_read_message_id=Coalesce(Subquery(latest), 0), unread_count=0, unread_mentions=0)
    if updated:  # the person's other tabs clear their badges
        events.publish(
            kind=Event.Kind.CONVERSATION_READ, conversation=conversation, recipient_ids=[user.pk]
        )


def _announce_message(kind: str, message: Message) -> None:
    """Everyone in the conversation (the author's other tabs too) updates the message in place."""
    events.publish_to_members(kind=kind, conversation=message.conversation, message=message)


def message_can_be_edited(message: Message, user: User) -> bool:
    return (
        message.is_sent_by(user)
        and not message.is_deleted
        and message.kind == Message.Kind.TEXT
        and timezone.now() - message.created_at <= EDIT_WINDOW
    )


@transaction.atomic
def message_edit(*, message: Message, editor: User, text: str) -> Message:
    Participant.objects.participation(
        conversation=message.conversation, user=editor, allow_request=True
    )
    if not message.is_sent_by(editor):
        raise PermissionDenied("You can only edit your own messages.")
    if not message_can_be_edited(message, editor):
        raise ValidationError(
            "Messages can be edited for 15 minutes after sending.", code="edit_window"
        )
    message.text = _check_text(text, NO_ATTACHMENT)
    message.edited_at = timezone.now()
    message.save(update_fields=["text", "edited_at"])
    _announce_message(Event.Kind.MESSAGE_EDITED, message)
    return message


@transaction.atomic
def message_delete(*, message: Message, user: User) -> Message:
    """Delete your own message: it stays as "message deleted", without its text or card."""
    Participant.objects.participation(
        conversation=message.conversation, user=user, allow_request=True
    )
    if not message.deletable_by(user):
        raise PermissionDenied("You can only delete your own messages.")
    message.text = ""
    message.pin = message.board = message.profile = None
    message.deleted_at = timezone.now()
    message.save(update_fields=["text", "pin", "board", "profile", "deleted_at"])
    _announce_message(Event.Kind.MESSAGE_DELETED, message)
    return message


@transaction.atomic
def message_remove(*, message: Message) -> Message:
    """Moderation (a reported message, from the admin's report queue): the message shows as
    "message deleted" to everyone in the conversation, live. Unlike the sender's own delete, the
    text and card reference are kept, so the report that led to it can still be reviewed."""
    if message.deleted_at is None:
        message.deleted_at = timezone.now()
        message.save(update_fields=["deleted_at"])
        _announce_message(Event.Kind.MESSAGE_DELETED, message)
    return message


@transaction.atomic
def publish_typing(*, conversation: Conversation, user: User) -> None:
    """Tell the others in the conversation that this person is typing (nothing is stored)."""
    Participant.objects.participation(conversation=conversation, user=user)
    events.publish_typing(conversation=conversation, user_id=user.pk)


# --- Message requests (who can message me) ----------------------------------------------------


def _pending_request(conversation: Conversation, user: User) -> Participant | None:
    """The person's row if the conversation is a request waiting for them; None if they have
    already accepted it (answering twice is harmless). Declined or not in it: refused."""
    participant = Participant.objects.participation(
        conversation=conversation, user=user, allow_request=True
    )
    return participant if participant.is_request else None


@transaction.atomic
def request_accept(*, conversation: Conversation, user: User) -> None:
    """Accept a message request: it becomes an ordinary conversation in the inbox, its unread
    messages counting from now on."""
    participant = _pending_request(conversation, user)
    if participant is None:
        return
    participant.is_request = False
    participant.save(update_fields=["is_request"])
    # Only the person's own tabs learn of it (the badge and the inbox row); the sender's side
    # looked like any sent conversation all along.
    _announce_change(conversation, only=[user.pk])


@transaction.atomic
def request_decline(*, conversation: Conversation, user: User) -> None:
    """Decline a message request: the conversation is gone for this person for good (no row,
    no page, no unread count, no further live events), while the others still see them in it,
    so the sender is never told. Only the person's own other tabs hear of it (their Requests
    count is now stale): one last event, which messaging/live.py lets through to a decliner."""
    participant = _pending_request(conversation, user)
    if participant is None:
        raise PermissionDenied("Only a message request can be declined.")
    participant.declined_at = timezone.now()
    participant.unread_count = 0
    participant.save(update_fields=["declined_at", "unread_count"])
    _announce_change(conversation, only=[user.pk])


@transaction.atomic
def request_block(*, conversation: Conversation, user: User) -> User | None:
    """Block whoever sent the request (started the conversation with, or added, this person),
    then decline it. Returns the person blocked (None when their account is gone)."""
    participant = _pending_request(conversation, user)
    if participant is None:
        raise PermissionDenied("Only a message request can be declined.")
    sender = participant.invited_by or conversation.created_by
    if sender is not None and sender.pk != user.pk:
        user_block(blocker=user, blocked=sender)
    else:
        sender = None
    request_decline(conversation=conversation, user=user)
    return sender


@transaction.atomic
def conversation_block_person(*, conversation: Conversation, by: User, person: User) -> None:
    """Block someone from a conversation's people list (both must be in it). A one-to-one
    conversation is then hidden from both; in a group, their messages collapse for `by`."""
    Participant.objects.participation(conversation=conversation, user=by, allow_request=True)
    if not Participant.objects.active().filter(conversation=conversation, user=person).exists():
        raise PermissionDenied("Only someone in this conversation can be blocked from here.")
    user_block(blocker=by, blocked=person)


# --- The bell and its settings ----------------------------------------------------------------


@transaction.atomic
def notifications_mark_read(*, user: User, ids: list[int] | None = None) -> int:
    """Mark the person's unread notifications read: those shown (`ids`), or all of them. The
    next event about the same subject then starts a new group. Returns how many changed."""
    rows = Notification.objects.for_recipient(user).unread()
    if ids is not None:
        if not ids:
            return 0
        rows = rows.filter(pk__in=ids)
    return rows.update(read_at=timezone.now())


@transaction.atomic
def notification_preferences_update(
    *, user: User, choices: dict[str, notifications.Channels]
) -> None:
    """Store the person's channels for each kind given (one row per kind, written together)."""
    unknown = set(choices) - set(NotificationKind.values)
    if unknown:
        raise ValidationError(f"Unknown kinds of notification: {', '.join(sorted(unknown))}.")
    NotificationPreference.objects.bulk_create(
        [
            NotificationPreference(
                user=user,
                kind=kind,
                in_app=channels.in_app,
                email=channels.email,
                push=channels.push,
                daily_digest=channels.daily_digest,
            )
            for kind, channels in choices.items()
        ],
        update_conflicts=True,
        unique_fields=["user", "kind"],
        update_fields=["in_app", "email", "push", "daily_digest"],
    )
