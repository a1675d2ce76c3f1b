"""Every write to boards, pins, likes, comments and follows (pinboard/services.py and
accounts/services.py): what each one changes, what it refuses, and that a refusal changes nothing,
rows and files alike (DESIGN.md §3, rules 3 to 6)."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError, IntegrityError, connection, transaction

from accounts.models import Follow
from accounts.services import user_follow, user_unfollow
from pinboard.models import Board, BoardFollow, BoardMember, Comment, Like, Pin, PinImage
from pinboard.services import (
    BoardNameTaken,
    board_create,
    board_delete,
    board_follow,
    board_invite,
    board_invite_respond,
    board_member_remove,
    board_unfollow,
    board_update,
    comment_create,
    comment_delete,
    pin_create,
    pin_delete,
    pin_like,
    pin_save,
    pin_save_to_new_board,
    pin_unlike,
    pin_update,
)
from tests.factories import (
    BoardFactory,
    BoardFollowFactory,
    BoardMemberFactory,
    CommentFactory,
    FollowFactory,
    LikeFactory,
    PinFactory,
    PinImageFactory,
    UserFactory,
    make_normalized_image,
)

pytestmark = pytest.mark.django_db


def media_files() -> set[str]:
    """Every file under MEDIA_ROOT (each test has its own), originals and renditions alike."""
    root = Path(settings.MEDIA_ROOT)
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def visible_to(user, obj) -> bool:
    return type(obj).objects.visible_to(user).filter(pk=obj.pk).exists()


@pytest.fixture
def owner(db):
    return UserFactory(username="owner")


@pytest.fixture
def stranger(db):
    return UserFactory(username="stranger")


@pytest.fixture
def saver(db):
    return UserFactory(username="saver")


# --- board_create ---------------------------------------------------------------------------


def test_board_create_trims_name_and_description(owner):
    board = board_create(owner=owner, name="  Kitchens \n", description="  Open shelves  ")

    board.refresh_from_db()
    assert (board.name, board.description, board.is_secret) == ("Kitchens", "Open shelves", False)


def test_board_create_makes_a_secret_board(owner):
    board = board_create(owner=owner, name="Surprise", is_secret=True)

    assert Board.objects.get(pk=board.pk).is_secret is True


@pytest.mark.parametrize("taken", ["Kitchens", "kitchens", "KITCHENS", "  kItchens  "])
def test_board_create_refuses_a_name_the_owner_already_uses_in_any_case(owner, taken):
    board_create(owner=owner, name="Kitchens")

    with pytest.raises(BoardNameTaken) as refused:
        board_create(owner=owner, name=taken)

    assert isinstance(refused.value, ValidationError)
    assert refused.value.code == "name_taken"
    message = refused.value.messages[0]
    assert "already have a board called" in message
    assert taken.strip() in message
    assert Board.objects.filter(owner=owner).count() == 1


def test_different_owners_may_use_the_same_board_name(owner, stranger):
    board_create(owner=owner, name="Kitchens")

    board = board_create(owner=stranger, name="kitchens")

    assert board.owner == stranger
    assert Board.objects.filter(name__iexact="kitchens").count() == 2


# --- board_update ---------------------------------------------------------------------------


def test_board_update_renames_and_trims(owner):
    board = BoardFactory(owner=owner, name="Kitchens")

    board_update(
        board=board,
        editor=board.owner,
        name=" Kitchen ideas ",
        description=" Tiles ",
        is_secret=False,
    )

    board.refresh_from_db()
    assert (board.name, board.description) == ("Kitchen ideas", "Tiles")


def test_board_update_may_change_only_the_case_of_its_own_name(owner):
    board = BoardFactory(owner=owner, name="kitchens")

    board_update(board=board, editor=board.owner, name="Kitchens", description="", is_secret=False)

    board.refresh_from_db()
    assert board.name == "Kitchens"


def test_making_a_board_secret_hides_it_and_its_pins_from_strangers(owner, stranger):
    board = BoardFactory(owner=owner)
    pin = PinFactory(board=board)

    board_update(board=board, editor=board.owner, name=board.name, description="", is_secret=True)

    assert Board.objects.get(pk=board.pk).is_secret is True
    assert not visible_to(stranger, board)
    assert not visible_to(stranger, pin)


def test_making_a_board_public_shows_it_and_its_pins_to_strangers(owner, stranger):
    board = BoardFactory(owner=owner, is_secret=True)
    pin = PinFactory(board=board)

    board_update(board=board, editor=board.owner, name=board.name, description="", is_secret=False)

    assert Board.objects.get(pk=board.pk).is_secret is False
    assert visible_to(stranger, board)
    assert visible_to(stranger, pin)


def test_renaming_a_board_to_a_taken_name_is_refused_and_changes_nothing(owner):
    BoardFactory(owner=owner, name="Kitchens")
    board = BoardFactory(owner=owner, name="Gardens", description="Roses", is_secret=True)

    with pytest.raises(BoardNameTaken) as refused:
        board_update(
            board=board,
            editor=board.owner,
            name=" KITCHENS ",
            description="Changed",
            is_secret=False,
        )

    assert refused.value.code == "name_taken"
    board.refresh_from_db()
    assert (board.name, board.description, board.is_secret) == ("Gardens", "Roses", True)


# "Kitchens" spelled with U+212A KELVIN SIGN: PostgreSQL's lower() folds it to "k" in a UTF-8
# locale (so the unique constraint on Lower("name") sees a taken name) while upper(), which
# `name__iexact` uses, leaves it alone (so the services' look-up misses it). Only the constraint
# catches this name, just as it catches two requests racing for the same name; either way the
# person must get the same clear error, never a database error.
KELVIN_KITCHENS = "\u212aitchens"


def database_sees_kelvin_kitchens_as_kitchens() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT lower(%s) = 'kitchens'", [KELVIN_KITCHENS])
        return cursor.fetchone()[0]


def test_board_create_answers_a_name_only_the_database_sees_as_taken_with_a_clear_error(owner):
    board_create(owner=owner, name="kitchens")

    if database_sees_kelvin_kitchens_as_kitchens():
        with pytest.raises(BoardNameTaken):
            board_create(owner=owner, name=KELVIN_KITCHENS)
        assert Board.objects.filter(owner=owner).count() == 1
    else:  # a locale that does not fold it: the name is simply free
        board_create(owner=owner, name=KELVIN_KITCHENS)


def test_board_update_answers_a_name_only_the_database_sees_as_taken_with_a_clear_error(owner):
    BoardFactory(owner=owner, name="kitchens")
    board = BoardFactory(owner=owner, name="Gardens")

    if database_sees_kelvin_kitchens_as_kitchens():
        with pytest.raises(BoardNameTaken):
            board_update(
                board=board,
                editor=board.owner,
                name=KELVIN_KITCHENS,
                description="",
                is_secret=False,
            )
        assert Board.objects.get(pk=board.pk).name == "Gardens"
    else:  # a locale that does not fold it: the name is simply free
        board_update(
            board=board, editor=board.owner, name=KELVIN_KITCHENS, description="", is_secret=False
        )


def test_making_a_board_public_never_publishes_a_save_of_someone_elses_secret_pin(owner, stranger):
    """pin_save refuses to save a secret pin to a public board (code "secret_to_public"), because
    that would publish it. Saving it to a secret board and then making that board public must not
    be a way round: either the change is refused or the save stays hidden from strangers."""
    secret_pin = PinFactory(board=BoardFactory(owner=owner, is_secret=True))
    collaborator = BoardMemberFactory(board=secret_pin.board).user
    their_board = BoardFactory(owner=collaborator, name="Mine", is_secret=True)
    save = pin_save(user=collaborator, pin=secret_pin, board=their_board)

    try:
        board_update(
            board=their_board,
            editor=their_board.owner,
            name="Mine",
            description="",
            is_secret=False,
        )
    except ValidationError:
        their_board.refresh_from_db()
        assert their_board.is_secret is True

    assert not visible_to(stranger, save)


# --- board_delete ---------------------------------------------------------------------------


def test_board_delete_deletes_the_board_and_its_pins(owner):
    board = BoardFactory(owner=owner)
    image = PinImageFactory()
    pins = PinFactory.create_batch(2, board=board, image=image)

    board_delete(board=board)

    assert not Board.objects.filter(pk=board.pk).exists()
    assert not Pin.objects.filter(pk__in=[pin.pk for pin in pins]).exists()


def test_board_delete_keeps_other_peoples_saves_and_the_image_they_use(
    owner, saver, django_capture_on_commit_callbacks
):
    board = BoardFactory(owner=owner)
    pin = PinFactory(board=board)
    save = pin_save(user=saver, pin=pin, board=BoardFactory(owner=saver))
    files = media_files()
    assert Path(pin.image.file.path).is_file()

    with django_capture_on_commit_callbacks(execute=True):
        board_delete(board=board)

    save.refresh_from_db()
    assert save.saved_from is None
    assert save.image_id == pin.image_id
    assert PinImage.objects.filter(pk=pin.image_id).exists()
    assert Path(save.image.file.path).is_file()
    assert media_files() == files  # the original and its renditions


def test_board_delete_removes_image_files_no_pin_uses_any_more_after_commit(
    owner, django_capture_on_commit_callbacks
):
    board = BoardFactory(owner=owner)
    pin = PinFactory(board=board)
    path = Path(pin.image.file.path)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        board_delete(board=board)
    assert path.is_file()  # nothing is deleted before the transaction commits

    for callback in callbacks:
        callback()
    assert not PinImage.objects.filter(pk=pin.image_id).exists()
    assert media_files() == set()


# --- Collaborators --------------------------------------------------------------------------


def test_board_invite_invites_someone_who_has_not_answered_yet(owner, stranger):
    board = BoardFactory(owner=owner, is_secret=True)

    membership = board_invite(board=board, inviter=owner, invitee=stranger)

    membership.refresh_from_db()
    assert (membership.board, membership.user) == (board, stranger)
    assert membership.status == BoardMember.Status.INVITED
    assert membership.invited_by == owner
    assert not visible_to(stranger, board)  # not until they accept


@pytest.mark.parametrize("inviter", ["collaborator", "stranger"])
def test_only_the_board_owner_may_invite(owner, stranger, inviter):
    board = BoardFactory(owner=owner, is_secret=True)
    collaborator = BoardMemberFactory(board=board).user
    invitee = UserFactory(username="invitee")
    people = {"collaborator": collaborator, "stranger": stranger}

    with pytest.raises(PermissionDenied):
        board_invite(board=board, inviter=people[inviter], invitee=invitee)

    assert not BoardMember.objects.filter(user=invitee).exists()


def test_inviting_twice_is_harmless(owner, stranger):
    board = BoardFactory(owner=owner)

    first = board_invite(board=board, inviter=owner, invitee=stranger)
    second = board_invite(board=board, inviter=owner, invitee=stranger)

    assert first.pk == second.pk
    assert BoardMember.objects.filter(board=board, user=stranger).count() == 1


def test_inviting_an_accepted_collaborator_again_keeps_them_accepted(owner):
    board = BoardFactory(owner=owner)
    membership = BoardMemberFactory(board=board)

    board_invite(board=board, inviter=owner, invitee=membership.user)

    membership.refresh_from_db()
    assert membership.status == BoardMember.Status.ACCEPTED


def test_inviting_the_owner_to_their_own_board_is_refused(owner):
    board = BoardFactory(owner=owner)

    with pytest.raises(ValidationError) as refused:
        board_invite(board=board, inviter=owner, invitee=owner)

    assert refused.value.code == "owner"
    assert not BoardMember.objects.filter(board=board).exists()


def test_accepting_an_invitation_opens_the_secret_board_for_seeing_and_pinning(owner, stranger):
    board = BoardFactory(owner=owner, is_secret=True)
    membership = board_invite(board=board, inviter=owner, invitee=stranger)

    board_invite_respond(membership=membership, accept=True)

    assert BoardMember.objects.get(pk=membership.pk).status == BoardMember.Status.ACCEPTED
    assert visible_to(stranger, board)
    assert Board.objects.pinnable_by(stranger).filter(pk=board.pk).exists()


def test_declining_an_invitation_removes_it_and_opens_nothing(owner, stranger):
    board = BoardFactory(owner=owner, is_secret=True)
    membership = board_invite(board=board, inviter=owner, invitee=stranger)

    board_invite_respond(membership=membership, accept=False)

    assert not BoardMember.objects.filter(board=board, user=stranger).exists()
    assert not visible_to(stranger, board)
    assert not Board.objects.pinnable_by(stranger).filter(pk=board.pk).exists()


def test_removed_collaborator_loses_the_secret_board_but_their_pins_stay(owner):
    board = BoardFactory(owner=owner, is_secret=True)
    collaborator = BoardMemberFactory(board=board).user
    their_pin = PinFactory(board=board, owner=collaborator)

    board_member_remove(board=board, user=collaborator)

    assert not BoardMember.objects.filter(board=board, user=collaborator).exists()
    assert not visible_to(collaborator, board)
    assert not visible_to(collaborator, their_pin)
    assert not Board.objects.pinnable_by(collaborator).filter(pk=board.pk).exists()
    their_pin.refresh_from_db()
    assert their_pin.board == board
    assert visible_to(owner, their_pin)


def test_removing_one_collaborator_keeps_the_others(owner):
    board = BoardFactory(owner=owner, is_secret=True)
    leaving, staying = BoardMemberFactory(board=board).user, BoardMemberFactory(board=board).user

    board_member_remove(board=board, user=leaving)

    assert visible_to(staying, board)


# --- Board follows --------------------------------------------------------------------------


def test_following_a_board_twice_is_harmless(owner, stranger):
    board = BoardFactory(owner=owner)

    board_follow(user=stranger, board=board)
    board_follow(user=stranger, board=board)

    assert BoardFollow.objects.filter(user=stranger, board=board).count() == 1


def test_board_unfollow_removes_the_follow(owner, stranger):
    board = BoardFactory(owner=owner)
    BoardFollowFactory(user=stranger, board=board)

    board_unfollow(user=stranger, board=board)

    assert not BoardFollow.objects.filter(user=stranger, board=board).exists()


# --- pin_create / pin_delete ----------------------------------------------------------------


def test_pin_create_stores_the_image_and_trims_the_text(owner):
    board = BoardFactory(owner=owner)

    pin = pin_create(
        owner=owner,
        board=board,
        image=make_normalized_image(size=(300, 400)),
        title="  Blue door ",
        description=" In Lisbon  ",
        source_url=" https://example.com/door ",
    )

    pin.refresh_from_db()
    assert (pin.owner, pin.board, pin.saved_from) == (owner, board, None)
    assert (pin.title, pin.description) == ("Blue door", "In Lisbon")
    assert pin.source_url == "https://example.com/door"
    assert (pin.image.width, pin.image.height) == (300, 400)
    assert Path(pin.image.file.path).is_file()


def test_collaborator_may_create_a_pin_on_a_board_they_collaborate_on(owner):
    board = BoardFactory(owner=owner, is_secret=True)
    collaborator = BoardMemberFactory(board=board).user

    pin = pin_create(owner=collaborator, board=board, image=make_normalized_image(), title="Mine")

    assert (pin.owner, pin.board) == (collaborator, board)


@pytest.mark.parametrize("relation", ["stranger", "invited"])
def test_pin_create_on_someone_elses_board_is_refused_and_leaves_no_image(owner, relation):
    board = BoardFactory(owner=owner)
    someone = UserFactory(username="someone")
    if relation == "invited":
        BoardMemberFactory(board=board, user=someone, status=BoardMember.Status.INVITED)

    with pytest.raises(PermissionDenied):
        pin_create(owner=someone, board=board, image=make_normalized_image(), title="Sneaky")

    assert not Pin.objects.exists()
    assert not PinImage.objects.exists()
    assert media_files() == set()


def test_pin_create_that_fails_after_storing_the_image_leaves_no_row_or_file(owner):
    board = BoardFactory(owner=owner)

    with pytest.raises(DataError):  # the database refuses a title over 100 characters
        pin_create(owner=owner, board=board, image=make_normalized_image(), title="x" * 101)

    assert not Pin.objects.exists()
    assert not PinImage.objects.exists()
    assert media_files() == set()


def test_pin_delete_removes_the_image_and_its_files_after_commit(
    owner, django_capture_on_commit_callbacks
):
    pin = pin_create(
        owner=owner, board=BoardFactory(owner=owner), image=make_normalized_image(), title="Door"
    )
    image_id = pin.image_id
    assert len(media_files()) > 1  # the original and its renditions

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        pin_delete(pin=pin)
    assert not Pin.objects.filter(pk=pin.pk).exists()
    assert len(media_files()) > 1  # nothing is deleted before the transaction commits

    for callback in callbacks:
        callback()
    assert not PinImage.objects.filter(pk=image_id).exists()
    assert media_files() == set()


def test_pin_delete_keeps_the_image_while_a_save_uses_it(
    owner, saver, django_capture_on_commit_callbacks
):
    pin = PinFactory(board=BoardFactory(owner=owner))
    save = pin_save(user=saver, pin=pin, board=BoardFactory(owner=saver))
    files = media_files()

    with django_capture_on_commit_callbacks(execute=True):
        pin_delete(pin=pin)

    save.refresh_from_db()
    assert save.saved_from is None
    assert PinImage.objects.filter(pk=save.image_id).exists()
    assert media_files() == files


# --- pin_save -------------------------------------------------------------------------------


def test_pin_save_shares_the_image_and_remembers_the_original(owner, saver):
    pin = PinFactory(
        board=BoardFactory(owner=owner),
        title="Blue door",
        description="In Lisbon",
        source_url="https://example.com/door",
    )
    board = BoardFactory(owner=saver)
    files = media_files()

    save = pin_save(user=saver, pin=pin, board=board)

    save.refresh_from_db()
    assert save.pk != pin.pk
    assert (save.owner, save.board, save.saved_from) == (saver, board, pin)
    assert save.image_id == pin.image_id
    assert (save.title, save.description, save.source_url) == (
        "Blue door",
        "In Lisbon",
        "https://example.com/door",
    )
    assert PinImage.objects.count() == 1
    assert media_files() == files  # no copy of the file


def test_collaborator_may_save_to_a_board_they_collaborate_on(owner, saver):
    pin = PinFactory(board=BoardFactory(owner=owner))
    group_board = BoardFactory(name="Group")
    BoardMemberFactory(board=group_board, user=saver)

    save = pin_save(user=saver, pin=pin, board=group_board)

    assert (save.owner, save.board) == (saver, group_board)


@pytest.mark.parametrize("relation", ["stranger", "invited"])
def test_pin_save_to_a_board_you_cannot_pin_to_is_refused(owner, saver, relation):
    pin = PinFactory(board=BoardFactory(owner=owner))
    other_board = BoardFactory(name="Not yours")
    if relation == "invited":
        BoardMemberFactory(board=other_board, user=saver, status=BoardMember.Status.INVITED)

    with pytest.raises(PermissionDenied):
        pin_save(user=saver, pin=pin, board=other_board)

    assert not Pin.objects.filter(saved_from=pin).exists()


def test_saving_a_secret_pin_to_a_public_board_is_refused(owner):
    secret_pin = PinFactory(board=BoardFactory(owner=owner, is_secret=True))
    collaborator = BoardMemberFactory(board=secret_pin.board).user
    public_board = BoardFactory(owner=collaborator)

    with pytest.raises(ValidationError) as refused:
        pin_save(user=collaborator, pin=secret_pin, board=public_board)

    assert refused.value.code == "secret_to_public"
    assert "secret board" in refused.value.messages[0]
    assert not Pin.objects.filter(saved_from=secret_pin).exists()


def test_saving_a_secret_pin_to_a_secret_board_is_allowed(owner):
    secret_pin = PinFactory(board=BoardFactory(owner=owner, is_secret=True))
    collaborator = BoardMemberFactory(board=secret_pin.board).user
    their_secret_board = BoardFactory(owner=collaborator, is_secret=True)

    save = pin_save(user=collaborator, pin=secret_pin, board=their_secret_board)

    assert save.board == their_secret_board
    assert save.saved_from == secret_pin


def test_moving_a_save_of_a_secret_pin_to_a_public_board_is_refused(owner, stranger):
    """pin_update must apply pin_save's rule too, or a save could be moved out into the open."""
    secret_pin = PinFactory(board=BoardFactory(owner=owner, is_secret=True))
    collaborator = BoardMemberFactory(board=secret_pin.board).user
    their_secret_board = BoardFactory(owner=collaborator, is_secret=True)
    their_public_board = BoardFactory(owner=collaborator)
    save = pin_save(user=collaborator, pin=secret_pin, board=their_secret_board)

    with pytest.raises(ValidationError) as refused:
        pin_update(
            pin=save,
            editor=collaborator,
            title=save.title,
            description="",
            source_url="",
            board=their_public_board,
        )

    assert refused.value.code == "secret_to_public"
    assert Pin.objects.get(pk=save.pk).board == their_secret_board
    assert not visible_to(stranger, save)


# --- pin_save_to_new_board ------------------------------------------------------------------


def test_pin_save_to_new_board_creates_the_board_and_the_save(owner, saver):
    pin = PinFactory(board=BoardFactory(owner=owner))

    save = pin_save_to_new_board(user=saver, pin=pin, board_name=" Doors ", is_secret=True)

    board = Board.objects.get(owner=saver)
    assert (board.name, board.is_secret) == ("Doors", True)
    assert (save.board, save.saved_from, save.image_id) == (board, pin, pin.image_id)


def test_pin_save_to_new_board_with_a_taken_name_creates_nothing(owner, saver):
    pin = PinFactory(board=BoardFactory(owner=owner))
    BoardFactory(owner=saver, name="Doors")

    with pytest.raises(BoardNameTaken):
        pin_save_to_new_board(user=saver, pin=pin, board_name="doors", is_secret=False)

    assert Board.objects.filter(owner=saver).count() == 1
    assert not Pin.objects.filter(saved_from=pin).exists()


def test_saving_a_secret_pin_to_a_new_public_board_creates_no_board(owner):
    secret_pin = PinFactory(board=BoardFactory(owner=owner, is_secret=True))
    collaborator = BoardMemberFactory(board=secret_pin.board).user

    with pytest.raises(ValidationError) as refused:
        pin_save_to_new_board(user=collaborator, pin=secret_pin, board_name="Open", is_secret=False)

    assert refused.value.code == "secret_to_public"
    assert not Board.objects.filter(owner=collaborator).exists()
    assert not Pin.objects.filter(saved_from=secret_pin).exists()


# --- Likes and comments ---------------------------------------------------------------------


def test_liking_twice_is_harmless(stranger):
    pin = PinFactory()

    pin_like(user=stranger, pin=pin)
    pin_like(user=stranger, pin=pin)

    assert Like.objects.filter(user=stranger, pin=pin).count() == 1


def test_pin_unlike_removes_only_that_persons_like(stranger, saver):
    pin = PinFactory()
    LikeFactory(user=stranger, pin=pin)
    LikeFactory(user=saver, pin=pin)

    pin_unlike(user=stranger, pin=pin)

    assert list(Like.objects.filter(pin=pin).values_list("user", flat=True)) == [saver.pk]


def test_unliking_a_pin_never_liked_is_harmless(stranger):
    pin = PinFactory()

    pin_unlike(user=stranger, pin=pin)

    assert not Like.objects.exists()


def test_comment_create_trims_the_text(stranger):
    pin = PinFactory()

    comment = comment_create(author=stranger, pin=pin, text="  Lovely colour!\n ")

    comment.refresh_from_db()
    assert (comment.author, comment.pin, comment.text) == (stranger, pin, "Lovely colour!")


def test_comment_delete_by_its_author_deletes_it(stranger):
    comment = CommentFactory(author=stranger)

    comment_delete(comment=comment, user=stranger)

    assert not Comment.objects.filter(pk=comment.pk).exists()


def test_comment_delete_by_someone_else_is_refused_and_the_comment_remains(stranger, owner):
    comment = CommentFactory(author=stranger, pin=PinFactory(board=BoardFactory(owner=owner)))

    with pytest.raises(PermissionDenied):
        comment_delete(comment=comment, user=owner)

    assert Comment.objects.filter(pk=comment.pk).exists()


# --- Following people -----------------------------------------------------------------------


def test_following_someone_twice_is_harmless(owner, stranger):
    user_follow(follower=stranger, followee=owner)
    user_follow(follower=stranger, followee=owner)

    assert Follow.objects.filter(follower=stranger, followee=owner).count() == 1


def test_user_unfollow_removes_the_follow(owner, stranger):
    FollowFactory(follower=stranger, followee=owner)

    user_unfollow(follower=stranger, followee=owner)

    assert not Follow.objects.filter(follower=stranger).exists()


def test_following_yourself_is_refused(owner):
    with pytest.raises(ValidationError, match="can't follow yourself"):
        user_follow(follower=owner, followee=owner)

    assert not Follow.objects.exists()


def test_the_database_refuses_a_self_follow_too(owner):
    with pytest.raises(IntegrityError), transaction.atomic():
        Follow.objects.create(follower=owner, followee=owner)

    assert not Follow.objects.exists()


# --- Deleting an account --------------------------------------------------------------------


def test_deleting_a_user_keeps_other_peoples_saves_of_their_pins_working(owner, saver):
    pin = PinFactory(board=BoardFactory(owner=owner))
    save = pin_save(user=saver, pin=pin, board=BoardFactory(owner=saver))

    owner.delete()

    assert not Pin.objects.filter(pk=pin.pk).exists()
    save = Pin.objects.select_related("image").get(pk=save.pk)
    assert save.saved_from is None
    assert save.image_id == pin.image_id
    assert Path(save.image.file.path).is_file()
    assert Pin.objects.for_cards(saver).filter(pk=save.pk).exists()
