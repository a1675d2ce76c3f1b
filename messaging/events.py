"""The one place that publishes live events (DESIGN.md §5).

An event is a row per recipient (so a reconnecting tab can catch up from the database) plus a
PostgreSQL NOTIFY carrying only ids. Both happen inside the writing transaction, so only
committed writes are ever announced: PostgreSQL delivers NOTIFY at commit and drops it on
rollback. Typing notices are ephemeral: NOTIFY only, no row.
"""

import json

from django.db import connection

from messaging.models import Conversation, Event, Message, Participant

CHANNEL = "pinboard_events"


def _notify(payload: dict) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, json.dumps(payload)])


def active_member_ids(conversation: Conversation) -> list[int]:
    """Everyone who still sees the conversation (not those who left or declined it)."""
    return list(
        Participant.objects.current()
        .filter(conversation=conversation)
        .values_list("user_id", flat=True)
    )


def publish(
    *,
    kind: str,
    conversation: Conversation,
    recipient_ids: list[int],
    message: Message | None = None,
) -> None:
    """Record the event for each recipient and wake their streams once the transaction commits."""
    if not recipient_ids:
        return
    Event.objects.bulk_create(
        [
            Event(user_id=user_id, kind=kind, conversation=conversation, message=message)
            for user_id in recipient_ids
        ]
    )
    _notify({"users": sorted(set(recipient_ids))})


def publish_typing(*, conversation: Conversation, user_id: int) -> None:
    """Tell the other people in the conversation that someone is typing (not stored)."""
    others = [member for member in active_member_ids(conversation) if member != user_id]
    if others:
        _notify({"users": others, "typing": {"conversation": conversation.pk, "user": user_id}})
