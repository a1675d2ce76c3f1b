"""Every read path of conversations agrees with the one rule (ConversationQuerySet.readable_by)
for the whole access matrix (tests/messaging/access_matrix.py): the page and its fragments, the
event stream's read, typing notices, the nav badge and the data export. A path that typed its
own copy of the rule (as typing once did, and crossed a block) fails here."""

import io
import json
import zipfile

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from messaging import live
from messaging.export.archive import write_user_export
from messaging.inbox import UNREAD_TOTAL
from messaging.models import Event, Participant
from tests.messaging.access_matrix import CONVERSATION_ACCESS, VIEWERS

pytestmark = pytest.mark.django_db

# Someone in each conversation whom nobody in the matrix blocked, to type and to send.
SOMEONE_IN = {
    "group": "carol",
    "other": "frank",
    "request": "frank",
    "declined": "erin",
    "blocked_pair": "hank",
}


def _readable(viewer: str) -> dict[str, bool]:
    """The matrix's column for one viewer: conversation name -> may they read it."""
    column = VIEWERS.index(viewer)
    return {name: row[column] for name, row in CONVERSATION_ACCESS.items()}


def _client(world, viewer) -> Client:
    client = Client()
    if viewer != "anonymous":
        client.force_login(getattr(world, viewer))
    return client


def _status_when(readable: bool, viewer: str) -> int:
    if viewer == "anonymous":
        return 302  # to the sign-in page
    return 200 if readable else 404


# One world per viewer, every conversation checked in it (building the world is most of a
# test's time; the matrix has 40 cells).
@pytest.mark.parametrize("viewer", VIEWERS)
def test_the_page_and_its_fragments_follow_the_rule(world, viewer, htmx):
    client = _client(world, viewer)
    for name, readable in _readable(viewer).items():
        url = reverse("conversation", args=[getattr(world, name).pk])
        expected = _status_when(readable, viewer)
        # The live fetch answers 204 when there is nothing newer, which is still "allowed".
        seen = (
            client.get(url).status_code,
            client.get(url, {"before": 10**9}, **htmx).status_code,
            client.get(url, {"after": 10**9}, **htmx).status_code,
        )
        assert seen == (expected, expected, 204 if expected == 200 else expected), name


@pytest.mark.parametrize("viewer", [v for v in VIEWERS if v != "anonymous"])
def test_the_event_stream_follows_the_rule(world, viewer):
    # (Anonymous has no stream at all: tests/messaging/test_live.py, 204.)
    person = getattr(world, viewer)
    for name, readable in _readable(viewer).items():
        event = Event.objects.create(
            user=person, kind="message.new", conversation_id=getattr(world, name).pk
        )
        with connection.cursor() as cursor:
            cursor.execute(*live.EVENTS.bind(user=person.pk, after=event.pk - 1))
            (row,) = cursor.fetchall()
        assert row[-1] is readable, name  # `visible`


@pytest.mark.parametrize("viewer", [v for v in VIEWERS if v != "anonymous"])
def test_typing_notices_follow_the_rule(world, viewer):
    for name, readable in _readable(viewer).items():
        typist, conversation = getattr(world, SOMEONE_IN[name]), getattr(world, name)
        with connection.cursor() as cursor:
            cursor.execute(
                *live.TYPIST.bind(
                    typist=typist.pk, viewer=getattr(world, viewer).pk, conversation=conversation.pk
                )
            )
            heard = bool(cursor.fetchall())
        # (The typist's own tabs are never sent their notice: events.publish_typing.)
        assert heard is readable, name


@pytest.mark.parametrize("viewer", [v for v in VIEWERS if v != "anonymous"])
def test_the_badge_counts_exactly_the_readable_conversations_that_are_not_requests(world, viewer):
    person = getattr(world, viewer)
    Participant.objects.filter(user=person).update(unread_count=1)
    column = VIEWERS.index(viewer)
    readable = [getattr(world, n) for n, row in CONVERSATION_ACCESS.items() if row[column]]
    expected = sum(
        1
        for conversation in readable
        if not Participant.objects.get(conversation=conversation, user=person).is_request
    )
    with connection.cursor() as cursor:
        cursor.execute(*UNREAD_TOTAL.bind(user=person.pk))
        rows = cursor.fetchall()
    assert (rows[0][0] if rows else 0) == expected


@pytest.mark.parametrize("viewer", [v for v in VIEWERS if v != "anonymous"])
def test_the_export_holds_the_readable_conversations_and_those_left(world, viewer):
    """A person's own history goes with them: conversations they left are exported up to the
    moment they left; nothing else they may not read."""
    person = getattr(world, viewer)
    column = VIEWERS.index(viewer)
    expected = {getattr(world, n).pk for n, row in CONVERSATION_ACCESS.items() if row[column]}
    expected |= set(
        Participant.objects.filter(user=person, left_at__isnull=False).values_list(
            "conversation_id", flat=True
        )
    )
    buffer = io.BytesIO()
    write_user_export(user=person, file=buffer)
    with zipfile.ZipFile(buffer) as archive:
        exported = json.loads(archive.read("conversations.json"))
    assert {conversation["id"] for conversation in exported} == expected
