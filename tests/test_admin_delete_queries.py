"""The admin's delete confirmation of a pin or a board costs a fixed number of queries, however
many likes, comments and follows go with it (issue #7 follow-up): the objects it lists are named
by ids, never by loading each one's person or pin."""

import pytest
from django.urls import reverse

from pinboard.models import Comment, Like
from tests.factories import (
    BlockFactory,
    BoardFollowFactory,
    CommentFactory,
    FollowFactory,
    LikeFactory,
    PinFactory,
    PinImageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

# A pin's page: session, user, the pin, its likes, its comments (one query each, whatever their
# number), the notifications about it, the two "not deleted" counts (saves, messages). A board's
# page cascades to more models (its pins and their likes and comments, follows, members, the
# notifications about both) and counts more that stays.
PIN_DELETE_PAGE_QUERIES = 8
BOARD_DELETE_PAGE_QUERIES = 13
# A person's page: every model that cascades from a user (notifications, their actors and
# preferences, push subscriptions and presence among them), one query each, plus what stays.
USER_DELETE_PAGE_QUERIES = 26


@pytest.fixture
def admin_client(client_for):
    return client_for(UserFactory(username="moderator", is_staff=True, is_superuser=True))


def busy_pin(size: int):
    """A pin with `size` likes and `size` comments by different people, on a board that `size`
    people follow."""
    pin = PinFactory(title="Velvet armchair", image=PinImageFactory())
    for person in UserFactory.create_batch(size):
        LikeFactory(pin=pin, user=person)
        CommentFactory(pin=pin, author=person, text=f"Lovely, says {person.username}")
        BoardFollowFactory(board=pin.board, user=person)
    return pin


def test_likes_and_comments_are_named_without_their_related_rows(django_assert_num_queries):
    pin = busy_pin(1)
    like, comment = Like.objects.get(), Comment.objects.get()
    with django_assert_num_queries(0):
        assert str(like) == f"Like {like.pk} on pin {pin.pk}"
        assert str(comment) == f"Comment {comment.pk} on pin {pin.pk}: {comment.text}"


@pytest.mark.parametrize("size", [2, 40])
def test_a_pins_delete_page_costs_the_same_queries_at_any_size(
    admin_client, size, django_assert_num_queries
):
    pin = busy_pin(size)
    url = reverse("admin:pinboard_pin_delete", args=[pin.pk])
    admin_client.get(url)
    with django_assert_num_queries(PIN_DELETE_PAGE_QUERIES):
        response = admin_client.get(url)
    assert response.status_code == 200
    assert f"Like {Like.objects.first().pk} on pin {pin.pk}" in response.text
    assert f"Likes: {size}" in response.text


@pytest.mark.parametrize("size", [2, 40])
def test_a_boards_delete_page_costs_the_same_queries_at_any_size(
    admin_client, size, django_assert_num_queries
):
    pin = busy_pin(size)
    url = reverse("admin:pinboard_board_delete", args=[pin.board_id])
    admin_client.get(url)
    with django_assert_num_queries(BOARD_DELETE_PAGE_QUERIES):
        response = admin_client.get(url)
    assert response.status_code == 200
    assert f"Comments: {size}" in response.text


def followed_and_blocked_person(size: int):
    """Someone `size` people follow and `size` people blocked."""
    person = UserFactory(username="popular")
    for other in UserFactory.create_batch(size):
        FollowFactory(follower=other, followee=person)
        BlockFactory(blocker=other, blocked=person)
    return person


@pytest.mark.parametrize("size", [2, 30])
def test_a_persons_delete_page_costs_the_same_queries_at_any_size(
    admin_client, size, django_assert_num_queries
):
    person = followed_and_blocked_person(size)
    url = reverse("admin:accounts_user_delete", args=[person.pk])
    admin_client.get(url)
    with django_assert_num_queries(USER_DELETE_PAGE_QUERIES):
        response = admin_client.get(url)
    assert response.status_code == 200
    assert f"Follows: {size}" in response.text
    assert f"Blocks: {size}" in response.text
