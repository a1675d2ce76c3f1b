"""Cards in messages, re-checked for each viewer at each render (DESIGN.md §3.2,
messaging/cards.py): "visible" shows the pin, board or profile; "private" shows nothing of a secret
pin or board the viewer may not see; "unavailable" is what a deleted one leaves behind.

The world: `alice` owns a public board and a secret board; `bob` and `carol` are in a
conversation with her; `carol` collaborates on the secret board, `bob` does not (he did, when the
secret pin was sent, and has since been removed from the board).
"""

from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Follow
from messaging.cards import PRIVATE, UNAVAILABLE, VISIBLE, attach_cards
from messaging.models import Message
from messaging.services import (
    Attachment,
    conversation_add_people,
    conversation_send,
    message_delete,
    message_send,
)
from pinboard.covers import COVER_PINS
from pinboard.models import BoardFollow
from pinboard.services import board_delete, board_member_remove, board_update, pin_delete
from tests.factories import (
    BoardFactory,
    BoardMemberFactory,
    LikeFactory,
    MessageFactory,
    ParticipantFactory,
    PinFactory,
    PinImageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    alice = UserFactory(username="alice", display_name="Alice Archer")
    bob = UserFactory(username="bob", display_name="Bob Baker")
    carol = UserFactory(username="carol", display_name="Carol Cole")
    dave = UserFactory(username="dave", display_name="Dave Dunn")
    public_board = BoardFactory(owner=alice, name="Sofas")
    secret_board = BoardFactory(owner=alice, name="Gifts", is_secret=True)
    for person in (bob, carol):
        BoardMemberFactory(board=secret_board, user=person)
    image = PinImageFactory()
    public_pin = PinFactory(board=public_board, image=image, title="Blue sofa")
    secret_pin = PinFactory(board=secret_board, image=image, title="Surprise")
    conversation = conversation_send(
        sender=alice, recipients=[bob, carol], text="Ideas for the flat"
    ).conversation
    return SimpleNamespace(
        alice=alice,
        bob=bob,
        carol=carol,
        dave=dave,
        public_board=public_board,
        secret_board=secret_board,
        public_pin=public_pin,
        secret_pin=secret_pin,
        conversation=conversation,
    )


def send(world, sender=None, **attachment) -> Message:
    return message_send(
        sender=sender or world.alice,
        conversation=world.conversation,
        attachment=Attachment(**attachment),
    )


def cards_for(viewer, conversation) -> dict[int, Message]:
    messages = Message.objects.filter(conversation=conversation).with_card_data().order_by("id")
    return {message.pk: message for message in attach_cards(messages, viewer)}


def state(world, viewer_name: str, message: Message) -> str | None:
    return cards_for(getattr(world, viewer_name), world.conversation)[message.pk].card_state


# --- Pins ------------------------------------------------------------------------------------


@pytest.mark.parametrize("viewer", ["alice", "bob", "carol"])
def test_public_pin_card_is_visible_to_every_participant(world, viewer):
    card = send(world, pin=world.public_pin)

    assert state(world, viewer, card) == VISIBLE


@pytest.mark.parametrize(
    ("viewer", "expected"), [("alice", VISIBLE), ("carol", VISIBLE), ("bob", PRIVATE)]
)
def test_secret_pin_card_is_private_for_a_participant_who_can_no_longer_see_it(
    world, viewer, expected
):
    card = send(world, pin=world.secret_pin)
    board_member_remove(board=world.secret_board, user=world.bob)

    assert state(world, viewer, card) == expected


def test_secret_pin_card_is_private_for_someone_added_to_the_conversation_later(world):
    card = send(world, pin=world.secret_pin)
    conversation_add_people(conversation=world.conversation, by=world.alice, people=[world.dave])

    assert state(world, "dave", card) == PRIVATE
    assert state(world, "alice", card) == VISIBLE


def test_pin_card_becomes_private_when_its_board_turns_secret(world):
    card = send(world, pin=world.public_pin)
    board_update(
        board=world.public_board,
        editor=world.public_board.owner,
        name="Sofas",
        description="",
        is_secret=True,
    )

    assert state(world, "bob", card) == PRIVATE
    assert state(world, "alice", card) == VISIBLE


@pytest.mark.parametrize("viewer", ["alice", "bob", "carol"])
def test_deleted_pin_card_is_unavailable_for_everyone(world, viewer):
    card = send(world, pin=world.public_pin)
    pin_delete(pin=world.public_pin)

    assert state(world, viewer, card) == UNAVAILABLE


def test_deleted_message_card_is_unavailable(world):
    card = send(world, pin=world.public_pin)
    message_delete(message=card, user=world.alice)

    assert state(world, "bob", card) == UNAVAILABLE


def test_text_messages_have_no_card_state(world):
    text = Message.objects.get(conversation=world.conversation)

    assert state(world, "bob", text) is None


def test_a_private_pin_card_carries_nothing_of_the_pin(world, django_assert_num_queries):
    card = send(world, pin=world.secret_pin)
    board_member_remove(board=world.secret_board, user=world.bob)

    shown = cards_for(world.bob, world.conversation)[card.pk]
    with django_assert_num_queries(0):  # nor is it fetched when a template asks
        assert shown.pin is None
    assert shown.pin_id == world.secret_pin.pk  # the message still records what was sent
    assert not hasattr(shown, "like_count")


def test_a_visible_pin_card_knows_its_likes_and_the_viewers_like(world):
    card = send(world, pin=world.public_pin)
    LikeFactory(pin=world.public_pin, user=world.bob)
    LikeFactory(pin=world.public_pin, user=world.carol)

    for viewer, liked in ((world.bob, True), (world.alice, False)):
        shown = cards_for(viewer, world.conversation)[card.pk]
        assert (shown.like_count, shown.liked) == (2, liked)


# --- Boards ----------------------------------------------------------------------------------


def test_public_board_card_is_visible_with_pin_count_and_newest_covers(world):
    newer = [PinFactory(board=world.public_board, image=world.public_pin.image) for _ in range(3)]
    card = send(world, board=world.public_board)

    for viewer in (world.alice, world.bob, world.carol):
        shown = cards_for(viewer, world.conversation)[card.pk]
        assert shown.card_state == VISIBLE
        assert shown.visible_board.pk == world.public_board.pk
        assert shown.visible_board.pin_count == 4
        assert [pin.pk for pin in shown.visible_board.cover_pins] == [
            pin.pk for pin in reversed(newer)
        ][:COVER_PINS]


def test_empty_board_card_has_zero_pins_and_no_covers(world):
    empty = BoardFactory(owner=world.alice, name="Empty")
    card = send(world, board=empty)

    shown = cards_for(world.bob, world.conversation)[card.pk]
    assert shown.card_state == VISIBLE
    assert shown.visible_board.pin_count == 0
    assert shown.visible_board.cover_pins == []


@pytest.mark.parametrize(
    ("viewer", "expected"), [("alice", VISIBLE), ("carol", VISIBLE), ("bob", PRIVATE)]
)
def test_secret_board_card_per_viewer(world, viewer, expected):
    card = send(world, board=world.secret_board)
    board_member_remove(board=world.secret_board, user=world.bob)

    shown = cards_for(getattr(world, viewer), world.conversation)[card.pk]
    assert shown.card_state == expected
    if expected == VISIBLE:
        assert shown.visible_board.pin_count == 1
        assert [pin.pk for pin in shown.visible_board.cover_pins] == [world.secret_pin.pk]
    else:
        # Nothing of it is loaded for the card to show.
        assert shown.visible_board is None


@pytest.mark.parametrize("viewer", ["alice", "bob"])
def test_deleted_board_card_is_unavailable(world, viewer):
    card = send(world, board=world.public_board)
    board_delete(board=world.public_board)

    shown = cards_for(getattr(world, viewer), world.conversation)[card.pk]
    assert shown.card_state == UNAVAILABLE
    assert shown.visible_board is None


def test_a_board_card_knows_whether_the_viewer_follows_it(world):
    card = send(world, board=world.public_board)
    BoardFollow.objects.create(user=world.bob, board=world.public_board)

    assert cards_for(world.bob, world.conversation)[card.pk].followed is True
    assert cards_for(world.carol, world.conversation)[card.pk].followed is False


# --- Profiles --------------------------------------------------------------------------------


def test_profile_card_of_an_active_person_is_visible(world):
    card = send(world, profile=world.dave)

    assert state(world, "bob", card) == VISIBLE


def test_profile_card_of_an_inactive_person_is_unavailable(world):
    card = send(world, profile=world.dave)
    world.dave.is_active = False
    world.dave.save(update_fields=["is_active"])

    assert state(world, "bob", card) == UNAVAILABLE


def test_profile_card_of_a_deleted_person_is_unavailable(world):
    card = send(world, profile=world.dave)
    world.dave.delete()

    assert state(world, "bob", card) == UNAVAILABLE


# --- Replies quote the card they answer ------------------------------------------------------


def test_a_profile_card_knows_whether_the_viewer_follows_the_person(world):
    card = send(world, profile=world.dave)
    Follow.objects.create(follower=world.bob, followee=world.dave)

    assert cards_for(world.bob, world.conversation)[card.pk].followed is True
    assert cards_for(world.carol, world.conversation)[card.pk].followed is False


@pytest.mark.parametrize(("viewer", "expected"), [("alice", VISIBLE), ("bob", PRIVATE)])
def test_quoted_pin_card_is_checked_for_the_viewer_too(world, viewer, expected):
    card = send(world, pin=world.secret_pin)
    reply = message_send(
        sender=world.carol, conversation=world.conversation, text="Shh", reply_to=card
    )
    board_member_remove(board=world.secret_board, user=world.bob)

    shown = cards_for(getattr(world, viewer), world.conversation)[reply.pk]
    assert shown.card_state is None  # the reply itself is text
    assert shown.reply_to.pk == card.pk
    assert shown.reply_to.card_state == expected


def test_quoted_board_card_gets_its_board_data(world):
    card = send(world, board=world.public_board)
    reply = message_send(
        sender=world.bob, conversation=world.conversation, text="Ok", reply_to=card
    )

    shown = cards_for(world.bob, world.conversation)[reply.pk]
    assert shown.reply_to.card_state == VISIBLE
    assert shown.reply_to.visible_board.pin_count == 1


def test_quoted_card_of_a_deleted_pin_is_unavailable(world):
    card = send(world, pin=world.public_pin)
    reply = message_send(
        sender=world.bob, conversation=world.conversation, text="Ok", reply_to=card
    )
    pin_delete(pin=world.public_pin)

    shown = cards_for(world.bob, world.conversation)[reply.pk]
    assert shown.reply_to.card_state == UNAVAILABLE


def test_quoted_profile_card_of_an_inactive_person_is_unavailable(world):
    card = send(world, profile=world.dave)
    reply = message_send(
        sender=world.bob, conversation=world.conversation, text="Ok", reply_to=card
    )
    world.dave.is_active = False
    world.dave.save(update_fields=["is_active"])

    shown = cards_for(world.bob, world.conversation)[reply.pk]
    assert shown.reply_to.card_state == UNAVAILABLE


# --- A fixed number of queries, whatever the number of cards ---------------------------------


def _fill(world, rounds: int) -> None:
    """`rounds` times: a public pin, a secret pin, a board, a secret board, a profile and a reply
    to a pin card, each on its own pins and boards (rows made directly: this is about reading)."""
    image = world.public_pin.image
    for n in range(rounds):
        board = BoardFactory(owner=world.alice)
        secret = BoardFactory(owner=world.alice, is_secret=True)
        pins = [PinFactory(board=board, image=image) for _ in range(2)]
        secret_pin = PinFactory(board=secret, image=image)
        person = UserFactory(is_active=n % 2 == 0)
        make = {"conversation": world.conversation, "sender": world.alice, "text": ""}
        pin_card = MessageFactory(**make, pin=pins[0])
        MessageFactory(**make, pin=secret_pin)
        MessageFactory(**make, board=board)
        MessageFactory(**make, board=secret)
        MessageFactory(**make, profile=person)
        MessageFactory(**make, pin=pins[1], reply_to=pin_card)


def _read_what_cards_show(messages: list[Message]) -> None:
    """Touch what a card shows for each state, as the templates will."""
    for message in messages:
        for shown in (message, message.reply_to) if message.reply_to_id else (message,):
            if shown.sender is not None:
                str(shown.sender.name)
            if shown.card_state != VISIBLE:
                continue
            if shown.kind == Message.Kind.PIN:
                str((shown.pin.title, shown.pin.image.file.url, shown.pin.image.width))
                if shown is message:
                    str(shown.pin.owner.name)
            elif shown.kind == Message.Kind.BOARD:
                board = shown.visible_board
                str((board.name, board.pin_count, shown.board.owner.name))
                for pin in board.cover_pins:
                    str(pin.image.file.url)
            elif shown.kind == Message.Kind.PROFILE:
                str((shown.profile.name, shown.profile.avatar))


@pytest.mark.parametrize("rounds", [1, 5])
def test_cards_cost_a_fixed_number_of_queries(world, django_assert_max_num_queries, rounds):
    ParticipantFactory(conversation=world.conversation, user=UserFactory(username="viewer"))
    _fill(world, rounds)
    messages = list(
        Message.objects.filter(conversation=world.conversation).with_card_data().order_by("id")
    )
    cards = [m for m in messages if m.kind != Message.Kind.TEXT]
    assert len(cards) == 6 * rounds  # 6 and 30 cards

    with django_assert_max_num_queries(4):
        shown = attach_cards(messages, world.bob)
        _read_what_cards_show(shown)

    # Every state is exercised (the one profile of the small size is of an active person).
    expected = {VISIBLE, PRIVATE, UNAVAILABLE} if rounds > 1 else {VISIBLE, PRIVATE}
    assert {m.card_state for m in shown if m.card_state} == expected


def test_no_cards_cost_no_queries(world, django_assert_num_queries):
    messages = list(Message.objects.filter(conversation=world.conversation).with_card_data())

    with django_assert_num_queries(0):
        attach_cards(messages, world.bob)


def test_each_kind_of_card_is_read_once_for_messages_and_their_quotes(world):
    """The same pin, board and person on a page, quoted too: one read each (and one for the
    board's cover pins), not one per place that shows them."""
    pin_card = send(world, pin=world.public_pin)
    board_card = send(world, board=world.public_board)
    profile_card = send(world, profile=world.dave)
    for card in (pin_card, board_card, profile_card):
        message_send(sender=world.bob, conversation=world.conversation, text="Re", reply_to=card)
    messages = list(
        Message.objects.filter(conversation=world.conversation).with_card_data().order_by("id")
    )

    with CaptureQueriesContext(connection) as queries:
        attach_cards(messages, world.bob)
    # Each query's table, by its first column ("pinboard_pin"."id", ...).
    tables = [query["sql"].split()[1].split(".")[0] for query in queries.captured_queries]
    assert sorted(tables) == sorted(
        ['"pinboard_pin"', '"pinboard_board"', '"pinboard_pin"', '"accounts_user"']
    )
