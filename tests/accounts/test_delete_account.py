"""Deleting an account (issue #7): password confirmation; then profile, boards, pins, likes,
comments and follows go; messages stay signed "deleted user"; others' saves keep working; every
session ends; the avatar file is deleted after commit."""

from html import unescape

import pytest
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from accounts.models import Block, Follow, User
from accounts.services import user_delete
from messaging.models import Conversation, Message
from messaging.services import conversation_send, message_send
from pinboard.models import Board, Comment, Like, Pin, PinImage
from pinboard.services import pin_save
from tests.factories import (
    BlockFactory,
    BoardFactory,
    CommentFactory,
    FollowFactory,
    LikeFactory,
    PinFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

URL = "/settings/delete/"
PASSWORD = "pinboard-demo"  # the factories' password (settings.DEMO_PASSWORD)


def log_in(person) -> Client:
    """A client signed in through the login form's backend, with a real session row."""
    client = Client()
    assert client.login(username=person.username, password=PASSWORD)
    return client


@pytest.fixture
def leaver(db):
    """`leaver` has a board, a pin, a like, a comment, follows both ways and a block."""
    person = UserFactory(username="leaver", display_name="Lee Leaver")
    board = BoardFactory(owner=person, name="Mine")
    pin = PinFactory(board=board, title="Leaver's pin")
    elsewhere = PinFactory(title="Someone else's pin")
    LikeFactory(user=person, pin=elsewhere)
    CommentFactory(author=person, pin=elsewhere, text="Leaver was here")
    FollowFactory(follower=person)
    FollowFactory(followee=person)
    BlockFactory(blocker=person)
    return person, board, pin, elsewhere


def test_url_name_and_navigation(client_for, user):
    assert reverse("settings_delete_account") == URL

    response = client_for(user).get(URL)

    assert response.status_code == 200
    assert 'aria-current="page">Delete account' in response.text
    assert 'type="password"' in response.text
    assert "deleted user" in response.text


def test_anonymous_is_sent_to_log_in(client):
    response = client.post(URL, {"password": PASSWORD})

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("wrong password", "That is not your password. Nothing was deleted."),
        ("", "Type your password to confirm."),
    ],
)
def test_wrong_or_missing_password_is_explained_and_deletes_nothing(leaver, password, message):
    person = leaver[0]
    client = log_in(person)

    response = client.post(URL, {"password": password})

    assert response.status_code == 400
    assert message in unescape(response.text)
    assert User.objects.filter(pk=person.pk).exists()
    assert Pin.objects.filter(owner=person).exists()
    assert client.get(reverse("settings_delete_account")).status_code == 200  # still signed in


def test_deleting_removes_what_was_theirs(leaver):
    person, board, pin, elsewhere = leaver
    client = log_in(person)

    response = client.post(URL, {"password": PASSWORD}, follow=True)

    assert not User.objects.filter(pk=person.pk).exists()
    assert not Board.objects.filter(pk=board.pk).exists()
    assert not Pin.objects.filter(pk=pin.pk).exists()
    assert not Like.objects.filter(pin=elsewhere).exists()
    assert not Comment.objects.filter(pin=elsewhere).exists()
    assert not Follow.objects.exists()
    assert not Block.objects.exists()
    assert Pin.objects.filter(pk=elsewhere.pk).exists()  # other people's things stay
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "Your account has been deleted." in response.text


def test_every_session_ends(leaver):
    person = leaver[0]
    other_browser = log_in(person)
    client = log_in(person)
    bystander = log_in(UserFactory())
    assert Session.objects.count() == 3

    client.post(URL, {"password": PASSWORD})

    assert Session.objects.count() == 1  # the bystander's, and no new one for the leaver
    for signed_out in (client, other_browser):
        response = signed_out.get(reverse("settings_delete_account"))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]
    assert bystander.get(reverse("settings_delete_account")).status_code == 200


def test_others_saves_survive_and_their_image_still_renders(leaver, other_user, client):
    person, _, pin, _ = leaver
    save = pin_save(user=other_user, pin=pin, board=BoardFactory(owner=other_user))

    user_delete(user=person)

    save.refresh_from_db()
    assert save.saved_from_id is None
    assert PinImage.objects.filter(pk=save.image_id).exists()
    assert default_storage.exists(save.image.file.name)
    response = client.get(save.get_absolute_url())
    assert response.status_code == 200
    assert save.image.detail.url in response.text
    assert client.get(save.image.detail.url).status_code == 200


def test_the_avatar_file_is_deleted_after_commit(leaver, django_capture_on_commit_callbacks):
    person = leaver[0]
    person.avatar.save("avatar.webp", ContentFile(b"not checked here"), save=True)
    name = person.avatar.name
    assert default_storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        user_delete(user=person)

    assert not default_storage.exists(name)


def test_the_other_person_still_reads_a_two_person_conversation(other_user, client_for):
    leaving = UserFactory(username="leaving", display_name="Leaving Person")
    first = conversation_send(sender=other_user, recipients=[leaving], text="Hi there")
    message_send(conversation=first.conversation, sender=leaving, text="Goodbye for now")

    user_delete(user=leaving)

    conversation = Conversation.objects.get()
    kept = Message.objects.get(text="Goodbye for now")
    assert kept.sender is None
    response = client_for(other_user).get(reverse("conversation", args=[conversation.pk]))
    assert response.status_code == 200
    assert "Goodbye for now" in response.text
    assert "deleted user" in response.text
    assert "Hi there" in response.text


def test_delete_page_costs_the_same_queries_at_any_size(
    client_for, user, django_assert_num_queries
):
    client = client_for(user)
    # Session, user, the nav's unread total.
    with django_assert_num_queries(3):
        client.get(URL)
    PinFactory.create_batch(3, board=BoardFactory(owner=user))
    FollowFactory.create_batch(3, followee=user)
    with django_assert_num_queries(3):
        client.get(URL)
