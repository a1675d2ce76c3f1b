"""Every write to conversations and messages (messaging/services.py): what each one changes, what
it refuses, and that a refusal changes nothing (DESIGN.md §3, rules 2 to 6).

Concurrency tests run in real threads, each with its own PostgreSQL connection. To make the race
certain rather than likely, the test's own connection holds a row lock that both threads need to
write (a user or conversation row), waits until both are queued behind it, then lets them go.
"""

import threading
import time
import uuid
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum

from accounts.models import User
from messaging.models import MAX_TEXT_LENGTH, Conversation, Message, Participant
from messaging.services import (
    Attachment,
    SecretContentRefused,
    conversation_add_people,
    conversation_leave,
    conversation_mark_read,
    conversation_rename,
    conversation_send,
    conversation_set_level,
    lock_conversation,
    message_delete,
    message_edit,
    message_send,
)
from pinboard.models import Pin
from pinboard.services import board_delete, pin_delete
from tests.factories import BoardFactory, BoardMemberFactory, PinFactory, UserFactory

pytestmark = pytest.mark.django_db


def stored() -> tuple[int, int, int]:
    """How many conversations, participants and messages exist."""
    return Conversation.objects.count(), Participant.objects.count(), Message.objects.count()


def member_ids(conversation: Conversation) -> set[int]:
    return set(
        Participant.objects.filter(conversation=conversation)
        .active()
        .values_list("user_id", flat=True)
    )


def participant(conversation: Conversation, user: User) -> Participant:
    return Participant.objects.get(conversation=conversation, user=user)


def make_people(count: int) -> list[User]:
    return [UserFactory() for _ in range(count)]


@pytest.fixture
def alice(db):
    return UserFactory(username="alice", display_name="Alice Archer")


@pytest.fixture
def bob(db):
    return UserFactory(username="bob", display_name="Bob Baker")


@pytest.fixture
def carol(db):
    return UserFactory(username="carol", display_name="Carol Cole")


@pytest.fixture
def dave(db):
    return UserFactory(username="dave", display_name="Dave Dunn")


@pytest.fixture
def stranger(db):
    return UserFactory(username="stranger", display_name="Sam Stranger")


@pytest.fixture
def group(alice, bob, carol):
    """alice, bob and carol, with one message from alice."""
    return conversation_send(sender=alice, recipients=[bob, carol], text="Hello both").conversation


# --- conversation_send: creating and reusing conversations -----------------------------------


def test_first_send_creates_conversation_with_sender_recipients_and_message(alice, bob, carol):
    message = conversation_send(sender=alice, recipients=[bob, carol], text="  Look at this  ")

    conversation = Conversation.objects.get()
    assert message.conversation_id == conversation.pk
    assert conversation.created_by == alice
    assert member_ids(conversation) == {alice.pk, bob.pk, carol.pk}
    assert message.sender == alice
    assert message.text == "Look at this"
    assert message.kind == Message.Kind.TEXT
    assert stored() == (1, 3, 1)


def test_send_to_the_same_people_reuses_the_conversation(alice, bob, carol):
    first = conversation_send(sender=alice, recipients=[bob, carol], text="One")

    # Order of recipients is irrelevant and the sender listed among them is ignored.
    second = conversation_send(sender=alice, recipients=[carol, alice, bob], text="Two")
    # Anyone in the set starting the send reuses it too.
    third = conversation_send(sender=bob, recipients=[alice, carol], text="Three")

    assert second.conversation_id == first.conversation_id
    assert third.conversation_id == first.conversation_id
    assert stored() == (1, 3, 3)


def test_send_to_a_subset_makes_a_new_conversation(group, alice, bob):
    message = conversation_send(sender=alice, recipients=[bob], text="Just you")

    assert message.conversation_id != group.pk
    assert member_ids(message.conversation) == {alice.pk, bob.pk}


def test_send_to_a_superset_makes_a_new_conversation(group, alice, bob, carol, dave):
    message = conversation_send(sender=alice, recipients=[bob, carol, dave], text="All four")

    assert message.conversation_id != group.pk
    assert member_ids(message.conversation) == {alice.pk, bob.pk, carol.pk, dave.pk}
    assert member_ids(group) == {alice.pk, bob.pk, carol.pk}


def test_conversation_someone_left_matches_the_remaining_people_only(group, alice, bob, carol):
    conversation_leave(conversation=group, user=carol)

    to_original_set = conversation_send(sender=alice, recipients=[bob, carol], text="Both?")
    to_remaining_set = conversation_send(sender=alice, recipients=[bob], text="Just you")

    assert to_original_set.conversation_id != group.pk
    assert to_remaining_set.conversation_id == group.pk


def test_duplicate_recipients_count_once(alice, bob):
    message = conversation_send(sender=alice, recipients=[bob, bob], text="Hi")

    assert member_ids(message.conversation) == {alice.pk, bob.pk}
    assert stored() == (1, 2, 1)


def test_nine_recipients_make_a_conversation_of_ten(alice):
    recipients = make_people(9)

    message = conversation_send(sender=alice, recipients=recipients, text="Hi all")

    assert len(member_ids(message.conversation)) == 10


# --- conversation_send: refusals (each changes nothing) --------------------------------------


def assert_refused(code: str, send) -> ValidationError:
    before = stored()
    with pytest.raises(ValidationError) as caught:
        send()
    assert caught.value.code == code
    assert stored() == before
    return caught.value


def test_no_recipients_is_refused(alice):
    assert_refused(
        "no_recipients", lambda: conversation_send(sender=alice, recipients=[], text="x")
    )


def test_sending_only_to_yourself_is_refused(alice):
    assert_refused(
        "no_recipients", lambda: conversation_send(sender=alice, recipients=[alice], text="x")
    )


def test_ten_recipients_make_eleven_people_and_are_refused(alice, settings):
    assert settings.MESSAGING_MAX_PARTICIPANTS == 10
    recipients = make_people(10)

    error = assert_refused(
        "too_many", lambda: conversation_send(sender=alice, recipients=recipients, text="x")
    )
    assert "10" in error.message


def test_participant_limit_follows_the_setting(alice, settings):
    settings.MESSAGING_MAX_PARTICIPANTS = 3
    recipients = make_people(3)

    assert_refused(
        "too_many", lambda: conversation_send(sender=alice, recipients=recipients, text="x")
    )
    message = conversation_send(sender=alice, recipients=recipients[:2], text="x")
    assert len(member_ids(message.conversation)) == 3


def test_inactive_recipient_is_refused_and_named(alice, bob, carol):
    carol.is_active = False
    carol.save(update_fields=["is_active"])

    error = assert_refused(
        "cannot_message", lambda: conversation_send(sender=alice, recipients=[bob, carol], text="x")
    )
    assert "Carol Cole" in error.message
    assert "Bob Baker" not in error.message


def test_inactive_sender_is_refused(alice, bob):
    alice.is_active = False
    alice.save(update_fields=["is_active"])

    assert_refused(
        "cannot_message", lambda: conversation_send(sender=alice, recipients=[bob], text="x")
    )


def test_text_over_the_limit_is_refused(alice, bob):
    text = "a" * (MAX_TEXT_LENGTH + 1)

    assert_refused("too_long", lambda: conversation_send(sender=alice, recipients=[bob], text=text))


def test_text_at_the_limit_is_accepted(alice, bob):
    text = "a" * MAX_TEXT_LENGTH

    message = conversation_send(sender=alice, recipients=[bob], text=f"  {text}  ")

    assert message.text == text


@pytest.mark.parametrize("text", ["", "   \n  "])
def test_empty_text_without_attachment_is_refused(alice, bob, text):
    assert_refused("empty", lambda: conversation_send(sender=alice, recipients=[bob], text=text))


def test_refusal_into_an_existing_conversation_changes_nothing(group, alice, bob, carol):
    unread_before = list(Participant.objects.order_by("pk").values_list("unread_count", flat=True))
    last_before = Conversation.objects.get(pk=group.pk).last_message_id

    assert_refused(
        "too_long",
        lambda: conversation_send(sender=alice, recipients=[bob, carol], text="a" * 2001),
    )

    assert (
        list(Participant.objects.order_by("pk").values_list("unread_count", flat=True))
        == unread_before
    )
    assert Conversation.objects.get(pk=group.pk).last_message_id == last_before


# --- Attachments and secret content ----------------------------------------------------------


def test_empty_text_with_a_pin_sends_a_pin_card(alice, bob):
    pin = PinFactory(board=BoardFactory(owner=alice))

    message = conversation_send(sender=alice, recipients=[bob], attachment=Attachment(pin=pin))

    message.refresh_from_db()
    assert message.kind == Message.Kind.PIN
    assert message.pin == pin
    assert message.text == ""


@pytest.mark.parametrize("what", ["board", "profile"])
def test_board_and_profile_cards_are_sent(alice, bob, carol, what):
    target = BoardFactory(owner=alice) if what == "board" else carol

    message = conversation_send(
        sender=alice, recipients=[bob], attachment=Attachment(**{what: target}), text="See"
    )

    message.refresh_from_db()
    assert message.kind == what
    assert getattr(message, what) == target


def test_secret_pin_to_a_stranger_is_refused_naming_them(alice, bob, stranger):
    board = BoardFactory(owner=alice, is_secret=True)
    BoardMemberFactory(board=board, user=bob)
    pin = PinFactory(board=board)
    before = stored()

    with pytest.raises(SecretContentRefused) as caught:
        conversation_send(
            sender=alice, recipients=[bob, stranger], attachment=Attachment(pin=pin), text="Hi"
        )

    error = caught.value
    assert error.code == "secret_content"
    assert error.people == [stranger]
    assert error.board == board
    assert error.can_invite is True
    assert "Sam Stranger" in error.message
    assert "Bob Baker" not in error.message
    assert "pin" in error.message
    assert stored() == before


def test_collaborator_may_send_a_secret_pin_to_the_owner(alice, bob):
    board = BoardFactory(owner=alice, is_secret=True)
    BoardMemberFactory(board=board, user=bob)
    pin = PinFactory(board=board)

    message = conversation_send(sender=bob, recipients=[alice], attachment=Attachment(pin=pin))

    assert message.pin == pin


def test_collaborator_sending_a_secret_pin_to_a_stranger_cannot_invite(alice, bob, stranger):
    board = BoardFactory(owner=alice, is_secret=True)
    BoardMemberFactory(board=board, user=bob)
    pin = PinFactory(board=board, owner=bob)
    before = stored()

    with pytest.raises(SecretContentRefused) as caught:
        conversation_send(sender=bob, recipients=[stranger], attachment=Attachment(pin=pin))

    assert caught.value.people == [stranger]
    assert caught.value.can_invite is False
    assert stored() == before


def test_secret_board_to_a_stranger_is_refused_and_owner_may_invite(alice, stranger):
    board = BoardFactory(owner=alice, is_secret=True)
    before = stored()

    with pytest.raises(SecretContentRefused) as caught:
        conversation_send(sender=alice, recipients=[stranger], attachment=Attachment(board=board))

    assert caught.value.people == [stranger]
    assert caught.value.can_invite is True
    assert "board" in caught.value.message
    assert stored() == before


def test_secret_board_sent_by_a_collaborator_to_a_stranger_cannot_invite(alice, bob, stranger):
    board = BoardFactory(owner=alice, is_secret=True)
    BoardMemberFactory(board=board, user=bob)

    with pytest.raises(SecretContentRefused) as caught:
        conversation_send(sender=bob, recipients=[stranger], attachment=Attachment(board=board))

    assert caught.value.can_invite is False


def test_secret_pin_may_be_sent_once_the_recipient_collaborates(alice, stranger):
    board = BoardFactory(owner=alice, is_secret=True)
    pin = PinFactory(board=board)
    BoardMemberFactory(board=board, user=stranger)

    message = conversation_send(sender=alice, recipients=[stranger], attachment=Attachment(pin=pin))

    assert message.pin == pin


def test_invited_but_not_accepted_collaborator_cannot_receive_a_secret_pin(alice, stranger):
    board = BoardFactory(owner=alice, is_secret=True)
    pin = PinFactory(board=board)
    BoardMemberFactory(board=board, user=stranger, status="invited")

    with pytest.raises(SecretContentRefused):
        conversation_send(sender=alice, recipients=[stranger], attachment=Attachment(pin=pin))


@pytest.mark.parametrize("what", ["pin", "board"])
def test_sender_cannot_send_what_they_cannot_see(alice, bob, stranger, what):
    board = BoardFactory(owner=stranger, is_secret=True)
    target = PinFactory(board=board) if what == "pin" else board
    before = stored()

    with pytest.raises(PermissionDenied):
        conversation_send(sender=alice, recipients=[bob], attachment=Attachment(**{what: target}))

    assert stored() == before


def test_secret_pin_into_a_conversation_with_a_stranger_is_refused(alice, bob, stranger):
    conversation = conversation_send(
        sender=alice, recipients=[bob, stranger], text="Hi"
    ).conversation
    board = BoardFactory(owner=alice, is_secret=True)
    BoardMemberFactory(board=board, user=bob)
    pin = PinFactory(board=board)
    before = stored()

    with pytest.raises(SecretContentRefused) as caught:
        message_send(sender=alice, conversation=conversation, attachment=Attachment(pin=pin))

    assert caught.value.people == [stranger]
    assert caught.value.can_invite is True
    assert stored() == before


def test_secret_pin_is_checked_against_current_members_only(alice, bob, stranger):
    conversation = conversation_send(
        sender=alice, recipients=[bob, stranger], text="Hi"
    ).conversation
    conversation_leave(conversation=conversation, user=stranger)
    board = BoardFactory(owner=alice, is_secret=True)
    BoardMemberFactory(board=board, user=bob)
    pin = PinFactory(board=board)

    message = message_send(sender=alice, conversation=conversation, attachment=Attachment(pin=pin))

    assert message.pin == pin


# --- Idempotency -----------------------------------------------------------------------------


def test_conversation_send_twice_with_the_same_key_stores_one_message(alice, bob):
    key = uuid.uuid4()

    first = conversation_send(sender=alice, recipients=[bob], text="Hi", idempotency_key=key)
    second = conversation_send(sender=alice, recipients=[bob], text="Hi", idempotency_key=key)

    assert second.pk == first.pk
    assert stored() == (1, 2, 1)
    assert participant(first.conversation, bob).unread_count == 1


def test_message_send_twice_with_the_same_key_stores_one_message(group, alice):
    key = uuid.uuid4()

    first = message_send(sender=alice, conversation=group, text="Again", idempotency_key=key)
    second = message_send(sender=alice, conversation=group, text="Again", idempotency_key=key)

    assert second.pk == first.pk
    assert Message.objects.filter(conversation=group).count() == 2  # the group's first + this
    assert Participant.objects.filter(conversation=group).exclude(user=alice).aggregate(
        total=Sum("unread_count")
    )["total"] == 4  # fmt: skip


def test_different_keys_store_two_messages(alice, bob):
    first = conversation_send(
        sender=alice, recipients=[bob], text="Hi", idempotency_key=uuid.uuid4()
    )
    second = conversation_send(
        sender=alice, recipients=[bob], text="Hi", idempotency_key=uuid.uuid4()
    )

    assert second.pk != first.pk
    assert second.conversation_id == first.conversation_id
    assert stored() == (1, 2, 2)


def test_the_same_key_from_two_people_is_two_messages(group, alice, bob):
    key = uuid.uuid4()

    first = message_send(sender=alice, conversation=group, text="Hi", idempotency_key=key)
    second = message_send(sender=bob, conversation=group, text="Hi", idempotency_key=key)

    assert second.pk != first.pk


def test_no_key_means_no_deduplication(group, alice):
    message_send(sender=alice, conversation=group, text="Hi")
    message_send(sender=alice, conversation=group, text="Hi")

    assert Message.objects.filter(conversation=group).count() == 3


# --- Concurrency (real threads, real connections) --------------------------------------------


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def run_together(calls, *, hold):
    """Run each call in its own thread and connection, all released at the same moment.

    `hold` is a queryset whose rows this connection locks FOR UPDATE while the threads start,
    so that both reach the write that needs those rows and queue behind the lock; releasing it
    lets them race. Returns ("ok", result) or ("error", exception) per call, in order.
    """
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = ("ok", call())
        except Exception as exc:
            results[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    with transaction.atomic():
        list(hold.select_for_update())
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while _waiting_on_locks() < len(calls) and time.monotonic() < deadline:
            time.sleep(0.02)
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_sends_with_the_same_key_store_one_conversation_and_message():
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    key = uuid.uuid4()

    def send():
        return conversation_send(sender=alice, recipients=[bob], text="Hi", idempotency_key=key)

    results = run_together([send, send], hold=User.objects.filter(pk=alice.pk))

    assert [outcome for outcome, _ in results] == ["ok", "ok"], results
    assert results[0][1].pk == results[1][1].pk
    assert stored() == (1, 2, 1)
    assert Participant.objects.get(user=bob).unread_count == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_replies_with_the_same_key_store_one_message():
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    conversation = conversation_send(sender=alice, recipients=[bob], text="Hi").conversation
    key = uuid.uuid4()

    def send():
        return message_send(sender=bob, conversation=conversation, text="Yo", idempotency_key=key)

    results = run_together([send, send], hold=Conversation.objects.filter(pk=conversation.pk))

    assert [outcome for outcome, _ in results] == ["ok", "ok"], results
    assert results[0][1].pk == results[1][1].pk
    assert Message.objects.filter(sender=bob).count() == 1
    assert Participant.objects.get(user=alice).unread_count == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_adds_never_go_beyond_the_cap():
    people = make_people(12)
    first, second = people[0], people[1]
    conversation = conversation_send(sender=first, recipients=people[1:8], text="Hi").conversation
    assert len(member_ids(conversation)) == 8

    results = run_together(
        [
            lambda: conversation_add_people(
                conversation=conversation, by=first, people=people[8:10]
            ),
            lambda: conversation_add_people(
                conversation=conversation, by=second, people=people[10:12]
            ),
        ],
        hold=Conversation.objects.filter(pk=conversation.pk),
    )

    outcomes = sorted(outcome for outcome, _ in results)
    assert outcomes == ["error", "ok"], results
    error = next(value for outcome, value in results if outcome == "error")
    assert isinstance(error, ValidationError)
    assert error.code == "too_many"
    assert len(member_ids(conversation)) == 10
    assert Participant.objects.filter(conversation=conversation).count() == 10


# --- conversation_add_people -----------------------------------------------------------------


def test_add_people_adds_them(group, alice, dave):
    added = conversation_add_people(conversation=group, by=alice, people=[dave])

    assert [p.user for p in added] == [dave]
    assert dave.pk in member_ids(group)


def test_added_person_sees_the_history(group, alice, dave):
    old = Message.objects.get(conversation=group)

    conversation_add_people(conversation=group, by=alice, people=[dave])

    assert Message.objects.readable_by(dave).filter(pk=old.pk).exists()
    assert Conversation.objects.readable_by(dave).filter(pk=group.pk).exists()


def test_person_who_left_can_be_added_back(group, alice, carol):
    conversation_leave(conversation=group, user=carol)

    conversation_add_people(conversation=group, by=alice, people=[carol])

    assert carol.pk in member_ids(group)
    assert Participant.objects.filter(conversation=group, user=carol).count() == 1


def test_adding_someone_already_in_is_refused(group, alice, bob):
    assert_refused(
        "already_in", lambda: conversation_add_people(conversation=group, by=alice, people=[bob])
    )


@pytest.mark.parametrize("adder", ["stranger", "former"])
def test_only_current_participants_may_add_people(group, carol, dave, stranger, adder):
    if adder == "former":
        conversation_leave(conversation=group, user=carol)
    by = carol if adder == "former" else stranger
    before = stored()

    with pytest.raises(PermissionDenied):
        conversation_add_people(conversation=group, by=by, people=[dave])

    assert stored() == before


def test_adding_beyond_the_cap_is_refused_and_adds_nobody(alice):
    people = make_people(10)
    conversation = conversation_send(sender=alice, recipients=people[:8], text="Hi").conversation

    assert_refused(
        "too_many",
        lambda: conversation_add_people(conversation=conversation, by=alice, people=people[8:10]),
    )
    assert len(member_ids(conversation)) == 9


def test_adding_up_to_the_cap_is_accepted(alice):
    people = make_people(9)
    conversation = conversation_send(sender=alice, recipients=people[:7], text="Hi").conversation

    conversation_add_people(conversation=conversation, by=alice, people=people[7:9])

    assert len(member_ids(conversation)) == 10


def test_the_same_person_listed_twice_is_added_once(alice):
    """Nine people and one more, listed twice (a form posting the same id twice): the tenth."""
    people = make_people(9)
    conversation = conversation_send(sender=alice, recipients=people[:8], text="Hi").conversation

    conversation_add_people(conversation=conversation, by=alice, people=[people[8], people[8]])

    assert len(member_ids(conversation)) == 10


def test_adding_an_inactive_person_is_refused(group, alice, dave):
    dave.is_active = False
    dave.save(update_fields=["is_active"])

    assert_refused(
        "cannot_message",
        lambda: conversation_add_people(conversation=group, by=alice, people=[dave]),
    )


# --- message_send ----------------------------------------------------------------------------


def test_message_send_appends_to_the_conversation(group, bob):
    message = message_send(sender=bob, conversation=group, text="  Nice  ")

    assert message.conversation_id == group.pk
    assert message.text == "Nice"
    assert Message.objects.filter(conversation=group).count() == 2


@pytest.mark.parametrize("who", ["stranger", "former"])
def test_non_participants_cannot_post(group, carol, stranger, who):
    if who == "former":
        conversation_leave(conversation=group, user=carol)
    sender = carol if who == "former" else stranger
    before = stored()

    with pytest.raises(PermissionDenied):
        message_send(sender=sender, conversation=group, text="Let me in")

    assert stored() == before


def test_reply_to_a_message_in_another_conversation_is_refused(group, alice, bob):
    elsewhere = conversation_send(sender=alice, recipients=[bob], text="Private").conversation
    foreign = Message.objects.get(conversation=elsewhere)
    before = stored()

    with pytest.raises(PermissionDenied):
        message_send(sender=bob, conversation=group, text="Re", reply_to=foreign)

    assert stored() == before


def test_reply_to_a_card_in_the_same_conversation_is_stored(group, alice, bob):
    pin = PinFactory(board=BoardFactory(owner=alice))
    card = message_send(sender=alice, conversation=group, attachment=Attachment(pin=pin))

    reply = message_send(sender=bob, conversation=group, text="Love it", reply_to=card)

    reply.refresh_from_db()
    assert reply.reply_to == card
    assert list(card.replies.all()) == [reply]


def test_each_message_adds_one_unread_for_each_other_active_participant(
    group, alice, bob, carol, dave
):
    conversation_add_people(conversation=group, by=alice, people=[dave])
    conversation_leave(conversation=group, user=dave)

    message_send(sender=alice, conversation=group, text="Two")
    message_send(sender=bob, conversation=group, text="Three")

    unread = dict(
        Participant.objects.filter(conversation=group).values_list("user__username", "unread_count")
    )
    assert unread == {"alice": 1, "bob": 0, "carol": 3, "dave": 0}


def test_sending_updates_the_conversations_last_message(group, bob):
    message = message_send(sender=bob, conversation=group, text="Latest")

    group.refresh_from_db()
    assert group.last_message == message
    assert group.last_message_at == message.created_at


def test_sender_read_marker_moves_to_their_own_message(group, bob):
    message = message_send(sender=bob, conversation=group, text="Latest")

    assert participant(group, bob).last_read_message_id == message.pk
    assert participant(group, bob).unread_count == 0


def test_mark_read_zeroes_the_unread_count(group, alice, bob):
    latest = message_send(sender=alice, conversation=group, text="Two")
    group.refresh_from_db()

    conversation_mark_read(conversation=group, user=bob)

    assert participant(group, bob).unread_count == 0
    assert participant(group, bob).last_read_message_id == latest.pk
    assert participant(group, alice).unread_count == 0


def test_mark_read_keeps_read_marker_and_unread_count_in_agreement(group, alice, bob):
    """The conversation as a page loaded it; a message arrives before the page marks it read.
    Whatever the service decides, the marker and the count must agree: the unread count is the
    number of messages after the read marker."""
    loaded = Conversation.objects.get(pk=group.pk)
    message_send(sender=alice, conversation=group, text="Arrives meanwhile")

    conversation_mark_read(conversation=loaded, user=bob)

    marker = participant(group, bob)
    after_marker = Message.objects.filter(
        conversation=group, pk__gt=marker.last_read_message_id
    ).count()
    assert marker.unread_count == after_marker


# --- rename, leave, mute ---------------------------------------------------------------------


def test_rename_sets_the_trimmed_name(group, bob):
    conversation_rename(conversation=group, by=bob, name="  Trip planning  ")

    group.refresh_from_db()
    assert group.name == "Trip planning"


def test_a_one_to_one_conversation_cannot_be_named(alice, bob):
    # The page offers naming only to groups; the rule is the service's, so a hand-made POST
    # can't name a one-to-one conversation either.
    pair = conversation_send(sender=alice, recipients=[bob], text="Hi").conversation
    with pytest.raises(ValidationError, match="Only group conversations can be named"):
        conversation_rename(conversation=pair, by=alice, name="Just us")
    pair.refresh_from_db()
    assert pair.name == ""


def test_rename_over_80_characters_is_refused(group, bob):
    conversation_rename(conversation=group, by=bob, name="Before")

    with pytest.raises(ValidationError) as caught:
        conversation_rename(conversation=group, by=bob, name="n" * 81)

    assert caught.value.code == "too_long"
    assert Conversation.objects.get(pk=group.pk).name == "Before"


@pytest.mark.parametrize("who", ["stranger", "former"])
def test_non_participants_cannot_rename(group, carol, stranger, who):
    if who == "former":
        conversation_leave(conversation=group, user=carol)

    with pytest.raises(PermissionDenied):
        conversation_rename(
            conversation=group, by=carol if who == "former" else stranger, name="Mine"
        )

    assert Conversation.objects.get(pk=group.pk).name == ""


def test_leave_sets_left_at_and_zeroes_unread(group, bob):
    assert participant(group, bob).unread_count == 1

    conversation_leave(conversation=group, user=bob)

    left = participant(group, bob)
    assert left.left_at is not None
    assert left.unread_count == 0
    assert not Conversation.objects.readable_by(bob).filter(pk=group.pk).exists()


def test_after_leaving_one_cannot_send(group, bob):
    conversation_leave(conversation=group, user=bob)

    with pytest.raises(PermissionDenied):
        message_send(sender=bob, conversation=group, text="Still here?")


def test_leaving_twice_is_refused(group, bob):
    conversation_leave(conversation=group, user=bob)

    with pytest.raises(PermissionDenied):
        conversation_leave(conversation=group, user=bob)


def test_those_who_left_do_not_get_unread_counts(group, alice, bob):
    conversation_leave(conversation=group, user=bob)

    message_send(sender=alice, conversation=group, text="Gone?")

    assert participant(group, bob).unread_count == 0


def test_choosing_a_level(group, bob):
    conversation_set_level(conversation=group, user=bob, level="none")
    assert participant(group, bob).level == "none"

    conversation_set_level(conversation=group, user=bob, level="mentions")
    assert participant(group, bob).level == "mentions"

    with pytest.raises(ValidationError):
        conversation_set_level(conversation=group, user=bob, level="loud")
    assert participant(group, bob).level == "mentions"


def test_strangers_cannot_choose_a_level(group, stranger):
    with pytest.raises(PermissionDenied):
        conversation_set_level(conversation=group, user=stranger, level="none")


# --- message_edit ----------------------------------------------------------------------------


@pytest.fixture
def own_message(group, bob):
    return message_send(sender=bob, conversation=group, text="Original")


def age(message: Message, minutes: int) -> Message:
    Message.objects.filter(pk=message.pk).update(
        created_at=F("created_at") - timedelta(minutes=minutes)
    )
    message.refresh_from_db()
    return message


def test_edit_within_the_window_changes_text_and_marks_edited(own_message, bob):
    age(own_message, 14)

    message_edit(message=own_message, editor=bob, text="  Fixed  ")

    own_message.refresh_from_db()
    assert own_message.text == "Fixed"
    assert own_message.edited_at is not None
    assert own_message.edited_at >= own_message.created_at


def test_edit_after_the_window_is_refused(own_message, bob):
    age(own_message, 16)

    with pytest.raises(ValidationError) as caught:
        message_edit(message=own_message, editor=bob, text="Too late")

    assert caught.value.code == "edit_window"
    own_message.refresh_from_db()
    assert own_message.text == "Original"
    assert own_message.edited_at is None


def test_editing_someone_elses_message_is_refused(own_message, alice):
    with pytest.raises(PermissionDenied):
        message_edit(message=own_message, editor=alice, text="Hijacked")

    own_message.refresh_from_db()
    assert own_message.text == "Original"


def test_editing_after_leaving_is_refused(own_message, group, bob):
    conversation_leave(conversation=group, user=bob)

    with pytest.raises(PermissionDenied):
        message_edit(message=own_message, editor=bob, text="From outside")


def test_card_messages_are_not_editable(group, alice):
    pin = PinFactory(board=BoardFactory(owner=alice))
    card = message_send(sender=alice, conversation=group, attachment=Attachment(pin=pin), text="A")

    with pytest.raises(ValidationError):
        message_edit(message=card, editor=alice, text="Changed")

    card.refresh_from_db()
    assert card.text == "A"
    assert card.edited_at is None


def test_deleted_messages_are_not_editable(own_message, bob):
    message_delete(message=own_message, user=bob)

    with pytest.raises(ValidationError):
        message_edit(message=own_message, editor=bob, text="Back")

    own_message.refresh_from_db()
    assert own_message.text == ""


@pytest.mark.parametrize(("text", "code"), [("", "empty"), ("x" * 2001, "too_long")])
def test_edit_validates_the_new_text(own_message, bob, text, code):
    with pytest.raises(ValidationError) as caught:
        message_edit(message=own_message, editor=bob, text=text)

    assert caught.value.code == code
    own_message.refresh_from_db()
    assert own_message.text == "Original"


# --- message_delete --------------------------------------------------------------------------


def test_delete_clears_text_and_card_and_keeps_the_row(group, alice):
    pin = PinFactory(board=BoardFactory(owner=alice))
    card = message_send(sender=alice, conversation=group, attachment=Attachment(pin=pin), text="A")

    message_delete(message=card, user=alice)

    card = Message.objects.get(pk=card.pk)
    assert card.deleted_at is not None
    assert card.is_deleted
    assert card.text == ""
    assert card.pin_id is None
    assert card.board_id is None
    assert card.profile_id is None
    assert Pin.objects.filter(pk=pin.pk).exists()  # the pin itself is untouched


@pytest.mark.parametrize("what", ["board", "profile"])
def test_delete_clears_board_and_profile_cards(group, alice, dave, what):
    target = BoardFactory(owner=alice) if what == "board" else dave
    card = message_send(sender=alice, conversation=group, attachment=Attachment(**{what: target}))

    message_delete(message=card, user=alice)

    assert getattr(Message.objects.get(pk=card.pk), f"{what}_id") is None


def test_deleting_someone_elses_message_is_refused(own_message, alice):
    with pytest.raises(PermissionDenied):
        message_delete(message=own_message, user=alice)

    own_message.refresh_from_db()
    assert own_message.text == "Original"
    assert own_message.deleted_at is None


def test_strangers_cannot_delete_messages(own_message, stranger):
    with pytest.raises(PermissionDenied):
        message_delete(message=own_message, user=stranger)

    assert Message.objects.get(pk=own_message.pk).deleted_at is None


# --- on_delete rules -------------------------------------------------------------------------


def test_deleting_the_sender_keeps_their_messages_unsigned(group, alice, bob):
    sent = list(Message.objects.filter(sender=alice).values_list("pk", flat=True))
    assert sent

    alice.delete()

    remaining = Message.objects.filter(pk__in=sent)
    assert remaining.count() == len(sent)
    assert all(message.sender is None for message in remaining)
    assert Conversation.objects.readable_by(bob).filter(pk=group.pk).exists()


def test_deleting_a_sent_pin_leaves_a_pin_message_without_its_pin(group, alice):
    pin = PinFactory(board=BoardFactory(owner=alice))
    card = message_send(sender=alice, conversation=group, attachment=Attachment(pin=pin))

    pin_delete(pin=pin)

    card = Message.objects.get(pk=card.pk)
    assert card.kind == Message.Kind.PIN
    assert card.pin_id is None


def test_deleting_a_sent_board_leaves_board_and_pin_messages_without_them(group, alice):
    board = BoardFactory(owner=alice)
    pin = PinFactory(board=board)
    board_card = message_send(sender=alice, conversation=group, attachment=Attachment(board=board))
    pin_card = message_send(sender=alice, conversation=group, attachment=Attachment(pin=pin))

    board_delete(board=board)

    board_card = Message.objects.get(pk=board_card.pk)
    pin_card = Message.objects.get(pk=pin_card.pk)
    assert (board_card.kind, board_card.board_id) == (Message.Kind.BOARD, None)
    assert (pin_card.kind, pin_card.pin_id) == (Message.Kind.PIN, None)


def test_deleting_a_sent_profile_leaves_a_profile_message_without_it(group, alice, dave):
    card = message_send(sender=alice, conversation=group, attachment=Attachment(profile=dave))

    dave.delete()

    card = Message.objects.get(pk=card.pk)
    assert (card.kind, card.profile_id) == (Message.Kind.PROFILE, None)


def test_database_refuses_a_message_with_two_attachments(group, alice):
    board = BoardFactory(owner=alice)
    pin = PinFactory(board=board)

    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(
            conversation=group, sender=alice, kind=Message.Kind.PIN, pin=pin, board=board
        )


def test_database_refuses_a_second_participant_row_for_the_same_person(group, bob):
    with pytest.raises(IntegrityError), transaction.atomic():
        Participant.objects.create(conversation=group, user=bob)


def test_database_refuses_a_reused_idempotency_key_from_the_same_sender(group, alice):
    key = uuid.uuid4()
    Message.objects.create(conversation=group, sender=alice, text="a", idempotency_key=key)

    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(conversation=group, sender=alice, text="b", idempotency_key=key)


def test_unread_total_for_the_nav_badge_is_a_sum_over_participations(group, alice, bob, carol):
    conversation_send(sender=carol, recipients=[bob], text="Side chat")

    total = Participant.objects.filter(user=bob).active().aggregate(total=Sum("unread_count"))
    assert total["total"] == 2


@pytest.mark.django_db(transaction=True)
def test_marking_read_never_waits_for_a_send_in_progress():
    """A read marker records its event while a send holds the conversation.

    Regression: the send's lock was FOR UPDATE, which the event's foreign key check waits for,
    while the send waited for the reader's participant row: PostgreSQL found a deadlock and
    failed one of them (seen as a failed send in CI).
    """
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    conversation = conversation_send(sender=alice, recipients=[bob], text="Hi").conversation
    outcome = []

    def mark_read():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '3s'")
            conversation_mark_read(conversation=conversation, user=bob)
            outcome.append("ok")
        except Exception as exc:
            outcome.append(exc)
        finally:
            connection.close()

    with transaction.atomic():
        lock_conversation(conversation)  # what a send does first
        reader = threading.Thread(target=mark_read)
        reader.start()
        reader.join(timeout=10)

    assert outcome == ["ok"]
    assert Participant.objects.get(user=bob).unread_count == 0
