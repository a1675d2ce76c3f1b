"""Blocks and pins (issue #7): with a block either way between a person and a pin's owner, they
cannot save, like or comment on it. Refused in the services (nothing stored), and the buttons are
hidden by a flag computed by the same rule. Comments and likes made before the block stay."""

import re
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from pinboard import services
from pinboard.models import Board, Comment, Like, Pin
from tests.factories import (
    BlockFactory,
    BoardFactory,
    CommentFactory,
    LikeFactory,
    PinFactory,
    PinImageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DIRECTIONS = ["owner_blocked_viewer", "viewer_blocked_owner"]


@pytest.fixture
def image(db):
    return PinImageFactory()


@pytest.fixture
def pin(user, image):
    """A public pin of `user` (alice)."""
    return PinFactory(board=BoardFactory(owner=user, name="Kitchens"), image=image, title="Shelf")


def block(direction: str, owner, viewer):
    if direction == "owner_blocked_viewer":
        return BlockFactory(blocker=owner, blocked=viewer)
    return BlockFactory(blocker=viewer, blocked=owner)


def message_re(text: str) -> str:
    return re.escape(text)


# --- Services ---------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_saving_is_refused_and_nothing_is_stored(user, other_user, pin, direction):
    block(direction, user, other_user)
    board = BoardFactory(owner=other_user)

    with pytest.raises(ValidationError, match=message_re(services.BLOCKED_SAVE)):
        services.pin_save(user=other_user, pin=pin, board=board)

    assert not Pin.objects.filter(owner=other_user).exists()


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_saving_to_a_new_board_is_refused_and_leaves_no_board(user, other_user, pin, direction):
    block(direction, user, other_user)

    with pytest.raises(ValidationError, match=message_re(services.BLOCKED_SAVE)):
        services.pin_save_to_new_board(user=other_user, pin=pin, board_name="New", is_secret=False)

    assert not Board.objects.filter(owner=other_user).exists()


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_liking_is_refused_and_nothing_is_stored(user, other_user, pin, direction):
    block(direction, user, other_user)

    with pytest.raises(ValidationError, match=message_re(services.BLOCKED_LIKE)):
        services.pin_like(user=other_user, pin=pin)

    assert not Like.objects.exists()


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_commenting_is_refused_and_nothing_is_stored(user, other_user, pin, direction):
    block(direction, user, other_user)

    with pytest.raises(ValidationError, match=message_re(services.BLOCKED_COMMENT)):
        services.comment_create(author=other_user, pin=pin, text="Hello")

    assert not Comment.objects.exists()


def test_without_a_block_saving_liking_and_commenting_work(user, other_user, pin):
    BlockFactory(blocker=user, blocked=UserFactory())  # someone else's block changes nothing

    services.pin_save(user=other_user, pin=pin, board=BoardFactory(owner=other_user))
    services.pin_like(user=other_user, pin=pin)
    services.comment_create(author=other_user, pin=pin, text="Nice")

    assert Pin.objects.filter(owner=other_user, saved_from=pin).exists()
    assert Like.objects.filter(user=other_user, pin=pin).exists()
    assert Comment.objects.filter(author=other_user, pin=pin).exists()


def test_a_like_from_before_the_block_stays_and_can_be_taken_back(user, other_user, pin):
    LikeFactory(user=other_user, pin=pin)
    comment = CommentFactory(author=other_user, pin=pin)
    BlockFactory(blocker=user, blocked=other_user)

    assert Comment.objects.filter(pk=comment.pk).exists()
    services.pin_unlike(user=other_user, pin=pin)
    assert not Like.objects.exists()


def test_a_block_does_not_stop_interacting_with_third_parties_pins(user, other_user, image):
    BlockFactory(blocker=user, blocked=other_user)
    third = PinFactory(image=image)

    services.comment_create(author=other_user, pin=third, text="Fine")

    assert Comment.objects.filter(pin=third).exists()


# --- Pin page -----------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_pin_page_hides_save_like_and_the_comment_form(
    client_for, user, other_user, pin, direction
):
    block(direction, user, other_user)
    CommentFactory(pin=pin, author=UserFactory(), text="From before")

    response = client_for(other_user).get(pin.get_absolute_url())

    assert response.status_code == 200
    assert "From before" in response.text  # existing comments stay
    assert reverse("comment_create", args=[pin.pk]) not in response.text
    assert reverse("pin_save", args=[pin.pk]) not in response.text
    assert reverse("pin_like", args=[pin.pk]) not in response.text
    assert "1 comment" in response.text


def test_pin_page_keeps_the_unlike_button_for_a_like_from_before(client_for, user, other_user, pin):
    LikeFactory(user=other_user, pin=pin)
    BlockFactory(blocker=user, blocked=other_user)

    response = client_for(other_user).get(pin.get_absolute_url())

    assert reverse("pin_like", args=[pin.pk]) in response.text
    assert 'value="0"' in response.text


def test_pin_page_offers_everything_without_a_block(client_for, other_user, pin):
    response = client_for(other_user).get(pin.get_absolute_url())

    assert reverse("comment_create", args=[pin.pk]) in response.text
    assert reverse("pin_save", args=[pin.pk]) in response.text
    assert reverse("pin_like", args=[pin.pk]) in response.text


def test_pin_page_costs_the_same_queries_with_a_block(
    client_for, user, other_user, pin, image, django_assert_num_queries
):
    BlockFactory(blocker=user, blocked=other_user)
    client = client_for(other_user)
    # Session, user, pin (with the block flag), comments, more from board, the nav's unread total.
    with django_assert_num_queries(6):
        client.get(pin.get_absolute_url())
    PinFactory.create_batch(5, board=pin.board, image=image)
    CommentFactory.create_batch(5, pin=pin)
    with django_assert_num_queries(6):
        client.get(pin.get_absolute_url())


# --- Endpoints: refused, nothing stored ---------------------------------------------------------


def test_comment_endpoint_refuses_with_htmx_and_without(client_for, user, other_user, pin, htmx):
    BlockFactory(blocker=user, blocked=other_user)
    client = client_for(other_user)
    url = reverse("comment_create", args=[pin.pk])

    fragment = client.post(url, {"text": "Hi"}, **htmx)
    page = client.post(url, {"text": "Hi"})

    assert services.BLOCKED_COMMENT in unescape(fragment.text)
    assert "<html" not in fragment.text
    assert page.status_code == 400
    assert services.BLOCKED_COMMENT in unescape(page.text)
    assert not Comment.objects.exists()


def test_like_endpoint_refuses_with_htmx_and_without(client_for, user, other_user, pin, htmx):
    BlockFactory(blocker=other_user, blocked=user)
    client = client_for(other_user)
    url = reverse("pin_like", args=[pin.pk])

    fragment = client.post(url, {"like": "1"}, **htmx)
    page = client.post(url, {"like": "1"}, follow=True)

    assert services.BLOCKED_LIKE in fragment["HX-Trigger"]
    assert "0 likes" in fragment.text
    assert services.BLOCKED_LIKE in unescape(page.text)
    assert not Like.objects.exists()


def test_save_picker_explains_the_refusal_and_stores_nothing(
    client_for, user, other_user, pin, htmx
):
    BlockFactory(blocker=user, blocked=other_user)
    mine = BoardFactory(owner=other_user, name="Mine")
    client = client_for(other_user)
    url = reverse("pin_save", args=[pin.pk])

    dialog = client.get(url, **htmx)
    posted = client.post(url, {"board": mine.pk}, **htmx)
    new_board = client.post(url, {"new_board_name": "Fresh"})

    for response in (dialog, posted, new_board):
        assert services.BLOCKED_SAVE in unescape(response.text)
    assert 'name="board"' not in dialog.text
    assert not Pin.objects.filter(owner=other_user).exists()
    assert list(Board.objects.filter(owner=other_user)) == [mine]


def test_saving_from_a_conversation_card_goes_through_the_same_refusal(
    client_for, user, other_user, pin, htmx
):
    """A pin card in a conversation opens the same picker (pin_save): a person blocked by the
    pin's owner cannot save it from there either."""
    BlockFactory(blocker=user, blocked=other_user)
    board = BoardFactory(owner=other_user)

    response = client_for(other_user).post(
        reverse("pin_save", args=[pin.pk]), {"board": board.pk}, **htmx
    )

    assert services.BLOCKED_SAVE in unescape(response.text)
    assert not board.pins.exists()


def test_profile_of_the_blocker_shows_cards_without_save_buttons(client_for, user, other_user, pin):
    BlockFactory(blocker=user, blocked=other_user)

    response = client_for(other_user).get(user.get_absolute_url())

    assert "Shelf" in response.text
    assert reverse("pin_save", args=[pin.pk]) not in response.text


# --- Boards: following and inviting across a block -----------------------------------------------


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_following_a_board_across_a_block_is_refused(user, other_user, client_for, direction):
    board = BoardFactory(owner=user, name="Kitchens")
    block(direction, user, other_user)

    response = client_for(other_user).post(
        reverse("board_follow", args=[board.pk]), {"follow": "1"}, follow=True
    )

    assert "You can&#x27;t follow this board." in response.content.decode()
    assert not board.follows.exists()


def test_following_a_board_without_a_block_still_works(user, other_user, client_for):
    board = BoardFactory(owner=user, name="Kitchens")
    client_for(other_user).post(reverse("board_follow", args=[board.pk]), {"follow": "1"})
    assert board.follows.filter(user=other_user).exists()


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_inviting_a_collaborator_across_a_block_is_refused(user, other_user, client_for, direction):
    board = BoardFactory(owner=user, name="Kitchens", is_secret=True)
    block(direction, user, other_user)

    response = client_for(user).post(
        reverse("board_collaborators", args=[board.pk]), {"username": other_user.username}
    )

    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert f"You can't invite {other_user.name}." in html
    assert f'value="{other_user.username}"' in html  # what was typed is kept
    assert not board.memberships.exists()
