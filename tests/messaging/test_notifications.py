"""Who a new message reaches beyond open tabs (messaging/notifications.py)."""

import pytest

from accounts.services import user_block
from messaging.models import Message, NotificationKind, NotificationPreference, Participant
from messaging.notifications import DEFAULTS, Channels, channels_for, message_recipients
from messaging.services import conversation_send, conversation_set_level, message_send
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def group():
    ada, bram, chen, dee = (UserFactory(username=name) for name in ["ada", "bram", "chen", "dee"])
    conversation = conversation_send(
        sender=ada, recipients=[bram, chen, dee], text="Hi"
    ).conversation
    return conversation, ada, bram, chen, dee


def recipients_of(message) -> set[str]:
    ids = {r.user_id for r in message_recipients(message)}
    return set(
        Participant.objects.filter(user_id__in=ids, conversation=message.conversation).values_list(
            "user__username", flat=True
        )
    )


def test_everyone_else_in_the_conversation_hears_of_a_message(group):
    conversation, ada, *_ = group
    message = message_send(sender=ada, conversation=conversation, text="Sofa?")
    assert recipients_of(message) == {"bram", "chen", "dee"}


def test_levels_blocks_and_leaving_narrow_who_hears(group):
    conversation, ada, bram, chen, dee = group
    conversation_set_level(conversation=conversation, user=bram, level="none")
    conversation_set_level(conversation=conversation, user=chen, level="mentions")
    user_block(blocker=dee, blocked=ada)
    message = message_send(sender=ada, conversation=conversation, text="Anyone?")
    assert recipients_of(message) == set()

    message.mentions.add(chen, bram)
    assert recipients_of(message) == {"chen"}  # "nothing" means nothing, even when mentioned


def test_deciding_costs_one_query_whatever_the_size(group, django_assert_num_queries):
    conversation, ada, *_ = group
    message = message_send(sender=ada, conversation=conversation, text="Count me")
    with django_assert_num_queries(1):
        message_recipients(message)
    more = [UserFactory() for _ in range(5)]
    bigger = conversation_send(sender=ada, recipients=more, text="Big").conversation
    message = Message.objects.filter(conversation=bigger).last()
    with django_assert_num_queries(1):
        assert len(message_recipients(message)) == 5


def test_channels_are_the_defaults_until_chosen(group):
    _, ada, bram, *_ = group
    NotificationPreference.objects.create(user=bram, kind="follow", in_app=False, push=False)
    chosen = channels_for([ada.pk, bram.pk], NotificationKind.FOLLOW)
    assert chosen[ada.pk] == DEFAULTS[NotificationKind.FOLLOW]
    assert chosen[bram.pk] == Channels(in_app=False, email=False, push=False)
