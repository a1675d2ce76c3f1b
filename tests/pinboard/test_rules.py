"""Who may do what is decided once: by a service (a refusal with a message a person can act on)
or by a queryset rule, and pages only ask flags computed by that same rule (issue #12, "Rules in
services and querysets, flags in templates")."""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import Follow
from pinboard.forms import PinForm
from pinboard.models import Board, BoardFollow, BoardMember, Comment, Pin, PinImage
from pinboard.services import (
    board_follow,
    board_member_remove,
    board_update,
    comment_delete,
    pin_create,
    pin_update,
)
from tests.factories import (
    BoardFactory,
    BoardMemberFactory,
    CommentFactory,
    PinFactory,
    UserFactory,
    make_normalized_image,
)

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)


def media_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return set()
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def flashed(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- The layout: templates ask, forms validate -------------------------------------------------

# A template deciding who may do something compares ids with the viewer: `x.owner_id == user.pk`,
# `person == user`, `participant.user_id != user.pk`. None may remain.
ID_COMPARISON = re.compile(r"[!=]=\s*(?:request\.)?user\b|\buser(?:\.pk|\.id)?\s*[!=]=")


def test_no_template_compares_the_viewer_with_an_owner():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in sorted((ROOT / "templates").rglob("*.html"))
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if ID_COMPARISON.search(line)
    ]

    assert offenders == []


def test_forms_import_no_services():
    offenders = []
    for path in sorted(ROOT.glob("*/forms.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and "services" in (node.module or ""):
                offenders.append(f"{path.relative_to(ROOT)}: from {node.module}")
            elif isinstance(node, ast.Import):
                offenders += [
                    f"{path.relative_to(ROOT)}: import {alias.name}"
                    for alias in node.names
                    if "services" in alias.name
                ]

    assert offenders == []


# --- Following: the services refuse, the views show it ---------------------------------------


def test_following_your_own_board_is_refused_by_the_service_and_stores_nothing():
    board = BoardFactory()

    with pytest.raises(ValidationError, match="can't follow your own board") as refused:
        board_follow(user=board.owner, board=board)

    assert refused.value.code == "own_board"
    assert not BoardFollow.objects.exists()


def test_a_direct_post_following_yourself_is_refused_with_the_services_message(client_for, user):
    response = client_for(user).post(
        reverse("user_follow", args=[user.username]), {"follow": "1"}, follow=True
    )

    assert "You can't follow yourself." in flashed(response)
    assert not Follow.objects.exists()


def test_a_direct_post_following_your_own_board_is_refused_with_a_message(client_for):
    board = BoardFactory()

    response = client_for(board.owner).post(
        reverse("board_follow", args=[board.pk]), {"follow": "1"}, follow=True
    )

    assert "You can't follow your own board." in flashed(response)
    assert not BoardFollow.objects.exists()


# --- Who may edit a board: its owner only -------------------------------------------------------


@pytest.fixture(params=["stranger", "collaborator"])
def not_the_owner(request):
    """Someone who is not the board's owner: a stranger, or an accepted collaborator."""
    board = BoardFactory(name="Kitchens", description="Tiles", is_secret=False)
    if request.param == "collaborator":
        return board, BoardMemberFactory(board=board).user
    return board, UserFactory()


def test_board_update_by_anyone_but_the_owner_is_refused_and_changes_nothing(not_the_owner):
    board, person = not_the_owner

    with pytest.raises(PermissionDenied, match="Only the board's owner can change"):
        board_update(board=board, editor=person, name="Mine now", description="", is_secret=True)

    board.refresh_from_db()
    assert (board.name, board.description, board.is_secret) == ("Kitchens", "Tiles", False)


def test_a_direct_post_editing_someone_elses_board_is_refused(client_for, not_the_owner):
    board, person = not_the_owner

    response = client_for(person).post(
        reverse("board_edit", args=[board.pk]),
        {"name": "Mine now", "description": "", "is_secret": "on"},
    )

    assert response.status_code == 404
    board.refresh_from_db()
    assert (board.name, board.description, board.is_secret) == ("Kitchens", "Tiles", False)


def test_the_board_page_offers_what_the_rules_allow(client, client_for):
    board = BoardFactory()
    collaborator = BoardMemberFactory(board=board).user
    edit_url = reverse("board_edit", args=[board.pk])
    add_pin = f"{reverse('pin_create')}?board={board.pk}"
    pages = {
        "owner": client_for(board.owner).get(board.get_absolute_url()).text,
        "collaborator": client_for(collaborator).get(board.get_absolute_url()).text,
        "stranger": client_for(UserFactory()).get(board.get_absolute_url()).text,
        "anonymous": client.get(board.get_absolute_url()).text,
    }

    offered = {who: (edit_url in page, add_pin in page) for who, page in pages.items()}

    assert offered == {
        "owner": (True, True),
        "collaborator": (False, True),
        "stranger": (False, False),
        "anonymous": (False, False),
    }


# --- Who may pin on a board: its owner and accepted collaborators --------------------------------


def _people_around(board: Board) -> dict:
    invited = BoardMemberFactory(board=board, status=BoardMember.Status.INVITED).user
    removed = BoardMemberFactory(board=board).user
    board_member_remove(board=board, user=removed)
    return {
        "owner": board.owner,
        "collaborator": BoardMemberFactory(board=board).user,
        "invited": invited,
        "removed": removed,
        "stranger": UserFactory(),
    }


@pytest.mark.parametrize("is_secret", [False, True])
def test_the_board_picker_offers_exactly_the_boards_pin_create_accepts(is_secret):
    board = BoardFactory(is_secret=is_secret)
    offered, accepted = {}, {}

    for who, person in _people_around(board).items():
        offered[who] = PinForm(user=person).fields["board"].queryset.filter(pk=board.pk).exists()
        try:
            pin_create(owner=person, board=board, image=make_normalized_image(), title="A pin")
        except PermissionDenied:
            accepted[who] = False
        else:
            accepted[who] = True

    assert (
        offered
        == accepted
        == {
            "owner": True,
            "collaborator": True,
            "invited": False,
            "removed": False,
            "stranger": False,
        }
    )


def test_pinning_onto_someone_elses_board_is_refused_and_stores_nothing():
    board = BoardFactory()
    stranger = UserFactory()

    with pytest.raises(PermissionDenied) as refused:
        pin_create(owner=stranger, board=board, image=make_normalized_image(), title="Sneaky")

    assert str(refused.value) == (
        "You can only add pins to your own boards and to boards you collaborate on."
    )
    assert not Pin.objects.exists()
    assert not PinImage.objects.exists()
    assert media_files() == set()


# --- Who may edit a pin: its owner, while they can see its board --------------------------------


def test_a_collaborator_cannot_edit_someone_elses_pin_on_the_shared_board():
    """Both may pin on the board, so the board check alone let this through."""
    pin = PinFactory(title="Owner's", description="")
    collaborator = BoardMemberFactory(board=pin.board).user

    with pytest.raises(PermissionDenied, match="only edit your own pins"):
        pin_update(
            pin=pin,
            editor=collaborator,
            title="Mine now",
            description="Changed",
            source_url="",
            board=pin.board,
        )

    pin.refresh_from_db()
    assert (pin.title, pin.description, pin.owner_id) == ("Owner's", "", pin.board.owner_id)


def test_the_pin_page_offers_edit_exactly_to_who_may_edit(client, client_for):
    pin = PinFactory(board=BoardFactory(is_secret=True))
    collaborator = BoardMemberFactory(board=pin.board).user
    edit_url = reverse("pin_edit", args=[pin.pk])

    offered = {
        "owner": edit_url in client_for(pin.owner).get(pin.get_absolute_url()).text,
        "collaborator": edit_url in client_for(collaborator).get(pin.get_absolute_url()).text,
    }
    pin.board.is_secret = False
    pin.board.save()
    offered["anonymous"] = edit_url in client.get(pin.get_absolute_url()).text

    assert offered == {"owner": True, "collaborator": False, "anonymous": False}


# --- Who may delete a comment: its author, on a pin they can still see -------------------------


def test_deleting_your_comment_on_a_board_you_were_removed_from_is_refused():
    """The page 404s for them; the service now says no by the same rule."""
    pin = PinFactory(board=BoardFactory(is_secret=True))
    collaborator = BoardMemberFactory(board=pin.board).user
    comment = CommentFactory(pin=pin, author=collaborator)
    board_member_remove(board=pin.board, user=collaborator)

    with pytest.raises(PermissionDenied, match="only delete your own comments"):
        comment_delete(comment=comment, user=collaborator)

    assert Comment.objects.filter(pk=comment.pk).exists()


def test_the_pin_page_offers_delete_only_on_your_own_comments(client_for):
    pin = PinFactory()
    mine = CommentFactory(pin=pin)
    theirs = CommentFactory(pin=pin)

    page = client_for(mine.author).get(pin.get_absolute_url()).text

    assert reverse("comment_delete", args=[mine.pk]) in page
    assert reverse("comment_delete", args=[theirs.pk]) not in page
