"""The one place that publishes live events (DESIGN.md §5).

An event is a row per recipient (so a reconnecting tab can catch up from the database) plus a
PostgreSQL NOTIFY carrying only ids. Both happen inside the writing transaction, so only
committed writes are ever announced: PostgreSQL delivers NOTIFY at commit and drops it on
rollback. Typing notices are ephemeral: NOTIFY only, no row.

Publishing is one SQL statement: it finds the recipients, inserts their rows and notifies them in
a single round trip. Measured with `manage.py bench_notify` (README, "Publishing"): done in
Django (a query for the recipients, a bulk insert of one object per recipient, then the NOTIFY)
it cost a send 18-63% more CPU than not publishing at all, almost all of it the Python around
the rows, not the NOTIFY's commit lock.
"""

import json

from django.db import connection
from django.utils import timezone

from messaging.compiled import CompiledQuery
from messaging.models import Conversation, Event, Message, Participant

CHANNEL = "pinboard_events"

# The rows, then one NOTIFY naming the recipients (only when there are any). `recipients` is
# either everyone who still sees the conversation or an explicit list.
_INSERT_AND_NOTIFY = """
WITH recipients AS (
    INSERT INTO messaging_event (user_id, kind, conversation_id, message_id, created_at)
    SELECT user_id, %(kind)s, %(conversation)s, %(message)s, %(now)s
    FROM ({recipients}) AS chosen(user_id)
    RETURNING user_id
)
SELECT {result} FROM recipients HAVING count(*) > 0
"""
_NOTIFY_RECIPIENTS = (
    "pg_notify(%(channel)s, json_build_object('users', array_agg(DISTINCT user_id))::text)"
)
# Everyone who still sees the conversation (not those who left or declined it): compiled from
# ParticipantQuerySet.current(), the rule itself, not a copy of it.
_MEMBERS = CompiledQuery(
    lambda conversation: (
        Participant.objects.current().filter(conversation_id=conversation).values("user_id")
    ),
    "conversation",
)
_LISTED = "SELECT unnest(%(users)s::bigint[])"


def _statement(recipients: str) -> str:
    return _INSERT_AND_NOTIFY.format(recipients=recipients, result=_NOTIFY_RECIPIENTS)


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


def _publish(sql: str, **params) -> None:
    # The app's clock, as for every other timestamp (a decline's, compared with its notice's).
    with connection.cursor() as cursor:
        cursor.execute(sql, {"channel": CHANNEL, "now": timezone.now(), **params})


def publish_to_members(
    *, kind: str, conversation: Conversation, message: Message | None = None
) -> None:
    """Record the event for everyone who still sees the conversation and wake their streams
    once the transaction commits."""
    _publish(
        _statement(_MEMBERS.named_sql()),
        kind=str(kind),
        conversation=conversation.pk,
        message=message.pk if message else None,
    )


def publish(
    *,
    kind: str,
    conversation: Conversation,
    recipient_ids: list[int],
    message: Message | None = None,
) -> None:
    """Record the event for each of these people and wake their streams once the transaction
    commits."""
    if not recipient_ids:
        return
    _publish(
        _statement(_LISTED),
        kind=str(kind),
        conversation=conversation.pk,
        message=message.pk if message else None,
        users=sorted(set(recipient_ids)),
    )


def publish_notification(*, recipient_id: int) -> None:
    """Tell the person's open tabs that their bell has something new (the tab fetches it: the
    event carries no content)."""
    _publish(
        _statement(_LISTED),
        kind=str(Event.Kind.NOTIFICATION),
        conversation=None,
        message=None,
        users=[recipient_id],
    )


def publish_typing(*, conversation: Conversation, user_id: int) -> None:
    """Tell the other people in the conversation that someone is typing (not stored)."""
    others = [member for member in active_member_ids(conversation) if member != user_id]
    if others:
        _notify({"users": others, "typing": {"conversation": conversation.pk, "user": user_id}})
