"""The bell: in-app notifications, created from every source, grouped, re-checked when shown."""

import pytest

from accounts.services import user_block, user_follow
from messaging import bell
from messaging.models import Notification, NotificationActor, NotificationKind
from messaging.notifications import Channels, notify
from messaging.services import (
    conversation_add_people,
    conversation_send,
    notification_preferences_update,
    notifications_mark_read,
)
from pinboard.models import BoardMember
from pinboard.services import (
    board_invite,
    board_invite_respond,
    board_member_remove,
    board_update,
    comment_create,
    pin_like,
    pin_save,
    pin_unlike,
    pin_update,
)
from tests.factories import BoardFactory, PinFactory, UserFactory

pytestmark = pytest.mark.django_db
Kind = NotificationKind


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the services defer to commit (signals, notify, tasks) as a real commit would."""

    def run(action, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args, **kwargs)

    return run


@pytest.fixture
def sofa(ada):
    return PinFactory(board=BoardFactory(owner=ada, name="Living room"), title="Blue sofa")


def board_of(person, **kwargs):
    return BoardFactory(owner=person, **kwargs)


def lines_for(person) -> list[str]:
    return [line.text for line in bell.page(person, after=None).lines]


# --- Each kind, once per event, never for your own actions ------------------------------------


def test_each_source_notifies_its_recipient_once(committed, ada, bea, sofa):
    committed(user_follow, follower=bea, followee=ada)
    committed(pin_save, user=bea, pin=sofa, board=board_of(bea))
    committed(pin_like, user=bea, pin=sofa)
    committed(comment_create, author=bea, pin=sofa, text="Lovely")
    assert sorted(lines_for(ada)) == [
        "Bea commented on Blue sofa",
        "Bea liked Blue sofa",
        "Bea saved Blue sofa",
        "Bea started following you",
    ]
    assert lines_for(bea) == []


def test_board_invitation_and_acceptance(committed, ada, bea):
    board = board_of(ada, name="Kitchen", is_secret=True)
    committed(board_invite, board=board, inviter=ada, invitee=bea)
    # The invitee sees the secret board's name: the invitation is how they learn of it.
    assert lines_for(bea) == ["Ada invited you to collaborate on Kitchen"]
    membership = BoardMember.objects.get(board=board, user=bea)
    committed(board_invite_respond, membership=membership, accept=True)
    assert lines_for(ada) == ["Bea joined Kitchen"]


def test_being_added_to_a_conversation_and_a_message_request(committed, ada, bea):
    chen = UserFactory(username="chen", display_name="Chen")
    dee = UserFactory(username="dee", display_name="Dee", message_privacy="nobody")
    message = committed(conversation_send, sender=ada, recipients=[bea, chen], text="Hi")
    # A new conversation's first message reaches them as a message, not in the bell.
    assert lines_for(bea) == []
    committed(conversation_add_people, conversation=message.conversation, by=ada, people=[dee])
    assert lines_for(dee) == ["Ada sent you a message request"]
    eve = UserFactory(username="eve", display_name="Eve")
    committed(conversation_add_people, conversation=message.conversation, by=bea, people=[eve])
    assert lines_for(eve) == ["Bea added you to a conversation"]
    first = committed(conversation_send, sender=bea, recipients=[dee], text="Hello")
    assert first.conversation_id != message.conversation_id
    assert Notification.objects.filter(recipient=dee, kind=Kind.MESSAGE_REQUEST).count() == 2


def test_your_own_actions_notify_no_one(committed, ada, sofa):
    committed(pin_like, user=ada, pin=sofa)
    committed(comment_create, author=ada, pin=sofa, text="Mine")
    committed(pin_save, user=ada, pin=sofa, board=board_of(ada))
    assert not Notification.objects.exists()


def test_a_rolled_back_write_notifies_no_one(ada, bea, sofa, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        pin_like(user=bea, pin=sofa)
    assert not Notification.objects.exists()


# --- Grouping ---------------------------------------------------------------------------------


def test_saves_group_into_one_line_with_the_latest_actor_named(committed, ada, sofa):
    savers = [UserFactory(display_name=name) for name in ["Bo", "Cy", "Di", "Ed", "Flo"]]
    for person in savers:
        committed(pin_save, user=person, pin=sofa, board=board_of(person))
    assert lines_for(ada) == ["Flo and 4 others saved Blue sofa"]
    assert Notification.objects.get().actor_count == 5


def test_like_unlike_like_notifies_once_even_after_reading(committed, ada, bea, sofa):
    committed(pin_like, user=bea, pin=sofa)
    committed(pin_unlike, user=bea, pin=sofa)
    committed(pin_like, user=bea, pin=sofa)
    assert lines_for(ada) == ["Bea liked Blue sofa"]
    notifications_mark_read(user=ada)
    committed(pin_unlike, user=bea, pin=sofa)
    committed(pin_like, user=bea, pin=sofa)
    assert Notification.objects.count() == 1
    assert NotificationActor.objects.count() == 1


def test_after_reading_the_next_event_starts_a_new_group(committed, ada, bea, sofa):
    chen = UserFactory(display_name="Chen")
    committed(pin_like, user=bea, pin=sofa)
    notifications_mark_read(user=ada)
    committed(pin_like, user=chen, pin=sofa)
    assert lines_for(ada) == ["Chen liked Blue sofa", "Bea liked Blue sofa"]
    assert bell.unread_count(ada) == 1


def test_each_comment_is_news(committed, ada, bea, sofa):
    committed(comment_create, author=bea, pin=sofa, text="One")
    notifications_mark_read(user=ada)
    committed(comment_create, author=bea, pin=sofa, text="Two")
    assert lines_for(ada) == ["Bea commented on Blue sofa", "Bea commented on Blue sofa"]


def test_concurrent_style_upserts_meet_in_one_group(ada, bea, sofa):
    """Two events for the same subject land in the one unread group (the partial unique index
    is the arbiter; the second call finds the first's row)."""
    first = notify(kind=Kind.PIN_SAVED, recipient_id=ada.pk, actor_id=bea.pk, pin=sofa)
    chen = UserFactory()
    second = notify(kind=Kind.PIN_SAVED, recipient_id=ada.pk, actor_id=chen.pk, pin=sofa)
    assert first == second
    assert Notification.objects.get().actor_count == 2


# --- Blocks and secrets -----------------------------------------------------------------------


def test_no_notification_across_a_block_either_way(committed, ada, bea, sofa):
    user_block(blocker=ada, blocked=bea)
    assert notify(kind=Kind.PIN_LIKED, recipient_id=ada.pk, actor_id=bea.pk, pin=sofa) is None
    user_block(blocker=bea, blocked=ada)
    Notification.objects.all().delete()
    assert notify(kind=Kind.FOLLOW, recipient_id=bea.pk, actor_id=ada.pk) is None
    assert not Notification.objects.exists()


def test_an_actor_blocked_since_is_not_named(committed, ada, bea, sofa):
    committed(pin_like, user=bea, pin=sofa)
    committed(user_follow, follower=bea, followee=ada)
    user_block(blocker=ada, blocked=bea)
    texts = lines_for(ada)
    assert texts == ["Someone started following you", "Someone liked Blue sofa"]
    assert all("Bea" not in text for text in texts)
    follow = next(line for line in bell.page(ada, after=None).lines if "following" in line.text)
    assert follow.url == ""  # no link to the profile either


def test_a_pin_on_a_board_made_secret_since_shows_no_title(committed, ada, bea):
    """Ada's pin on Bea's board: Chen's like reaches Ada. Bea then makes the board secret and
    removes Ada, who can no longer see her pin: the bell names nothing of it."""
    board = BoardFactory(owner=bea, name="Shared")
    BoardMember.objects.create(board=board, user=ada, status=BoardMember.Status.ACCEPTED)
    pin = PinFactory(board=board, owner=ada, title="Hidden treasure")
    chen = UserFactory(display_name="Chen")
    committed(pin_like, user=chen, pin=pin)
    assert lines_for(ada) == ["Chen liked Hidden treasure"]

    board_update(board=board, editor=bea, name=board.name, description="", is_secret=True)
    board_member_remove(board=board, user=ada)
    [line] = bell.page(ada, after=None).lines
    assert line.text == "Chen liked a pin you can no longer see"
    assert line.url == ""


def test_a_pin_moved_to_a_secret_board_shows_no_title(ada, bea):
    pin = PinFactory(board=BoardFactory(owner=bea, name="Open"), title="Moving day")
    notify(kind=Kind.PIN_COMMENTED, recipient_id=ada.pk, actor_id=bea.pk, pin=pin)
    assert lines_for(ada) == ["Bea commented on Moving day"]
    secret = BoardFactory(owner=bea, name="Secret", is_secret=True)
    pin_update(pin=pin, editor=bea, title=pin.title, description="", source_url="", board=secret)
    assert lines_for(ada) == ["Bea commented on a pin you can no longer see"]


def test_a_declined_invitation_to_a_secret_board_hides_its_name(committed, ada, bea):
    board = BoardFactory(owner=bea, name="Wedding plans", is_secret=True)
    committed(board_invite, board=board, inviter=bea, invitee=ada)
    [line] = bell.page(ada, after=None).lines
    assert (line.text, line.url) == ("Bea invited you to collaborate on Wedding plans", "/")
    membership = BoardMember.objects.get(board=board, user=ada)
    committed(board_invite_respond, membership=membership, accept=False)
    [line] = bell.page(ada, after=None).lines
    assert (line.text, line.url) == (
        "Bea invited you to collaborate on a board you can no longer see",
        "",
    )


# --- Preferences and reading ------------------------------------------------------------------


def test_turning_in_app_off_stops_the_bell_for_that_kind(committed, ada, bea, sofa):
    notification_preferences_update(
        user=ada, choices={Kind.PIN_LIKED: Channels(in_app=False, email=False, push=False)}
    )
    committed(pin_like, user=bea, pin=sofa)
    committed(pin_save, user=bea, pin=sofa, board=board_of(bea))
    assert lines_for(ada) == ["Bea saved Blue sofa"]


def test_marking_read_only_touches_your_own(committed, ada, bea, sofa):
    committed(pin_like, user=bea, pin=sofa)
    committed(user_follow, follower=ada, followee=bea)
    mine = Notification.objects.get(recipient=ada)
    assert notifications_mark_read(user=bea, ids=[mine.pk]) == 0
    assert bell.unread_count(ada) == 1
    assert notifications_mark_read(user=ada, ids=[mine.pk]) == 1
    assert bell.unread_count(ada) == 0
    assert bell.unread_count(bea) == 1


def test_the_task_for_other_channels_is_enqueued_on_commit(committed, ada, bea, sofa, settings):
    from django.tasks import task_backends

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    committed(pin_like, user=bea, pin=sofa)
    [result] = task_backends["default"].results
    assert result.task.name == "deliver_notification"
    assert result.args == [Notification.objects.get().pk]


def test_cursor_pagination_walks_every_line_once(ada):
    people = [UserFactory() for _ in range(7)]
    for person in people:
        notify(kind=Kind.FOLLOW, recipient_id=ada.pk, actor_id=person.pk)
        notifications_mark_read(user=ada)  # each follow its own line
    seen, cursor = [], None
    while True:
        page = bell.page(ada, after=cursor, size=3)
        seen += [line.pk for line in page.lines]
        if page.next_cursor is None:
            break
        cursor = bell.decode_cursor(page.next_cursor)
    assert len(seen) == 7 == len(set(seen))
    assert seen == sorted(seen, reverse=True)
    assert bell.decode_cursor("nonsense") is None
    assert bell.decode_cursor("99999999999999999999999_1") is None


def test_lines_say_when_in_words(ada, bea):
    from datetime import timedelta

    from django.utils import timezone

    notify(kind=Kind.FOLLOW, recipient_id=ada.pk, actor_id=bea.pk)
    [line] = bell.page(ada, after=None).lines
    assert line.when == "just now"
    Notification.objects.update(updated_at=timezone.now() - timedelta(hours=3, minutes=5))
    [line] = bell.page(ada, after=None).lines
    assert line.when == "3\xa0hours ago"  # timesince keeps the number with its unit
