"""A pin or board hidden by moderators, inside a conversation: the message stays, and its card
reads "no longer available" for everyone but the owner (messaging/cards.py)."""

import pytest
from django.urls import reverse

from messaging.cards import UNAVAILABLE, VISIBLE, attach_cards
from messaging.models import Message
from messaging.services import Attachment, conversation_send, message_send
from pinboard.services import board_set_hidden, pin_set_hidden
from tests.factories import BoardFactory, PinFactory, PinImageFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def chat(db):
    alice = UserFactory(username="alice")
    bob = UserFactory(username="bob")
    board = BoardFactory(owner=alice, name="Lamps")
    pin = PinFactory(owner=alice, board=board, image=PinImageFactory(), title="Brass lamp")
    conversation = conversation_send(sender=alice, recipients=[bob], text="Look").conversation
    pin_message = message_send(
        sender=alice, conversation=conversation, attachment=Attachment(pin=pin)
    )
    board_message = message_send(
        sender=alice, conversation=conversation, attachment=Attachment(board=board)
    )
    return alice, bob, pin, board, conversation, pin_message, board_message


def states(viewer, conversation) -> dict[int, str]:
    messages = Message.objects.filter(conversation=conversation).with_card_data()
    return {m.pk: m.card_state for m in attach_cards(messages, viewer)}


def test_hidden_pin_card_is_unavailable_to_others_and_visible_to_its_owner(chat):
    alice, bob, pin, _, conversation, pin_message, _ = chat

    pin_set_hidden(pin=pin, hidden=True)

    assert states(bob, conversation)[pin_message.pk] == UNAVAILABLE
    assert states(alice, conversation)[pin_message.pk] == VISIBLE


def test_hidden_board_card_is_unavailable_to_others_and_visible_to_its_owner(chat):
    alice, bob, _, board, conversation, _, board_message = chat

    board_set_hidden(board=board, hidden=True)

    assert states(bob, conversation)[board_message.pk] == UNAVAILABLE
    assert states(alice, conversation)[board_message.pk] == VISIBLE


def test_a_pin_on_a_hidden_board_reads_as_gone_too(chat, django_assert_num_queries):
    alice, bob, _, board, conversation, pin_message, _ = chat
    reply = message_send(sender=bob, conversation=conversation, text="Nice", reply_to=pin_message)

    board_set_hidden(board=board, hidden=True)

    with django_assert_num_queries(4):  # messages, their quotes; pins, boards (was 6)
        shown = states(bob, conversation)
    assert shown[pin_message.pk] == UNAVAILABLE
    quoted = Message.objects.filter(pk=reply.pk).with_card_data()
    (reply,) = attach_cards(quoted, bob)
    assert reply.reply_to.card_state == UNAVAILABLE
    assert states(alice, conversation)[pin_message.pk] == VISIBLE


def test_conversation_page_shows_the_unavailable_card_not_the_hidden_pin(chat, client_for):
    _, bob, pin, _, conversation, _, _ = chat
    pin_set_hidden(pin=pin, hidden=True)

    html = client_for(bob).get(reverse("conversation", args=[conversation.pk])).content.decode()

    assert "This pin is no longer available" in html
    assert "Brass lamp" not in html
    assert Message.objects.filter(conversation=conversation, pin=pin).exists()  # kept
