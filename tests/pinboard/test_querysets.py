"""The read rules (DESIGN.md §3.1): who may see, pin to and edit which boards, pins and comments.

Every rule is checked against one small world, built fresh for each test:

* `owner` has a public board and a secret board, each with one pin;
* `collaborator` has accepted an invitation to both boards, has added a pin of their own to the
  secret board, and has saved the secret pin to a secret board of their own;
* `invited` was invited to both boards but has not answered;
* `follower` follows `owner`;
* `stranger` has no relation to anyone;
* `anonymous` is not signed in;
* `saver` has saved the public pin to a public board and to a secret board of their own.

The tables below read across: one row per object, one column per viewer.
"""

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.models import User
from pinboard.models import Board, BoardMember, Comment, Pin
from pinboard.services import (
    board_member_remove,
    board_set_hidden,
    comment_set_hidden,
    pin_blocked_for,
    pin_save,
    pin_set_hidden,
)
from tests.factories import (
    BlockFactory,
    BoardFactory,
    BoardFollowFactory,
    BoardMemberFactory,
    CommentFactory,
    FollowFactory,
    LikeFactory,
    PinFactory,
    PinImageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

VIEWERS = ("owner", "collaborator", "invited", "follower", "stranger", "anonymous", "saver")
T, F = True, False

BOARD_VISIBILITY = {
    #                                       owner collab invited follower stranger anon saver
    "public_board":                         (T,    T,     T,      T,       T,       T,   T),
    "secret_board":                         (T,    T,     F,      F,       F,       F,   F),
    "savers_public_board":                  (T,    T,     T,      T,       T,       T,   T),
    "savers_secret_board":                  (F,    F,     F,      F,       F,       F,   T),
    "collaborators_secret_board":           (F,    T,     F,      F,       F,       F,   F),
}  # fmt: skip

PIN_VISIBILITY = {
    #                                       owner collab invited follower stranger anon saver
    "public_pin":                           (T,    T,     T,      T,       T,       T,   T),
    "secret_pin":                           (T,    T,     F,      F,       F,       F,   F),
    "public_pin_saved_to_public_board":     (T,    T,     T,      T,       T,       T,   T),
    # Strangers still see the original public pin, but not someone's secret save of it; nor does
    # the original's owner: a save is as visible as the board it is saved to.
    "public_pin_saved_to_secret_board":     (F,    F,     F,      F,       F,       F,   T),
    "secret_pin_saved_by_collaborator":     (F,    T,     F,      F,       F,       F,   F),
}  # fmt: skip

BOARD_PINNABLE = {
    #                                       owner collab invited follower stranger anon saver
    "public_board":                         (T,    T,     F,      F,       F,       F,   F),
    "secret_board":                         (T,    T,     F,      F,       F,       F,   F),
    "savers_secret_board":                  (F,    F,     F,      F,       F,       F,   T),
    "collaborators_secret_board":           (F,    T,     F,      F,       F,       F,   F),
}  # fmt: skip

BOARD_EDITABLE = {
    #                                       owner collab invited follower stranger anon saver
    "public_board":                         (T,    F,     F,      F,       F,       F,   F),
    "secret_board":                         (T,    F,     F,      F,       F,       F,   F),
    "savers_secret_board":                  (F,    F,     F,      F,       F,       F,   T),
    "collaborators_secret_board":           (F,    T,     F,      F,       F,       F,   F),
}  # fmt: skip

PIN_EDITABLE = {
    #                                       owner collab invited follower stranger anon saver
    "public_pin":                           (T,    F,     F,      F,       F,       F,   F),
    "secret_pin":                           (T,    F,     F,      F,       F,       F,   F),
    "collaborators_pin_on_secret_board":    (F,    T,     F,      F,       F,       F,   F),
    "public_pin_saved_to_secret_board":     (F,    F,     F,      F,       F,       F,   T),
    "secret_pin_saved_by_collaborator":     (F,    T,     F,      F,       F,       F,   F),
}  # fmt: skip

# A comment is exactly as visible as its pin.
COMMENT_VISIBILITY = {
    #                                       owner collab invited follower stranger anon saver
    "comment_on_public_pin":                (T,    T,     T,      T,       T,       T,   T),
    "comment_on_secret_pin":                (T,    T,     F,      F,       F,       F,   F),
    "comment_on_secret_save":               (F,    T,     F,      F,       F,       F,   F),
}  # fmt: skip


def matrix(table: dict[str, tuple[bool, ...]], verb: str) -> list:
    """Expand a table into one test case per cell, named like `stranger_cannot_see_secret_pin`."""
    cases = []
    for name, row in table.items():
        assert len(row) == len(VIEWERS), name
        for viewer, expected in zip(VIEWERS, row, strict=True):
            may = "can" if expected else "cannot"
            cases.append(pytest.param(viewer, name, expected, id=f"{viewer}_{may}_{verb}_{name}"))
    return cases


def expected_for(table: dict[str, tuple[bool, ...]], viewer: str) -> set[str]:
    column = VIEWERS.index(viewer)
    return {name for name, row in table.items() if row[column]}


@pytest.fixture
def image(db):
    """One real stored image shared by every pin of a test: making files is the slow part."""
    return PinImageFactory()


@pytest.fixture
def world(image):
    people = {
        name: UserFactory(username=name)
        for name in ("owner", "collaborator", "invited", "follower", "stranger", "saver")
    }
    owner, collaborator, saver = people["owner"], people["collaborator"], people["saver"]

    public_board = BoardFactory(owner=owner, name="Kitchens")
    secret_board = BoardFactory(owner=owner, name="Surprise party", is_secret=True)
    for board in (public_board, secret_board):
        BoardMemberFactory(board=board, user=collaborator)
        BoardMemberFactory(board=board, user=people["invited"], status=BoardMember.Status.INVITED)
    FollowFactory(follower=people["follower"], followee=owner)

    public_pin = PinFactory(board=public_board, image=image, title="Open shelves")
    secret_pin = PinFactory(board=secret_board, image=image, title="The cake")
    collaborators_pin = PinFactory(
        board=secret_board, owner=collaborator, image=image, title="Balloons"
    )

    savers_public_board = BoardFactory(owner=saver, name="Ideas")
    savers_secret_board = BoardFactory(owner=saver, name="Someday", is_secret=True)
    collaborators_secret_board = BoardFactory(owner=collaborator, name="Mine", is_secret=True)
    pins = {
        "public_pin": public_pin,
        "secret_pin": secret_pin,
        "collaborators_pin_on_secret_board": collaborators_pin,
        "public_pin_saved_to_public_board": pin_save(
            user=saver, pin=public_pin, board=savers_public_board
        ),
        "public_pin_saved_to_secret_board": pin_save(
            user=saver, pin=public_pin, board=savers_secret_board
        ),
        "secret_pin_saved_by_collaborator": pin_save(
            user=collaborator, pin=secret_pin, board=collaborators_secret_board
        ),
    }
    boards = {
        "public_board": public_board,
        "secret_board": secret_board,
        "savers_public_board": savers_public_board,
        "savers_secret_board": savers_secret_board,
        "collaborators_secret_board": collaborators_secret_board,
    }
    comments = {
        "comment_on_public_pin": CommentFactory(pin=public_pin, author=people["stranger"]),
        "comment_on_secret_pin": CommentFactory(pin=secret_pin, author=collaborator),
        "comment_on_secret_save": CommentFactory(
            pin=pins["secret_pin_saved_by_collaborator"], author=collaborator
        ),
    }

    def viewer(name: str) -> User | AnonymousUser:
        return AnonymousUser() if name == "anonymous" else people[name]

    return SimpleNamespace(
        people=people, viewer=viewer, boards=boards, pins=pins, comments=comments
    )


# Visibility, cell by cell


@pytest.mark.parametrize(("viewer", "board", "expected"), matrix(BOARD_VISIBILITY, "see"))
def test_board_visibility(world, viewer, board, expected):
    visible = Board.objects.visible_to(world.viewer(viewer))

    assert visible.filter(pk=world.boards[board].pk).exists() is expected


@pytest.mark.parametrize(("viewer", "pin", "expected"), matrix(PIN_VISIBILITY, "see"))
def test_pin_visibility(world, viewer, pin, expected):
    visible = Pin.objects.visible_to(world.viewer(viewer))

    assert visible.filter(pk=world.pins[pin].pk).exists() is expected


@pytest.mark.parametrize(("viewer", "comment", "expected"), matrix(COMMENT_VISIBILITY, "see"))
def test_comment_visibility_follows_its_pin(world, viewer, comment, expected):
    visible = Comment.objects.visible_to(world.viewer(viewer))

    assert visible.filter(pk=world.comments[comment].pk).exists() is expected


# Visibility, whole lists: nothing extra, nothing twice


@pytest.mark.parametrize("viewer", VIEWERS)
def test_visible_boards_are_exactly_the_expected_ones_each_listed_once(world, viewer):
    names = {board.pk: name for name, board in world.boards.items()}

    visible = Board.objects.visible_to(world.viewer(viewer))

    listed = [names[pk] for pk in visible.values_list("pk", flat=True)]
    assert sorted(listed) == sorted(expected_for(BOARD_VISIBILITY, viewer))


@pytest.mark.parametrize("viewer", VIEWERS)
def test_visible_pins_are_exactly_the_expected_ones_each_listed_once(world, viewer):
    names = {pin.pk: name for name, pin in world.pins.items()}
    # The collaborator's own pin sits on the secret board: visible exactly like the secret pin.
    table = {**PIN_VISIBILITY, "collaborators_pin_on_secret_board": PIN_VISIBILITY["secret_pin"]}

    visible = Pin.objects.visible_to(world.viewer(viewer))

    listed = [names[pk] for pk in visible.values_list("pk", flat=True)]
    assert sorted(listed) == sorted(expected_for(table, viewer))


def test_visible_to_none_is_treated_as_signed_out(world):
    assert not Pin.objects.visible_to(None).filter(board__is_secret=True).exists()
    assert not Board.objects.visible_to(None).filter(is_secret=True).exists()


def test_stranger_cannot_see_a_pin_once_its_board_is_made_secret(world):
    board = world.boards["public_board"]
    board.is_secret = True
    board.save()

    visible = Pin.objects.visible_to(world.people["stranger"])

    assert not visible.filter(pk=world.pins["public_pin"].pk).exists()


def test_removed_collaborator_cannot_see_the_secret_board_or_its_pins_any_more(world):
    collaborator = world.people["collaborator"]
    board_member_remove(board=world.boards["secret_board"], user=collaborator)

    secret_board = world.boards["secret_board"]
    assert not Board.objects.visible_to(collaborator).filter(pk=secret_board.pk).exists()
    assert not Pin.objects.visible_to(collaborator).filter(board=secret_board).exists()


# Who may pin to and edit what


@pytest.mark.parametrize(("viewer", "board", "expected"), matrix(BOARD_PINNABLE, "pin_to"))
def test_board_pinnable_by(world, viewer, board, expected):
    pinnable = Board.objects.pinnable_by(world.viewer(viewer))

    assert pinnable.filter(pk=world.boards[board].pk).exists() is expected


@pytest.mark.parametrize(("viewer", "board", "expected"), matrix(BOARD_EDITABLE, "edit"))
def test_board_editable_by(world, viewer, board, expected):
    editable = Board.objects.editable_by(world.viewer(viewer))

    assert editable.filter(pk=world.boards[board].pk).exists() is expected


@pytest.mark.parametrize(("viewer", "pin", "expected"), matrix(PIN_EDITABLE, "edit"))
def test_pin_editable_by(world, viewer, pin, expected):
    editable = Pin.objects.editable_by(world.viewer(viewer))

    assert editable.filter(pk=world.pins[pin].pk).exists() is expected


def test_removed_collaborator_can_no_longer_edit_their_pin_on_the_secret_board(world):
    """What a person may edit is a subset of what they may see (DESIGN.md §3.1: every read goes
    through visible_to). The pin edit and delete pages fetch through editable_by alone."""
    collaborator = world.people["collaborator"]
    board_member_remove(board=world.boards["secret_board"], user=collaborator)
    pin = world.pins["collaborators_pin_on_secret_board"]

    assert not Pin.objects.editable_by(collaborator).filter(pk=pin.pk).exists()


# The home feed's two halves


@pytest.fixture
def feed(image):
    """`reader` follows `pinner` and `board_keeper`'s board "Gardens"."""
    reader = UserFactory(username="reader")
    pinner = UserFactory(username="pinner")
    board_keeper = UserFactory(username="board_keeper")
    guest = UserFactory(username="guest")
    FollowFactory(follower=reader, followee=pinner)

    pinners_board = BoardFactory(owner=pinner, name="Lamps")
    pinners_secret_board = BoardFactory(owner=pinner, name="Drafts", is_secret=True)
    pinners_shared_secret_board = BoardFactory(owner=pinner, name="Shared", is_secret=True)
    BoardMemberFactory(board=pinners_shared_secret_board, user=reader)
    gardens = BoardFactory(owner=board_keeper, name="Gardens")
    BoardMemberFactory(board=gardens, user=guest)
    BoardFollowFactory(user=reader, board=gardens)
    # Followed while it was public, made secret since: its pins must drop out of the feed.
    hidden = BoardFactory(owner=board_keeper, name="Hidden", is_secret=True)
    BoardFollowFactory(user=reader, board=hidden)
    not_followed_board = BoardFactory(owner=board_keeper, name="Fences")
    strangers_board = BoardFactory(name="Elsewhere")

    pins = {
        "by_followed_person": PinFactory(board=pinners_board, image=image),
        "by_followed_person_on_secret_board": PinFactory(board=pinners_secret_board, image=image),
        "by_followed_person_on_secret_board_shared_with_reader": PinFactory(
            board=pinners_shared_secret_board, image=image
        ),
        "on_followed_board": PinFactory(board=gardens, image=image),
        "by_a_collaborator_on_followed_board": PinFactory(board=gardens, owner=guest, image=image),
        "on_followed_board_made_secret": PinFactory(board=hidden, image=image),
        "by_board_keeper_on_another_board": PinFactory(board=not_followed_board, image=image),
        "by_stranger": PinFactory(board=strangers_board, image=image),
        "by_reader": PinFactory(board=BoardFactory(owner=reader), image=image),
    }
    pins["saved_by_followed_person_to_secret_board"] = pin_save(
        user=pinner,
        pin=pins["by_stranger"],
        board=pinners_secret_board,
    )
    return SimpleNamespace(reader=reader, pins=pins)


FOLLOWED = {
    "by_followed_person",
    "by_followed_person_on_secret_board_shared_with_reader",
    "on_followed_board",
    "by_a_collaborator_on_followed_board",
}


def names_of(feed, queryset) -> set[str]:
    names = {pin.pk: name for name, pin in feed.pins.items()}
    return {names[pk] for pk in queryset.values_list("pk", flat=True)}


def test_followed_by_holds_pins_from_followed_people_and_boards_the_reader_may_see(feed):
    assert names_of(feed, Pin.objects.followed_by(feed.reader)) == FOLLOWED


def test_followed_by_never_holds_a_secret_pin_the_reader_cannot_see(feed):
    followed = Pin.objects.followed_by(feed.reader)

    assert not followed.filter(pk=feed.pins["by_followed_person_on_secret_board"].pk).exists()
    assert not followed.filter(pk=feed.pins["on_followed_board_made_secret"].pk).exists()
    assert not followed.filter(pk=feed.pins["saved_by_followed_person_to_secret_board"].pk).exists()


def test_followed_by_lists_each_pin_once(feed):
    followed = Pin.objects.followed_by(feed.reader)

    assert followed.count() == len(set(followed.values_list("pk", flat=True)))


def test_not_followed_by_holds_every_visible_pin_the_reader_does_not_follow(feed):
    rest = Pin.objects.visible_to(feed.reader).not_followed_by(feed.reader)

    assert names_of(feed, rest) == {
        "by_board_keeper_on_another_board",
        "by_stranger",
        "by_reader",
    }


def test_followed_and_not_followed_pins_split_the_visible_pins_without_overlap(feed):
    visible = Pin.objects.visible_to(feed.reader)
    followed = names_of(feed, Pin.objects.followed_by(feed.reader))
    rest = names_of(feed, visible.not_followed_by(feed.reader))

    assert not followed & rest
    assert followed | rest == names_of(feed, visible)


def test_someone_who_follows_no_one_follows_no_pins(feed):
    assert not Pin.objects.followed_by(UserFactory(username="newcomer")).exists()


# Annotations for cards and listings


@pytest.fixture
def cards(image):
    liker = UserFactory(username="liker")
    busy = PinFactory(image=image, title="Busy")
    quiet = PinFactory(image=image, title="Quiet")
    LikeFactory(pin=busy, user=liker)
    LikeFactory(pin=busy)
    for _ in range(3):
        CommentFactory(pin=busy)
    return SimpleNamespace(liker=liker, busy=busy, quiet=quiet)


def test_for_cards_counts_likes_and_comments_without_multiplying_them(cards):
    pin = Pin.objects.for_cards(cards.liker).get(pk=cards.busy.pk)

    assert (pin.like_count, pin.comment_count) == (2, 3)


def test_for_cards_counts_zero_for_a_pin_without_likes_or_comments(cards):
    pin = Pin.objects.for_cards(cards.liker).get(pk=cards.quiet.pk)

    assert (pin.like_count, pin.comment_count) == (0, 0)


def test_for_cards_marks_the_pins_the_viewer_liked(cards):
    pins = Pin.objects.for_cards(cards.liker).in_bulk([cards.busy.pk, cards.quiet.pk])

    assert pins[cards.busy.pk].liked is True
    assert pins[cards.quiet.pk].liked is False


def test_for_cards_marks_nothing_liked_for_someone_who_liked_nothing(cards):
    pin = Pin.objects.for_cards(UserFactory(username="onlooker")).get(pk=cards.busy.pk)

    assert pin.liked is False


def test_for_cards_marks_nothing_liked_for_anonymous(cards):
    pin = Pin.objects.for_cards(AnonymousUser()).get(pk=cards.busy.pk)

    assert (pin.liked, pin.like_count, pin.comment_count) == (False, 2, 3)


def test_for_cards_fetches_image_and_owner_in_the_same_query(cards, django_assert_num_queries):
    with django_assert_num_queries(1):
        pins = list(Pin.objects.for_cards(cards.liker))
        assert all(pin.image.width and pin.owner.username for pin in pins)


def test_board_with_pin_count_counts_every_pin_and_zero_for_an_empty_board(image):
    full = BoardFactory(name="Full")
    PinFactory.create_batch(3, board=full, image=image)
    BoardFactory(name="Empty")

    counts = dict(Board.objects.with_pin_count().values_list("name", "pin_count"))

    assert counts == {"Full": 3, "Empty": 0}


def test_board_with_pin_count_is_not_multiplied_by_collaborators(image):
    board = BoardFactory(name="Group", is_secret=True)
    PinFactory.create_batch(2, board=board, image=image)
    member = BoardMemberFactory(board=board).user
    BoardMemberFactory(board=board)

    boards = list(Board.objects.visible_to(member).with_pin_count())

    assert [(b.name, b.pin_count) for b in boards] == [("Group", 2)]


@pytest.fixture
def follows(db):
    """`star` is followed by `fan` and `critic`; `star` follows `muse`."""
    star, fan, critic, muse = (
        UserFactory(username=name) for name in ("star", "fan", "critic", "muse")
    )
    FollowFactory(follower=fan, followee=star)
    FollowFactory(follower=critic, followee=star)
    FollowFactory(follower=star, followee=muse)
    return SimpleNamespace(star=star, fan=fan, critic=critic, muse=muse)


def test_with_follow_counts_counts_followers_and_following(follows):
    counts = {
        user.username: (user.follower_count, user.following_count)
        for user in User.objects.with_follow_counts()
    }

    assert counts == {"star": (2, 1), "fan": (0, 1), "critic": (0, 1), "muse": (1, 0)}


def test_with_follow_counts_says_whom_the_viewer_follows(follows):
    followed = {
        user.username: user.followed for user in User.objects.with_follow_counts(follows.fan)
    }

    assert followed == {"star": True, "fan": False, "critic": False, "muse": False}


def test_with_follow_counts_works_for_anonymous(follows):
    star = User.objects.with_follow_counts(AnonymousUser()).get(pk=follows.star.pk)

    assert (star.follower_count, star.following_count) == (2, 1)


# Blocks (issue #7): `blocked` was blocked by `owner`; `blocker` blocked `owner`. A block changes
# what the two may do with each other's pins (save, like, comment: pinboard.services refuses, the
# pin page hides the buttons), not what they may see: public pins stay public, as for a visitor.

BLOCK_VIEWERS = ("owner", "collaborator", "stranger", "blocked", "blocker")

PIN_INTERACTION_WITH_BLOCKS = {
    #                                       owner collab stranger blocked blocker
    "public_pin":                           (T,    T,     T,       F,      F),
    "secret_pin":                           (T,    T,     T,       F,      F),
    # Pins of other people are not affected by a block with `owner`.
    "collaborators_pin_on_secret_board":    (T,    T,     T,       T,      T),
    "public_pin_saved_to_public_board":     (T,    T,     T,       T,      T),
}  # fmt: skip

PIN_VISIBILITY_WITH_BLOCKS = {
    #                                       owner collab stranger blocked blocker
    "public_pin":                           (T,    T,     T,       T,      T),
    "secret_pin":                           (T,    T,     F,       F,      F),
}  # fmt: skip


def block_matrix(table: dict[str, tuple[bool, ...]], verb: str) -> list:
    cases = []
    for name, row in table.items():
        for viewer, expected in zip(BLOCK_VIEWERS, row, strict=True):
            may = "can" if expected else "cannot"
            cases.append(pytest.param(viewer, name, expected, id=f"{viewer}_{may}_{verb}_{name}"))
    return cases


@pytest.fixture
def blocks_world(world):
    owner = world.people["owner"]
    world.people["blocked"] = UserFactory(username="blocked")
    world.people["blocker"] = UserFactory(username="blocker")
    BlockFactory(blocker=owner, blocked=world.people["blocked"])
    BlockFactory(blocker=world.people["blocker"], blocked=owner)
    return world


@pytest.mark.parametrize(
    ("viewer", "pin", "expected"),
    block_matrix(PIN_INTERACTION_WITH_BLOCKS, "save_like_or_comment_on"),
)
def test_pin_interaction_with_blocks(blocks_world, viewer, pin, expected):
    person = blocks_world.people[viewer]

    assert pin_blocked_for(user=person, pin=blocks_world.pins[pin]) is not expected


@pytest.mark.parametrize(
    ("viewer", "pin", "expected"), block_matrix(PIN_VISIBILITY_WITH_BLOCKS, "see")
)
def test_pin_visibility_with_blocks(blocks_world, viewer, pin, expected):
    visible = Pin.objects.visible_to(blocks_world.people[viewer])

    assert visible.filter(pk=blocks_world.pins[pin].pk).exists() is expected


# --- Hidden by moderators ---------------------------------------------------------------------
# A second small world: `owner` has a public board with a shown pin and a hidden pin, and a public
# board that moderators hid, holding one of owner's pins and one of `collaborator`'s (who
# collaborates on both boards). Hidden things are seen by nobody but their owner; a pin on a
# hidden board is hidden with it (its own owner and the board's owner still see it).

HIDDEN_VIEWERS = ("owner", "collaborator", "stranger", "anonymous")

HIDDEN_BOARD_VISIBILITY = {
    #                                       owner collab stranger anon
    "shown_board":                          (T,    T,     T,       T),
    "hidden_board":                         (T,    F,     F,       F),
}  # fmt: skip

HIDDEN_PIN_VISIBILITY = {
    #                                       owner collab stranger anon
    "shown_pin":                            (T,    T,     T,       T),
    "hidden_pin":                           (T,    F,     F,       F),
    "owners_pin_on_hidden_board":           (T,    F,     F,       F),
    "collaborators_pin_on_hidden_board":    (T,    T,     F,       F),
    "hidden_pin_by_collaborator":           (F,    T,     F,       F),
}  # fmt: skip

HIDDEN_COMMENT_VISIBILITY = {
    #                                       owner collab stranger anon
    "comment_on_shown_pin":                 (T,    T,     T,       T),
    # A hidden comment is its author's alone, even on someone else's pin.
    "hidden_comment_by_collaborator":       (F,    T,     F,       F),
    "comment_on_hidden_pin":                (T,    F,     F,       F),
}  # fmt: skip

HIDDEN_BOARD_PINNABLE = {
    #                                       owner collab stranger anon
    "shown_board":                          (T,    T,     F,       F),
    "hidden_board":                         (T,    F,     F,       F),
}  # fmt: skip


def hidden_matrix(table: dict[str, tuple[bool, ...]], verb: str) -> list:
    cases = []
    for name, row in table.items():
        for viewer, expected in zip(HIDDEN_VIEWERS, row, strict=True):
            may = "can" if expected else "cannot"
            cases.append(pytest.param(viewer, name, expected, id=f"{viewer}_{may}_{verb}_{name}"))
    return cases


@pytest.fixture
def moderated(image):
    people = {name: UserFactory(username=name) for name in ("owner", "collaborator", "stranger")}
    owner, collaborator, stranger = people["owner"], people["collaborator"], people["stranger"]
    shown_board = BoardFactory(owner=owner, name="Shown")
    hidden_board = BoardFactory(owner=owner, name="Hidden")
    for board in (shown_board, hidden_board):
        BoardMemberFactory(board=board, user=collaborator)
    pins = {
        "shown_pin": PinFactory(board=shown_board, image=image),
        "hidden_pin": PinFactory(board=shown_board, image=image),
        "owners_pin_on_hidden_board": PinFactory(board=hidden_board, image=image),
        "collaborators_pin_on_hidden_board": PinFactory(
            board=hidden_board, owner=collaborator, image=image
        ),
        "hidden_pin_by_collaborator": PinFactory(
            board=shown_board, owner=collaborator, image=image
        ),
    }
    comments = {
        "comment_on_shown_pin": CommentFactory(pin=pins["shown_pin"], author=stranger),
        "hidden_comment_by_collaborator": CommentFactory(
            pin=pins["shown_pin"], author=collaborator
        ),
        "comment_on_hidden_pin": CommentFactory(pin=pins["hidden_pin"], author=collaborator),
    }
    board_set_hidden(board=hidden_board, hidden=True)
    pin_set_hidden(pin=pins["hidden_pin"], hidden=True)
    pin_set_hidden(pin=pins["hidden_pin_by_collaborator"], hidden=True)
    comment_set_hidden(comment=comments["hidden_comment_by_collaborator"], hidden=True)

    def viewer(name: str) -> User | AnonymousUser:
        return AnonymousUser() if name == "anonymous" else people[name]

    return SimpleNamespace(
        viewer=viewer,
        boards={"shown_board": shown_board, "hidden_board": hidden_board},
        pins=pins,
        comments=comments,
    )


@pytest.mark.parametrize(
    ("viewer", "board", "expected"), hidden_matrix(HIDDEN_BOARD_VISIBILITY, "see")
)
def test_hidden_board_visibility(moderated, viewer, board, expected):
    visible = Board.objects.visible_to(moderated.viewer(viewer))

    assert visible.filter(pk=moderated.boards[board].pk).exists() is expected


@pytest.mark.parametrize(("viewer", "pin", "expected"), hidden_matrix(HIDDEN_PIN_VISIBILITY, "see"))
def test_hidden_pin_visibility(moderated, viewer, pin, expected):
    visible = Pin.objects.visible_to(moderated.viewer(viewer))

    assert visible.filter(pk=moderated.pins[pin].pk).exists() is expected


@pytest.mark.parametrize(
    ("viewer", "comment", "expected"), hidden_matrix(HIDDEN_COMMENT_VISIBILITY, "see")
)
def test_hidden_comment_visibility(moderated, viewer, comment, expected):
    visible = Comment.objects.visible_to(moderated.viewer(viewer))

    assert visible.filter(pk=moderated.comments[comment].pk).exists() is expected


@pytest.mark.parametrize(
    ("viewer", "board", "expected"), hidden_matrix(HIDDEN_BOARD_PINNABLE, "pin_to")
)
def test_hidden_board_pinnable_by(moderated, viewer, board, expected):
    pinnable = Board.objects.pinnable_by(moderated.viewer(viewer))

    assert pinnable.filter(pk=moderated.boards[board].pk).exists() is expected


@pytest.mark.parametrize("viewer", HIDDEN_VIEWERS)
def test_visible_pins_with_hidden_ones_are_exactly_the_expected_ones(moderated, viewer):
    column = HIDDEN_VIEWERS.index(viewer)
    expected = {
        moderated.pins[name].pk for name, row in HIDDEN_PIN_VISIBILITY.items() if row[column]
    }

    visible = list(Pin.objects.visible_to(moderated.viewer(viewer)).values_list("pk", flat=True))

    assert sorted(visible) == sorted(expected)


@pytest.mark.parametrize("viewer", HIDDEN_VIEWERS)
def test_cards_never_show_a_pin_hidden_on_its_own_but_to_its_owner(moderated, viewer):
    """The board page lists a checked board's pins with for_cards() alone: it must drop them."""
    board = moderated.boards["shown_board"]
    listed = set(
        Pin.objects.filter(board=board)
        .for_cards(moderated.viewer(viewer))
        .values_list("pk", flat=True)
    )

    assert (moderated.pins["hidden_pin"].pk in listed) is (viewer == "owner")
    assert (moderated.pins["hidden_pin_by_collaborator"].pk in listed) is (viewer == "collaborator")
    assert moderated.pins["shown_pin"].pk in listed


def test_cards_flag_hidden_pins_for_their_owner(moderated):
    owner = moderated.viewer("owner")
    flags = dict(Pin.objects.visible_to(owner).for_cards(owner).values_list("pk", "is_hidden"))

    assert flags[moderated.pins["shown_pin"].pk] is False
    assert flags[moderated.pins["hidden_pin"].pk] is True
    assert flags[moderated.pins["owners_pin_on_hidden_board"].pk] is True


def test_comment_counts_leave_out_hidden_comments(moderated):
    stranger = moderated.viewer("stranger")
    counts = dict(Pin.objects.for_cards(stranger).values_list("pk", "comment_count"))

    assert counts[moderated.pins["shown_pin"].pk] == 1  # the hidden comment is not counted


def test_unhiding_a_board_brings_back_its_pins_but_not_those_hidden_on_their_own(moderated):
    pin_set_hidden(pin=moderated.pins["owners_pin_on_hidden_board"], hidden=True)
    board_set_hidden(board=moderated.boards["hidden_board"], hidden=False)
    visible = Pin.objects.visible_to(moderated.viewer("stranger"))

    assert visible.filter(pk=moderated.pins["collaborators_pin_on_hidden_board"].pk).exists()
    assert not visible.filter(pk=moderated.pins["owners_pin_on_hidden_board"].pk).exists()
