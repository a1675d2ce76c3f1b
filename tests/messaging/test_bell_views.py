"""The bell's pages: /notifications/, the nav dropdown and count, and /settings/notifications/."""

import re

import pytest
from django.urls import reverse

from messaging import bell
from messaging.models import NotificationKind, NotificationPreference
from messaging.notifications import notify
from messaging.services import conversation_add_people, conversation_send, notifications_mark_read
from pinboard.models import BoardMember
from pinboard.services import board_update
from tests.factories import BoardFactory, PinFactory, UserFactory

pytestmark = pytest.mark.django_db
Kind = NotificationKind


def add_one_of_each(ada, index: int) -> None:
    """A line of every kind of target for Ada: a pin, a board, a conversation, a person."""
    actor = UserFactory(display_name=f"Actor {index}")
    pin = PinFactory(board=BoardFactory(owner=ada), title=f"Pin {index}")
    board = BoardFactory(owner=ada, name=f"Shared board {index}")
    notify(kind=Kind.PIN_SAVED, recipient_id=ada.pk, actor_id=actor.pk, pin=pin)
    notify(kind=Kind.BOARD_ACCEPTED, recipient_id=ada.pk, actor_id=actor.pk, board=board)
    conversation = conversation_send(sender=actor, recipients=[UserFactory()], text="Hi")
    conversation = conversation.conversation
    conversation_add_people(conversation=conversation, by=actor, people=[ada])
    notify(
        kind=Kind.CONVERSATION_ADDED,
        recipient_id=ada.pk,
        actor_id=actor.pk,
        conversation=conversation,
    )
    notify(kind=Kind.FOLLOW, recipient_id=ada.pk, actor_id=actor.pk)


# --- The page ---------------------------------------------------------------------------------


def test_the_page_lists_links_and_marks_what_it_shows_read(client_for, ada, bea):
    pin = PinFactory(board=BoardFactory(owner=ada), title="Blue sofa")
    for name in ["Cy", "Di", "Ed", "Flo"]:
        notify(
            kind=Kind.PIN_SAVED,
            recipient_id=ada.pk,
            actor_id=UserFactory(display_name=name).pk,
            pin=pin,
        )
    notify(kind=Kind.PIN_SAVED, recipient_id=ada.pk, actor_id=bea.pk, pin=pin)
    notify(kind=Kind.FOLLOW, recipient_id=ada.pk, actor_id=bea.pk)
    client = client_for(ada)
    assert "Notifications, 2 new" in client.get(reverse("home")).text

    html = client.get(reverse("notifications")).text
    assert f'<a class="notification__link" href="{pin.get_absolute_url()}">' in html
    assert "Bea and 4 others saved Blue sofa" in html
    assert f'href="{bea.get_absolute_url()}">Bea started following you</a>' in html
    assert "(new)" in html  # shown as new this once...
    assert bell.unread_count(ada) == 0  # ...and read from now on
    assert "Notifications, 2 new" not in html
    assert "(new)" not in client.get(reverse("notifications")).text


def test_a_secret_pin_never_reaches_the_page(client_for, ada, bea, htmx):
    board = BoardFactory(owner=bea, name="Plans")
    pin = PinFactory(board=board, title="Surprise party")
    notify(kind=Kind.PIN_COMMENTED, recipient_id=ada.pk, actor_id=bea.pk, pin=pin)
    board_update(board=board, editor=bea, name="Plans", description="", is_secret=True)
    client = client_for(ada)
    for url in [reverse("notifications"), reverse("notifications_latest")]:
        html = client.get(url, **htmx).text
        assert "Bea commented on a pin you can no longer see" in html
        assert "Surprise party" not in html
        assert pin.get_absolute_url() not in html
        assert pin.image.file.name not in html


def test_pages_follow_the_cursor(client_for, ada, htmx):
    for _ in range(bell.PAGE_SIZE + 2):
        notify(kind=Kind.FOLLOW, recipient_id=ada.pk, actor_id=UserFactory().pk)
        notifications_mark_read(user=ada)
    client = client_for(ada)
    first = client.get(reverse("notifications"))
    assert len(re.findall(r'<li class="notification[ "]', first.text)) == bell.PAGE_SIZE
    next_url = first.context["next_url"]
    assert next_url
    rest = client.get(next_url, **htmx)
    assert "<html" not in rest.text
    assert rest.text.count("started following you") == 2
    assert "More notifications" not in rest.text
    assert client.get(reverse("notifications") + "?after=garbage").status_code == 200


@pytest.mark.parametrize("size", [1, 3])
def test_the_page_costs_a_fixed_number_of_queries(client_for, ada, size, django_assert_num_queries):
    for index in range(size):
        add_one_of_each(ada, index)
    client = client_for(ada)
    client.get(reverse("home"))  # the session's first request pays for loading it
    # session, user, the rows, blocks, pins, boards, conversations, mark read (savepoint and
    # update), the nav counts (one query for both badges).
    with django_assert_num_queries(11):
        response = client.get(reverse("notifications"))
    # One line per pin, board and conversation; the follows group into one.
    assert response.text.count("Actor ") == 3 * size + 1


@pytest.mark.parametrize("size", [1, 3])
def test_the_dropdown_costs_a_fixed_number_of_queries(
    client_for, ada, size, django_assert_num_queries, htmx
):
    for index in range(size):
        add_one_of_each(ada, index)
    client = client_for(ada)
    client.get(reverse("home"))
    with django_assert_num_queries(11):
        response = client.get(reverse("notifications_latest"), **htmx)
    assert response.text.count("Actor ") == min(3 * size + 1, bell.DROPDOWN_SIZE)
    assert "See all notifications" in response.text
    assert 'id="nav-bell" hx-swap-oob="true"' in response.text  # the count, now 0


def test_the_dropdown_shows_the_latest_few_and_marks_them_read(client_for, ada):
    board = BoardFactory(owner=ada)
    for index in range(bell.DROPDOWN_SIZE + 2):
        pin = PinFactory(board=board, title=f"Pin {index}")
        notify(kind=Kind.PIN_LIKED, recipient_id=ada.pk, actor_id=UserFactory().pk, pin=pin)
    response = client_for(ada).get(reverse("notifications_latest"))
    assert response.text.count(" liked Pin ") == bell.DROPDOWN_SIZE
    assert "liked Pin 9" in response.text
    assert "liked Pin 0" not in response.text
    assert bell.unread_count(ada) == 2


def test_the_count_fragment(client_for, ada, bea):
    notify(kind=Kind.FOLLOW, recipient_id=ada.pk, actor_id=bea.pk)
    html = client_for(ada).get(reverse("notifications_count")).text
    assert html.startswith('<span id="nav-bell">')
    assert "Notifications, 1 new" in html


def test_mark_all_as_read(client_for, ada, bea):
    notify(kind=Kind.FOLLOW, recipient_id=ada.pk, actor_id=bea.pk)
    notify(kind=Kind.FOLLOW, recipient_id=bea.pk, actor_id=ada.pk)
    client = client_for(ada)
    response = client.post(reverse("notifications_read_all"))
    assert response.status_code == 302
    assert response.url == reverse("notifications")
    assert bell.unread_count(ada) == 0
    assert bell.unread_count(bea) == 1
    assert client.get(reverse("notifications_read_all")).status_code == 405


def test_signed_out_visitors_are_sent_to_log_in(client):
    for name in ["notifications", "notifications_latest", "notifications_count"]:
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert "/accounts/login/" in response.url


# --- Settings ---------------------------------------------------------------------------------


def test_the_settings_page_offers_each_kind_with_labelled_boxes(client_for, ada):
    response = client_for(ada).get(reverse("settings_notifications"))
    html = response.text
    for kind in Kind:
        for channel in ["Email", "Push"]:
            assert f">{channel} for {kind.label}</label>" in html
        if kind != Kind.MESSAGE:
            assert f">In app for {kind.label}</label>" in html
    assert "In app for New messages" not in html
    assert "A daily digest" in html
    assert 'aria-current="page">Notifications</a>' in html
    # The defaults: likes are in the bell, not pushed.
    assert 'name="pin_liked-in_app" id="id_pin_liked-in_app" checked' in html
    assert 'name="pin_liked-push" id="id_pin_liked-push">' in html


def test_saving_settings_writes_every_kind(client_for, ada, bea):
    client = client_for(ada)
    data = {"message_email": "digest", "follow-email": "on", "message-email": "on"}
    response = client.post(reverse("settings_notifications"), data)
    assert response.status_code == 302
    prefs = {p.kind: p for p in NotificationPreference.objects.filter(user=ada)}
    assert len(prefs) == len(Kind.values)
    assert prefs[Kind.FOLLOW].email
    assert not prefs[Kind.FOLLOW].in_app
    assert prefs[Kind.MESSAGE].daily_digest
    assert prefs[Kind.MESSAGE].email
    assert not prefs[Kind.PIN_LIKED].in_app
    # In-app off means no bell.
    assert notify(kind=Kind.FOLLOW, recipient_id=ada.pk, actor_id=bea.pk) is None
    html = client.get(reverse("settings_notifications")).text
    assert 'name="follow-email" id="id_follow-email" checked' in html
    assert 'value="digest" id="id_message_email_1" checked' in html or (
        'value="digest"' in html and "checked" in html
    )


def test_bad_settings_input_is_a_clear_error_and_saves_nothing(client_for, ada):
    client = client_for(ada)
    response = client.post(
        reverse("settings_notifications"), {"message_email": "hourly", "follow-email": "on"}
    )
    assert response.status_code == 400
    assert "Choose when to email you about new messages" in response.text
    assert "Nothing was saved" in response.text
    assert 'name="follow-email" id="id_follow-email" checked' in response.text  # kept as typed
    assert 'name="pin_liked-in_app" id="id_pin_liked-in_app">' in response.text
    assert not NotificationPreference.objects.exists()


def test_an_invited_board_links_home_until_answered(client_for, ada, bea):
    board = BoardFactory(owner=bea, name="Secret garden", is_secret=True)
    BoardMember.objects.create(board=board, user=ada, invited_by=bea)
    notify(kind=Kind.BOARD_INVITED, recipient_id=ada.pk, actor_id=bea.pk, board=board)
    html = client_for(ada).get(reverse("notifications")).text
    assert 'href="/">Bea invited you to collaborate on Secret garden</a>' in html
