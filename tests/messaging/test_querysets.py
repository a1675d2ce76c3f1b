"""The read rules for conversations and messages (DESIGN.md §3.1): only the people in a
conversation now may read it. The world and its tables: tests/messaging/access_matrix.py."""

import pytest
from django.utils import timezone

from messaging.inbox import inbox_conversations
from messaging.models import Conversation, Message, Participant
from tests.messaging.access_matrix import (
    CONVERSATION_ACCESS,
    LISTED,
    MESSAGE_ACCESS,
    VIEWERS,
)

pytestmark = pytest.mark.django_db


def _expected_pks(world, table, viewer) -> list[int]:
    column = VIEWERS.index(viewer)
    return sorted(getattr(world, name).pk for name, row in table.items() if row[column])


# One world per viewer, every object of the table checked in it (building the world is most of
# a test's time).
@pytest.mark.parametrize(
    ("model", "table"),
    [(Conversation, CONVERSATION_ACCESS), (Message, MESSAGE_ACCESS)],
    ids=["conversations", "messages"],
)
@pytest.mark.parametrize("viewer", VIEWERS)
def test_readable_by_matrix(world, viewer, model, table):
    column = VIEWERS.index(viewer)
    found = model.objects.readable_by(getattr(world, viewer))
    for name, row in table.items():
        assert found.filter(pk=getattr(world, name).pk).exists() is row[column], name


@pytest.mark.parametrize("viewer", VIEWERS)
def test_each_viewer_gets_exactly_their_conversations_each_listed_once(world, viewer):
    expected = _expected_pks(world, CONVERSATION_ACCESS, viewer)
    found = list(
        Conversation.objects.readable_by(getattr(world, viewer)).values_list("pk", flat=True)
    )
    assert sorted(found) == expected


@pytest.mark.parametrize("viewer", VIEWERS)
def test_each_viewer_gets_exactly_their_messages_each_listed_once(world, viewer):
    expected = _expected_pks(world, MESSAGE_ACCESS, viewer)
    found = list(Message.objects.readable_by(getattr(world, viewer)).values_list("pk", flat=True))
    assert sorted(found) == expected


@pytest.mark.parametrize("viewer", VIEWERS)
def test_each_viewer_finds_requests_in_the_requests_tab_and_the_rest_in_the_inbox(world, viewer):
    column = VIEWERS.index(viewer)
    person = getattr(world, viewer)
    inbox = {c.pk for c in inbox_conversations(person)} if viewer != "anonymous" else set()
    requests = (
        {c.pk for c in inbox_conversations(person, requests=True)}
        if viewer != "anonymous"
        else set()
    )
    assert inbox == {getattr(world, n).pk for n, row in LISTED.items() if row[column] == "I"}
    assert requests == {getattr(world, n).pk for n, row in LISTED.items() if row[column] == "R"}


def test_nobody_signed_in_as_none_reads_nothing(world):
    assert not Conversation.objects.readable_by(None).exists()
    assert not Message.objects.readable_by(None).exists()


def test_former_participant_regains_access_when_added_back(world):
    Participant.objects.filter(conversation=world.group, user=world.dave).update(left_at=None)

    assert Conversation.objects.readable_by(world.dave).filter(pk=world.group.pk).exists()
    # Including the history from before they came back.
    assert Message.objects.readable_by(world.dave).filter(pk=world.group_first.pk).exists()


def test_participant_who_leaves_loses_access_at_once(world):
    Participant.objects.filter(conversation=world.group, user=world.bob).update(
        left_at=timezone.now()
    )

    assert not Conversation.objects.readable_by(world.bob).exists()
    assert not Message.objects.readable_by(world.bob).exists()
    # The others keep theirs.
    assert Conversation.objects.readable_by(world.alice).filter(pk=world.group.pk).exists()


def test_muted_participant_still_reads_the_conversation(world):
    Participant.objects.filter(conversation=world.group, user=world.bob).update(level="none")

    assert Conversation.objects.readable_by(world.bob).filter(pk=world.group.pk).exists()


def test_active_participants_are_those_who_have_not_left(world):
    active = Participant.objects.filter(conversation=world.group).active()

    assert set(active.values_list("user__username", flat=True)) == {
        "alice",
        "bob",
        "carol",
        "hank",
    }


def test_a_declined_request_still_lists_the_person_but_they_no_longer_see_it(world):
    listed = Participant.objects.filter(conversation=world.declined)
    assert set(listed.active().values_list("user__username", flat=True)) == {"erin", "gina"}
    assert set(listed.current().values_list("user__username", flat=True)) == {"erin"}


def test_active_participants_include_everyone_when_nobody_left(world):
    active = Participant.objects.filter(conversation=world.other).active()

    assert set(active.values_list("user__username", flat=True)) == {"erin", "frank"}


def test_active_participants_of_a_person_exclude_conversations_they_left(world):
    assert not Participant.objects.filter(user=world.dave).active().exists()
    assert Participant.objects.filter(user=world.dave).count() == 1
