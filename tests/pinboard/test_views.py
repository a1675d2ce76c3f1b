"""Board, pin, feed and profile pages: full pages, htmx fragments, bad input, query counts."""

import pytest
from django.urls import reverse

from pinboard.models import Board, BoardFollow, BoardMember, Comment, Like, Pin
from tests.factories import (
    BoardFactory,
    BoardMemberFactory,
    CommentFactory,
    FollowFactory,
    LikeFactory,
    PinFactory,
    PinImageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def shared_image(db):
    """One stored image reused by many pins, so big data sets stay fast to build."""
    return PinImageFactory()


def add_pins(board, count, image, **extra):
    """Pins with likes and comments, so a page that queried per card would show it."""
    pins = [PinFactory(board=board, image=image, **extra) for _ in range(count)]
    for pin in pins:
        LikeFactory(pin=pin, user=board.owner)
        CommentFactory(pin=pin, author=board.owner)
    return pins


# --- Home feed ------------------------------------------------------------------------------


def test_visitors_discover_public_pins_but_never_secret_ones(client, shared_image):
    add_pins(BoardFactory(), 2, shared_image, title="Open sofa")
    add_pins(BoardFactory(is_secret=True), 1, shared_image, title="Hidden lamp")
    response = client.get(reverse("home"))
    assert response.text.count("Open sofa") >= 2
    assert "Hidden lamp" not in response.text


def test_feed_shows_followed_people_first_then_recent_pins(client_for, user, shared_image):
    followed = UserFactory(username="followed")
    FollowFactory(follower=user, followee=followed)
    older_followed = PinFactory(board=BoardFactory(owner=followed), image=shared_image)
    newer_stranger = PinFactory(board=BoardFactory(), image=shared_image)
    response = client_for(user).get(reverse("home"))
    pins = [pin.pk for pin in response.context["page"].items]
    assert pins == [older_followed.pk, newer_stranger.pk]


def test_feed_pages_by_cursor_and_htmx_gets_only_the_cards(client, shared_image, htmx):
    pins = add_pins(BoardFactory(), 30, shared_image)
    first = client.get(reverse("home"))
    assert len(first.context["page"].items) == 25
    next_url = first.context["next_url"]
    assert "after=" in next_url
    second = client.get(reverse("home") + next_url, **htmx)
    assert "<html" not in second.text
    assert [pin.pk for pin in second.context["page"].items] == [p.pk for p in pins[:5]][::-1]
    assert second.context["next_url"] == ""


def test_invitations_to_boards_are_shown_on_the_home_page(client_for, user):
    board = BoardFactory(name="Party menu", is_secret=True)
    BoardMemberFactory(board=board, user=user, status=BoardMember.Status.INVITED)
    response = client_for(user).get(reverse("home"))
    assert "Board invitations" in response.text
    assert "Party menu" in response.text


def test_visitor_home_feed_costs_one_query_at_any_size(
    client, shared_image, django_assert_num_queries
):
    board = BoardFactory()
    add_pins(board, 5, shared_image)
    with django_assert_num_queries(1):
        client.get(reverse("home"))
    add_pins(board, 45, shared_image)
    with django_assert_num_queries(1):
        client.get(reverse("home"))


@pytest.mark.parametrize(
    ("small", "large", "queries"),
    [
        # More followed pins than a page: session, user, the person's follows, followed pins,
        # invitations, and the nav's unread-messages total.
        (30, 60, 6),
        # Fewer: the page is topped up with recent pins, one more query.
        (2, 20, 7),
    ],
)
def test_signed_in_home_feed_costs_the_same_queries_at_any_size(
    client_for, user, shared_image, django_assert_num_queries, small, large, queries
):
    board = BoardFactory()
    FollowFactory(follower=user, followee=board.owner)
    add_pins(board, small, shared_image)
    add_pins(BoardFactory(), 3, shared_image)
    client = client_for(user)
    with django_assert_num_queries(queries):
        client.get(reverse("home"))
    add_pins(board, large - small, shared_image)
    add_pins(BoardFactory(), 30, shared_image)
    with django_assert_num_queries(queries):
        client.get(reverse("home"))


# --- Boards ---------------------------------------------------------------------------------


def test_stranger_gets_404_for_a_secret_board_and_its_pins(client_for, other_user, shared_image):
    board = BoardFactory(is_secret=True)
    pin = PinFactory(board=board, image=shared_image)
    client = client_for(other_user)
    assert client.get(reverse("board_detail", args=[board.pk])).status_code == 404
    assert client.get(reverse("pin_detail", args=[pin.pk])).status_code == 404


def test_collaborator_opens_a_secret_board(client_for, other_user, shared_image):
    board = BoardFactory(is_secret=True, name="Flat plans")
    BoardMemberFactory(board=board, user=other_user)
    response = client_for(other_user).get(reverse("board_detail", args=[board.pk]))
    assert response.status_code == 200
    assert "Flat plans" in response.text
    assert "Leave board" in response.text


def test_invitee_sees_the_invitation_and_accepts_it(client_for, other_user, shared_image):
    board = BoardFactory(is_secret=True, name="Flat plans")
    PinFactory(board=board, image=shared_image, title="Secret shelf")
    BoardMemberFactory(board=board, user=other_user, status=BoardMember.Status.INVITED)
    client = client_for(other_user)
    invitation = client.get(reverse("board_detail", args=[board.pk]))
    assert "Join “Flat plans”?" in invitation.text
    assert "Secret shelf" not in invitation.text
    client.post(reverse("board_invitation", args=[board.pk]), {"accept": "1"})
    assert "Secret shelf" in client.get(reverse("board_detail", args=[board.pk])).text


def test_board_page_costs_the_same_queries_at_any_size(
    client_for, user, shared_image, django_assert_num_queries
):
    board = BoardFactory()
    BoardMemberFactory(board=board)
    add_pins(board, 5, shared_image)
    client = client_for(user)
    url = reverse("board_detail", args=[board.pk])
    # Session, user, board, pins, collaborators, invitation, the nav's unread total.
    with django_assert_num_queries(7):
        client.get(url)
    add_pins(board, 45, shared_image)
    BoardMemberFactory(board=board)
    with django_assert_num_queries(7):
        client.get(url)


def test_board_fragment_for_infinite_scroll(client, shared_image, htmx):
    board = BoardFactory()
    pins = add_pins(board, 27, shared_image)
    url = reverse("board_detail", args=[board.pk])
    first = client.get(url)
    second = client.get(url + first.context["next_url"], **htmx)
    assert "<html" not in second.text
    assert {pin.pk for pin in second.context["page"].items} == {pins[0].pk, pins[1].pk}


def test_create_board_and_refuse_a_duplicate_name(client_for, user):
    client = client_for(user)
    response = client.post(reverse("board_create"), {"name": "Kitchens", "description": ""})
    board = Board.objects.get(owner=user)
    assert response.url == board.get_absolute_url()
    response = client.post(reverse("board_create"), {"name": "kitchens", "description": "Mine"})
    assert response.status_code == 200
    assert "You already have a board called “kitchens”." in response.text
    assert 'value="kitchens"' in response.text
    assert Board.objects.filter(owner=user).count() == 1


def test_board_without_a_name_is_refused(client_for, user):
    response = client_for(user).post(reverse("board_create"), {"name": " ", "description": "x"})
    assert "Give your board a name." in response.text
    assert not Board.objects.exists()


def test_only_the_owner_edits_or_deletes_a_board(client_for, user, other_user):
    board = BoardFactory(owner=user)
    stranger = client_for(other_user)
    assert stranger.get(reverse("board_edit", args=[board.pk])).status_code == 404
    assert stranger.post(reverse("board_delete", args=[board.pk])).status_code == 404
    owner = client_for(user)
    owner.post(
        reverse("board_edit", args=[board.pk]),
        {"name": "Renamed", "description": "", "is_secret": "on"},
    )
    board.refresh_from_db()
    assert (board.name, board.is_secret) == ("Renamed", True)
    owner.post(reverse("board_delete", args=[board.pk]))
    assert not Board.objects.filter(pk=board.pk).exists()


def test_secret_checkbox_explains_the_rule(client_for, user):
    response = client_for(user).get(reverse("board_create"))
    assert "Keep this board secret" in response.text
    assert "appear nowhere else" in response.text


def test_following_a_board_with_htmx_swaps_the_button(client_for, other_user, htmx):
    board = BoardFactory()
    response = client_for(other_user).post(
        reverse("board_follow", args=[board.pk]), {"follow": "1"}, **htmx
    )
    assert "Following board" in response.text
    assert "<html" not in response.text
    assert BoardFollow.objects.filter(user=other_user, board=board).count() == 1


def test_owner_invites_a_collaborator_by_username(client_for, user, other_user):
    board = BoardFactory(owner=user)
    client = client_for(user)
    url = reverse("board_collaborators", args=[board.pk])
    client.post(url, {"username": "@BOB"})
    assert BoardMember.objects.get(board=board).user == other_user
    response = client.post(url, {"username": "nobody-here"})
    assert "No one is called “nobody-here” here." in response.text
    assert 'value="nobody-here"' in response.text
    response = client.post(url, {"username": "bob"})
    assert "is already invited to this board." in response.text
    assert BoardMember.objects.filter(board=board).count() == 1


def test_a_collaborator_cannot_invite(client_for, user, other_user):
    board = BoardFactory(owner=user)
    BoardMemberFactory(board=board, user=other_user)
    third = UserFactory(username="carol")
    url = reverse("board_collaborators", args=[board.pk])
    assert client_for(other_user).post(url, {"username": "carol"}).status_code == 404
    assert not BoardMember.objects.filter(user=third).exists()


def test_owner_removes_and_collaborator_leaves(client_for, user, other_user):
    board = BoardFactory(owner=user, is_secret=True)
    BoardMemberFactory(board=board, user=other_user)
    client_for(other_user).post(reverse("board_leave", args=[board.pk]))
    assert not BoardMember.objects.filter(board=board).exists()
    BoardMemberFactory(board=board, user=other_user)
    client_for(user).post(reverse("board_collaborator_remove", args=[board.pk, other_user.pk]))
    assert client_for(other_user).get(board.get_absolute_url()).status_code == 404


# --- Pin page, save, like, comment ----------------------------------------------------------


def test_pin_page_costs_the_same_queries_at_any_size(
    client_for, user, shared_image, django_assert_num_queries
):
    board = BoardFactory()
    pin = add_pins(board, 1, shared_image)[0]
    add_pins(board, 3, shared_image)
    client = client_for(user)
    # Session, user, pin, comments, more from board, the nav's unread total.
    with django_assert_num_queries(6):
        client.get(pin.get_absolute_url())
    add_pins(board, 30, shared_image)
    for _ in range(10):
        CommentFactory(pin=pin)
    with django_assert_num_queries(6):
        client.get(pin.get_absolute_url())


def test_saved_from_names_the_original_only_when_visible(
    client_for, user, other_user, shared_image
):
    from pinboard.services import pin_save

    secret_original = PinFactory(board=BoardFactory(owner=user, is_secret=True), image=shared_image)
    collaborator_board = BoardFactory(owner=other_user, is_secret=True)
    BoardMemberFactory(board=secret_original.board, user=other_user)
    save = pin_save(user=other_user, pin=secret_original, board=collaborator_board)
    BoardMember.objects.filter(user=other_user).delete()
    response = client_for(other_user).get(save.get_absolute_url())
    assert "Saved from" not in response.text
    public_original = PinFactory(board=BoardFactory(owner=user), image=shared_image)
    save = pin_save(user=other_user, pin=public_original, board=collaborator_board)
    assert "Saved from" in client_for(other_user).get(save.get_absolute_url()).text


def test_board_picker_opens_as_a_dialog_with_htmx_and_as_a_page_without(
    client_for, other_user, htmx
):
    pin = PinFactory()
    BoardFactory(owner=other_user, name="Mine")
    client = client_for(other_user)
    page = client.get(reverse("pin_save", args=[pin.pk]))
    assert "<html" in page.text
    assert "Mine" in page.text
    dialog = client.get(reverse("pin_save", args=[pin.pk]), **htmx)
    assert "<html" not in dialog.text
    assert "<dialog" in dialog.text


def test_saving_to_a_new_board_from_the_picker(client_for, other_user, htmx):
    pin = PinFactory()
    response = client_for(other_user).post(
        reverse("pin_save", args=[pin.pk]), {"new_board_name": "Ideas"}, **htmx
    )
    saved = Pin.objects.get(owner=other_user)
    assert (saved.board.name, saved.saved_from, saved.image_id) == ("Ideas", pin, pin.image_id)
    assert "Saved to" in response.text
    assert '"toast"' in response["HX-Trigger"]


def test_saving_without_a_board_is_explained_and_stores_nothing(client_for, other_user, htmx):
    pin = PinFactory()
    response = client_for(other_user).post(reverse("pin_save", args=[pin.pk]), {}, **htmx)
    assert "Choose a board, or name a new one." in response.text
    assert "<dialog" not in response.text  # the error replaces the form inside the open dialog
    assert not Pin.objects.filter(owner=other_user).exists()


def test_secret_pin_can_only_be_saved_to_a_secret_board(client_for, user, other_user):
    board = BoardFactory(owner=user, is_secret=True)
    BoardMemberFactory(board=board, user=other_user)
    pin = PinFactory(board=board)
    public = BoardFactory(owner=other_user, name="Public one")
    client = client_for(other_user)
    picker = client.get(reverse("pin_save", args=[pin.pk]))
    assert "can only be saved to a secret board" in picker.text
    assert "Public one" not in picker.text
    response = client.post(reverse("pin_save", args=[pin.pk]), {"board": public.pk})
    assert response.status_code == 200
    assert not Pin.objects.filter(board=public).exists()
    client.post(reverse("pin_save", args=[pin.pk]), {"new_board_name": "Kept secret"})
    assert Board.objects.get(name="Kept secret").is_secret


def test_like_twice_is_one_like_and_unlike_removes_it(client_for, other_user, htmx):
    pin = PinFactory()
    client = client_for(other_user)
    url = reverse("pin_like", args=[pin.pk])
    client.post(url, {"like": "1"})
    response = client.post(url, {"like": "1"}, **htmx)
    assert Like.objects.filter(pin=pin).count() == 1
    assert "1 like" in response.text
    assert 'aria-pressed="true"' in response.text
    client.post(url, {"like": "0"})
    assert not Like.objects.exists()


def test_anonymous_cannot_like_or_comment(client):
    pin = PinFactory()
    assert client.post(reverse("pin_like", args=[pin.pk]), {"like": "1"}).status_code == 302
    client.post(reverse("comment_create", args=[pin.pk]), {"text": "hi"})
    assert not Like.objects.exists()
    assert not Comment.objects.exists()


def test_comment_inline_with_htmx(client_for, other_user, htmx):
    pin = PinFactory()
    response = client_for(other_user).post(
        reverse("comment_create", args=[pin.pk]), {"text": "  Love <b>it</b>  "}, **htmx
    )
    assert "<html" not in response.text
    assert "Love &lt;b&gt;it&lt;/b&gt;" in response.text
    assert "1 comment" in response.text
    assert Comment.objects.get().text == "Love <b>it</b>"


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "Write something first."), ("x" * 501, "at most 500 characters")],
)
def test_bad_comment_is_explained_keeps_the_text_and_stores_nothing(
    client_for, other_user, text, message, htmx
):
    pin = PinFactory()
    client = client_for(other_user)
    response = client.post(reverse("comment_create", args=[pin.pk]), {"text": text}, **htmx)
    assert message in response.text
    assert text in response.text
    response = client.post(reverse("comment_create", args=[pin.pk]), {"text": text})
    assert response.status_code == 400
    assert message in response.text
    assert not Comment.objects.exists()


def test_only_the_author_deletes_a_comment(client_for, user, other_user):
    comment = CommentFactory(author=user)
    assert (
        client_for(other_user).post(reverse("comment_delete", args=[comment.pk])).status_code == 404
    )
    client_for(user).post(reverse("comment_delete", args=[comment.pk]))
    assert not Comment.objects.exists()


def test_stranger_cannot_comment_on_or_like_a_secret_pin(client_for, other_user):
    pin = PinFactory(board=BoardFactory(is_secret=True))
    client = client_for(other_user)
    assert client.post(reverse("comment_create", args=[pin.pk]), {"text": "hi"}).status_code == 404
    assert client.post(reverse("pin_like", args=[pin.pk]), {"like": "1"}).status_code == 404
    assert not Comment.objects.exists()
    assert not Like.objects.exists()


# --- Profiles ---------------------------------------------------------------------------------


def test_profile_shows_public_boards_and_created_pins_only(client, user, shared_image):
    public = BoardFactory(owner=user, name="Open board")
    BoardFactory(owner=user, name="Hidden board", is_secret=True)
    PinFactory(board=public, image=shared_image, title="Created here")
    response = client.get(user.get_absolute_url())
    assert "Open board" in response.text
    assert "Hidden board" not in response.text
    assert "Created here" in response.text


def test_follow_from_a_profile(client_for, user, other_user, htmx):
    client = client_for(other_user)
    response = client.post(reverse("user_follow", args=[user.username]), {"follow": "1"}, **htmx)
    assert "Following" in response.text
    assert "<strong>1</strong> follower<" in client.get(user.get_absolute_url()).text
    client.post(reverse("user_follow", args=[user.username]), {"follow": "0"})
    assert "<strong>0</strong> followers" in client.get(user.get_absolute_url()).text


def test_profile_costs_the_same_queries_at_any_size(
    client_for, user, other_user, shared_image, django_assert_num_queries
):
    boards = [BoardFactory(owner=user) for _ in range(2)]
    for board in boards:
        add_pins(board, 3, shared_image)
    client = client_for(other_user)
    # Session, user, person, pins, boards, cover ids, cover pins, the nav's unread total.
    with django_assert_num_queries(8):
        client.get(user.get_absolute_url())
    for _ in range(8):
        add_pins(BoardFactory(owner=user), 4, shared_image)
    FollowFactory(followee=user)
    with django_assert_num_queries(8):
        client.get(user.get_absolute_url())
