"""Moderation: hidden boards, pins and comments vanish from every public page without being
deleted; their owner still sees them, with a notice. And the services that hide and deactivate."""

from types import SimpleNamespace

import pytest
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from accounts.models import User
from pinboard.models import Board, Comment, Pin
from pinboard.services import (
    board_set_hidden,
    comment_set_hidden,
    pin_save,
    pin_set_hidden,
    pin_update,
    user_deactivate,
    user_reactivate,
)
from tests.factories import (
    BoardFactory,
    BoardMemberFactory,
    CommentFactory,
    PinFactory,
    PinImageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

NOTICE = "only you can see it"


@pytest.fixture
def world(client_for):
    image = PinImageFactory()
    owner = UserFactory(username="olga", display_name="Olga Owner")
    other = UserFactory(username="bert", display_name="Bert Other")
    board = BoardFactory(owner=owner, name="Airships")
    hidden_board = BoardFactory(owner=owner, name="Forbidden zeppelins")
    shown = PinFactory(owner=owner, board=board, image=image, title="Shown zeppelin")
    hidden = PinFactory(owner=owner, board=board, image=image, title="Hidden zeppelin")
    on_hidden_board = PinFactory(
        owner=owner, board=hidden_board, image=image, title="Boarded zeppelin"
    )
    comment = CommentFactory(pin=shown, author=other, text="Rude remark about blimps")
    pin_set_hidden(pin=hidden, hidden=True)
    board_set_hidden(board=hidden_board, hidden=True)
    comment_set_hidden(comment=comment, hidden=True)
    return SimpleNamespace(
        owner=owner,
        other=other,
        board=board,
        hidden_board=hidden_board,
        shown=shown,
        hidden=hidden,
        on_hidden_board=on_hidden_board,
        comment=comment,
        clients={
            "owner": client_for(owner),
            "other": client_for(other),
            "anonymous": Client(),
        },
    )


def page(world, who: str, url: str):
    return world.clients[who].get(url)


def pages_listing_pins(world) -> list[str]:
    return [
        reverse("home"),
        reverse("search") + "?q=zeppelin",
        reverse("profile", args=[world.owner.username]),
        reverse("board_detail", args=[world.board.pk]),
    ]


# --- Public pages -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["other", "anonymous"])
def test_hidden_pins_are_absent_from_every_listing_for_others(world, who):
    for url in pages_listing_pins(world):
        html = page(world, who, url).content.decode()
        assert "Shown zeppelin" in html, url
        assert "Hidden zeppelin" not in html, url
        assert "Boarded zeppelin" not in html, url
        assert NOTICE not in html, url


def test_owner_sees_their_hidden_pins_with_the_notice(world):
    for url in [
        reverse("home"),
        reverse("search") + "?q=zeppelin",
        reverse("board_detail", args=[world.board.pk]),
    ]:
        html = page(world, "owner", url).content.decode()
        assert "Hidden zeppelin" in html, url
        assert NOTICE in html, url
    profile = page(world, "owner", reverse("profile", args=[world.owner.username])).content.decode()
    assert "Boarded zeppelin" in profile
    assert "Forbidden zeppelins" in profile  # the hidden board's tile, with its notice
    assert profile.count(NOTICE) >= 3


@pytest.mark.parametrize("who", ["other", "anonymous"])
def test_hidden_pin_page_is_404_for_others(world, who):
    for pin in (world.hidden, world.on_hidden_board):
        assert page(world, who, reverse("pin_detail", args=[pin.pk])).status_code == 404


def test_hidden_pin_page_opens_for_its_owner_with_the_notice(world):
    response = page(world, "owner", reverse("pin_detail", args=[world.hidden.pk]))

    assert response.status_code == 200
    assert NOTICE in response.content.decode()


@pytest.mark.parametrize("who", ["other", "anonymous"])
def test_hidden_board_page_is_404_and_absent_from_profile_and_search_for_others(world, who):
    assert (
        page(world, who, reverse("board_detail", args=[world.hidden_board.pk])).status_code == 404
    )
    profile = page(world, who, reverse("profile", args=[world.owner.username])).content.decode()
    found = page(world, who, reverse("search") + "?q=forbidden").content.decode()

    assert "Forbidden zeppelins" not in profile
    assert "Forbidden zeppelins" not in found


def test_hidden_board_page_opens_for_its_owner_with_the_notice_and_its_pins(world):
    response = page(world, "owner", reverse("board_detail", args=[world.hidden_board.pk]))
    html = response.content.decode()

    assert response.status_code == 200
    assert NOTICE in html
    assert "Boarded zeppelin" in html


def test_hidden_comment_is_shown_only_to_its_author_with_the_notice(world):
    url = reverse("pin_detail", args=[world.shown.pk])
    for who in ("owner", "anonymous"):
        html = page(world, who, url).content.decode()
        assert "Rude remark" not in html
        assert "0 comments" in html  # the count leaves it out too

    html = page(world, "other", url).content.decode()
    assert "Rude remark" in html
    assert NOTICE in html


def test_hidden_pin_is_not_a_board_cover_anywhere(world):
    pin_set_hidden(pin=world.shown, hidden=True)
    pin_set_hidden(pin=world.hidden, hidden=False)
    html = page(
        world, "anonymous", reverse("profile", args=[world.owner.username])
    ).content.decode()

    assert "1 pin" in html  # the board tile counts only what everyone sees


def test_nothing_is_deleted_by_hiding_and_unhiding_restores(world, client):
    assert Pin.objects.filter(pk=world.hidden.pk).exists()
    pin_set_hidden(pin=world.hidden, hidden=False)

    assert client.get(reverse("pin_detail", args=[world.hidden.pk])).status_code == 200


# --- Moderation can't be undone from the outside ----------------------------------------------


def test_owner_cannot_republish_a_hidden_pin_by_saving_it(world):
    other_board = BoardFactory(owner=world.owner, name="Elsewhere")

    with pytest.raises(ValidationError, match="moderators hid this pin"):
        pin_save(user=world.owner, pin=world.hidden, board=other_board)
    with pytest.raises(ValidationError, match="moderators hid this pin"):
        pin_save(user=world.owner, pin=world.on_hidden_board, board=other_board)
    assert not other_board.pins.exists()


def test_pins_cannot_be_moved_off_a_hidden_board(world):
    with pytest.raises(ValidationError, match="moderators hid this board"):
        pin_update(
            pin=world.on_hidden_board,
            editor=world.owner,
            title="Boarded zeppelin",
            description="",
            source_url="",
            board=world.board,
        )
    world.on_hidden_board.refresh_from_db()
    assert world.on_hidden_board.board_id == world.hidden_board.pk


def test_collaborators_lose_a_hidden_board_and_cannot_pin_to_it(world):
    collaborator = UserFactory()
    BoardMemberFactory(board=world.hidden_board, user=collaborator)

    assert not Board.objects.pinnable_by(collaborator).filter(pk=world.hidden_board.pk).exists()
    assert not Board.objects.visible_to(collaborator).filter(pk=world.hidden_board.pk).exists()


# --- Services ---------------------------------------------------------------------------------


def test_hiding_twice_keeps_the_first_time_and_unhiding_clears_it(world):
    first = world.hidden.hidden_at
    pin_set_hidden(pin=world.hidden, hidden=True)
    world.hidden.refresh_from_db()
    assert world.hidden.hidden_at == first

    pin_set_hidden(pin=world.hidden, hidden=False)
    world.hidden.refresh_from_db()
    assert world.hidden.hidden_at is None


def sessions_of(user: User) -> list[str]:
    return [
        s.session_key
        for s in Session.objects.all()
        if s.get_decoded().get("_auth_user_id") == str(user.pk)
    ]


def test_deactivating_ends_sessions_and_keeps_content_unless_asked(world):
    other_session = sessions_of(world.other)
    assert sessions_of(world.owner)

    user_deactivate(user=world.owner, hide_content=False)

    world.owner.refresh_from_db()
    assert world.owner.is_active is False
    assert sessions_of(world.owner) == []
    assert sessions_of(world.other) == other_session  # nobody else is signed out
    # The next request is anonymous: they were signed out.
    assert page(world, "owner", reverse("pin_create")).status_code == 302
    assert Pin.objects.filter(owner=world.owner, hidden_at__isnull=True).count() == 2


def test_deactivating_and_hiding_content_hides_everything_in_a_fixed_number_of_queries(
    world, django_assert_num_queries
):
    few = UserFactory()
    many = UserFactory()
    image = PinImageFactory()
    for person, size in ((few, 1), (many, 6)):
        for _ in range(size):
            board = BoardFactory(owner=person)
            pin = PinFactory(owner=person, board=board, image=image)
            CommentFactory(pin=pin, author=person)

    with django_assert_num_queries(7) as small:
        user_deactivate(user=few, hide_content=True)
    with django_assert_num_queries(len(small.captured_queries)):
        user_deactivate(user=many, hide_content=True)

    for person in (few, many):
        assert not Board.objects.filter(owner=person, hidden_at__isnull=True).exists()
        assert not Pin.objects.filter(owner=person, hidden_at__isnull=True).exists()
        assert not Comment.objects.filter(author=person, hidden_at__isnull=True).exists()
    # Others' content is untouched.
    assert Pin.objects.filter(pk=world.shown.pk, hidden_at__isnull=True).exists()


def test_reactivating_and_unhiding_restores_the_person_and_all_their_content(world):
    user_deactivate(user=world.owner, hide_content=True)

    user_reactivate(user=world.owner, unhide_content=True)

    world.owner.refresh_from_db()
    assert world.owner.is_active is True
    assert not Pin.objects.filter(owner=world.owner, hidden_at__isnull=False).exists()
    assert not Board.objects.filter(owner=world.owner, hidden_at__isnull=False).exists()


def test_reactivating_without_unhiding_leaves_content_hidden(world):
    user_deactivate(user=world.owner, hide_content=True)

    user_reactivate(user=world.owner, unhide_content=False)

    world.owner.refresh_from_db()
    assert world.owner.is_active is True
    assert not Pin.objects.filter(owner=world.owner, hidden_at__isnull=True).exists()
