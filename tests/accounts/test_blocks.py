"""Blocking a person (issue #7), outside messaging: the services, the Block / Unblock buttons on
a profile, the settings page listing whom you blocked, follows, people search and what a blocked
person sees of the blocker's profile."""

import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from accounts.models import Block, Follow, User
from accounts.services import user_block, user_follow, user_unblock
from tests.factories import (
    BlockFactory,
    BoardFactory,
    BoardMemberFactory,
    FollowFactory,
    PinFactory,
    PinImageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def follows_between(a, b) -> int:
    return Follow.objects.filter(follower__in=[a, b], followee__in=[a, b]).count()


# --- Services ---------------------------------------------------------------------------------


def test_blocking_ends_following_both_ways(user, other_user):
    FollowFactory(follower=user, followee=other_user)
    FollowFactory(follower=other_user, followee=user)
    bystander = UserFactory()
    FollowFactory(follower=bystander, followee=user)

    user_block(blocker=user, blocked=other_user)

    assert Block.objects.filter(blocker=user, blocked=other_user).exists()
    assert follows_between(user, other_user) == 0
    assert Follow.objects.filter(follower=bystander, followee=user).exists()


def test_blocking_twice_is_one_block(user, other_user):
    user_block(blocker=user, blocked=other_user)
    user_block(blocker=user, blocked=other_user)

    assert Block.objects.count() == 1


def test_nobody_can_block_themselves(user):
    with pytest.raises(ValidationError, match=r"can't block yourself"):
        user_block(blocker=user, blocked=user)

    assert not Block.objects.exists()


def test_unblocking_lifts_only_that_block_and_is_harmless_twice(user, other_user):
    BlockFactory(blocker=user, blocked=other_user)
    BlockFactory(blocker=other_user, blocked=user)

    user_unblock(blocker=user, blocked=other_user)
    user_unblock(blocker=user, blocked=other_user)

    assert list(Block.objects.values_list("blocker", "blocked")) == [(other_user.pk, user.pk)]


@pytest.mark.parametrize("direction", ["blocked_follows_blocker", "blocker_follows_blocked"])
def test_follow_is_refused_either_way_and_nothing_is_stored(user, other_user, direction):
    BlockFactory(blocker=user, blocked=other_user)
    follower, followee = (
        (other_user, user) if direction == "blocked_follows_blocker" else (user, other_user)
    )

    with pytest.raises(ValidationError, match=re.escape("You can't follow this person.")):
        user_follow(follower=follower, followee=followee)

    assert not Follow.objects.exists()


def test_following_works_again_after_unblocking(user, other_user):
    BlockFactory(blocker=user, blocked=other_user)
    user_unblock(blocker=user, blocked=other_user)

    user_follow(follower=other_user, followee=user)

    assert Follow.objects.filter(follower=other_user, followee=user).exists()


# --- Read rules: a matrix of who sees whom ------------------------------------------------------

# `blocker` blocked `blocked`; `stranger` is unrelated. Rows: the person looked at; columns: the
# viewer. (blocked_by_viewer, blocks_viewer) for each cell; "findable" says whether the viewer
# finds the person in people search.
VIEWERS = ("blocker", "blocked", "stranger", "anonymous")
T, F = True, False
BLOCK_STATE = {
    #              blocker      blocked      stranger     anonymous
    "blocker":    ((F, F),      (F, T),      (F, F),      (F, F)),
    "blocked":    ((T, F),      (F, F),      (F, F),      (F, F)),
    "stranger":   ((F, F),      (F, F),      (F, F),      (F, F)),
}  # fmt: skip
FINDABLE = {
    #              blocker blocked stranger anonymous
    "blocker":    (T,      F,      T,       T),
    "blocked":    (F,      T,      T,       T),
    "stranger":   (T,      T,      T,       T),
}  # fmt: skip


@pytest.fixture
def people(db):
    found = {name: UserFactory(username=name) for name in ("blocker", "blocked", "stranger")}
    BlockFactory(blocker=found["blocker"], blocked=found["blocked"])
    return found


def viewer_named(people, name):
    return AnonymousUser() if name == "anonymous" else people[name]


@pytest.mark.parametrize("viewer", VIEWERS)
def test_block_state_flags_matrix(people, viewer):
    rows = User.objects.with_block_state(viewer_named(people, viewer))

    column = VIEWERS.index(viewer)
    for person in rows:
        expected = BLOCK_STATE[person.username][column]
        assert (person.blocked_by_viewer, person.blocks_viewer) == expected, person.username


@pytest.mark.parametrize("viewer", VIEWERS)
def test_people_search_matrix(people, viewer):
    found = User.objects.not_blocked_with(viewer_named(people, viewer))

    column = VIEWERS.index(viewer)
    expected = {name for name, row in FINDABLE.items() if row[column]}
    assert set(found.values_list("username", flat=True)) == expected


@pytest.mark.parametrize("searcher", ["blocker", "blocked"])
def test_people_search_page_hides_a_blocked_profile_both_ways(client_for, people, searcher):
    other = "blocked" if searcher == "blocker" else "blocker"

    response = client_for(people[searcher]).get(reverse("search"), {"q": other})

    assert f"@{other}" not in response.text
    assert f"@{other}" in client_for(people["stranger"]).get(reverse("search"), {"q": other}).text


# --- Follow endpoint --------------------------------------------------------------------------


def test_follow_endpoint_refuses_a_blocked_person_with_a_neutral_message(
    client_for, user, other_user, htmx
):
    BlockFactory(blocker=user, blocked=other_user)
    client = client_for(other_user)
    url = reverse("user_follow", args=[user.username])

    response = client.post(url, {"follow": "1"}, **htmx)

    assert "You can't follow this person." in response["HX-Trigger"]
    assert "blocked" not in response["HX-Trigger"]
    assert "Follow</button>" not in response.text
    page = client.post(url, {"follow": "1"}, follow=True)
    assert escape("You can't follow this person.") in page.text
    assert not Follow.objects.exists()


def test_follow_endpoint_still_works_without_a_block(client_for, user, other_user):
    BlockFactory(blocker=user, blocked=UserFactory())

    client_for(other_user).post(reverse("user_follow", args=[user.username]), {"follow": "1"})

    assert Follow.objects.filter(follower=other_user, followee=user).exists()


# --- What the profile shows ---------------------------------------------------------------------


@pytest.fixture
def blockers_profile(user, other_user):
    """`user` blocked `other_user`, who collaborates on one of user's secret boards."""
    image = PinImageFactory()
    PinFactory(board=BoardFactory(owner=user, name="Open board"), image=image, title="Open pin")
    secret = BoardFactory(owner=user, name="Shared secret", is_secret=True)
    BoardMemberFactory(board=secret, user=other_user)
    PinFactory(board=secret, image=image, title="Secret pin")
    BlockFactory(blocker=user, blocked=other_user)


def test_blocked_person_sees_the_profile_as_a_signed_out_visitor(
    client_for, user, other_user, blockers_profile
):
    response = client_for(other_user).get(user.get_absolute_url())

    assert response.status_code == 200
    assert "Open board" in response.text
    assert "Open pin" in response.text
    assert "Shared secret" not in response.text
    assert "Secret pin" not in response.text
    assert reverse("user_follow", args=[user.username]) not in response.text
    assert "Send profile" not in response.text
    assert reverse("pin_save", args=[user.pins.get(title="Open pin").pk]) not in response.text
    # Silent: nothing on the page says they were blocked.
    assert "blocked" not in response.text.lower()


def test_blocker_sees_an_unblock_button_and_no_follow_button(client_for, user, other_user):
    BlockFactory(blocker=other_user, blocked=user)

    response = client_for(other_user).get(user.get_absolute_url())

    assert reverse("user_unblock", args=[user.username]) in response.text
    assert reverse("user_follow", args=[user.username]) not in response.text


def test_without_a_block_the_profile_offers_follow_and_block(client_for, user, other_user):
    response = client_for(other_user).get(user.get_absolute_url())

    assert reverse("user_follow", args=[user.username]) in response.text
    assert reverse("user_block", args=[user.username]) in response.text


def test_profile_costs_the_same_queries_for_a_blocked_viewer(
    client_for, user, other_user, blockers_profile, django_assert_num_queries
):
    client = client_for(other_user)
    # Session, user, person (with the block flags), pins, boards, cover ids, cover pins, unread.
    with django_assert_num_queries(8):
        client.get(user.get_absolute_url())
    image = PinImageFactory()
    for _ in range(3):
        PinFactory.create_batch(4, board=BoardFactory(owner=user), image=image)
    with django_assert_num_queries(8):
        client.get(user.get_absolute_url())


# --- Block and unblock from a profile -----------------------------------------------------------


def test_block_asks_first_explaining_what_it_does(client_for, user, other_user, htmx):
    client = client_for(other_user)
    url = reverse("user_block", args=[user.username])

    page = client.get(url)
    dialog = client.get(url, **htmx)

    assert "<html" in page.text
    assert "They won't be told." in page.text
    assert "<html" not in dialog.text
    assert "<dialog" in dialog.text
    assert f'action="{url}"' in dialog.text
    assert not Block.objects.exists()


def test_block_from_the_profile(client_for, user, other_user):
    FollowFactory(follower=other_user, followee=user)
    client = client_for(other_user)

    response = client.post(reverse("user_block", args=[user.username]), follow=True)

    assert Block.objects.filter(blocker=other_user, blocked=user).exists()
    assert not Follow.objects.exists()
    assert f"You blocked {user.name}." in response.text
    assert response.redirect_chain[-1][0] == user.get_absolute_url()


def test_block_with_htmx_reloads_the_page(client_for, user, other_user, htmx):
    response = client_for(other_user).post(reverse("user_block", args=[user.username]), **htmx)

    assert response["HX-Redirect"] == user.get_absolute_url()
    assert Block.objects.exists()


def test_block_returns_to_a_safe_next_only(client_for, user, other_user):
    client = client_for(other_user)
    url = reverse("user_block", args=[user.username])

    inside = client.post(url, {"next": "/messages/"})
    outside = client.post(url, {"next": "https://evil.example/"})

    assert inside["Location"] == "/messages/"
    assert outside["Location"] == user.get_absolute_url()


def test_blocking_yourself_is_refused_with_a_message(client_for, user):
    response = client_for(user).post(reverse("user_block", args=[user.username]), follow=True)

    assert escape("You can't block yourself.") in response.text
    assert not Block.objects.exists()


def test_anonymous_cannot_block(client, user):
    response = client.post(reverse("user_block", args=[user.username]))

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert not Block.objects.exists()


def test_unblock_from_the_profile(client_for, user, other_user):
    BlockFactory(blocker=other_user, blocked=user)

    response = client_for(other_user).post(
        reverse("user_unblock", args=[user.username]), follow=True
    )

    assert not Block.objects.exists()
    assert f"You unblocked {user.name}." in response.text


def test_unblock_is_get_proof(client_for, user, other_user):
    BlockFactory(blocker=other_user, blocked=user)

    response = client_for(other_user).get(reverse("user_unblock", args=[user.username]))

    assert response.status_code == 405
    assert Block.objects.exists()


# --- Settings: blocked people -------------------------------------------------------------------


def test_blocked_people_page_lists_only_whom_you_blocked(client_for, user):
    mine = BlockFactory(blocker=user, blocked=UserFactory(username="pest")).blocked
    BlockFactory(blocked=user, blocker=UserFactory(username="hater"))

    response = client_for(user).get(reverse("settings_blocked"))

    assert "@pest" in response.text
    assert "hater" not in response.text
    assert f'value="{mine.username}"' in response.text
    assert 'aria-current="page">Blocked people' in response.text


def test_blocked_people_page_when_none(client_for, user):
    response = client_for(user).get(reverse("settings_blocked"))

    assert "You haven't blocked anyone." in response.text


def test_unblock_from_settings_with_htmx_swaps_the_list(client_for, user, other_user, htmx):
    BlockFactory(blocker=user, blocked=other_user)
    BlockFactory(blocker=user, blocked=UserFactory(username="still"))

    response = client_for(user).post(
        reverse("settings_blocked"), {"username": other_user.username}, **htmx
    )

    assert "<html" not in response.text
    assert "@still" in response.text
    assert f"@{other_user.username}" not in response.text
    assert f"You unblocked {other_user.name}." in response["HX-Trigger"]
    assert list(Block.objects.values_list("blocked__username", flat=True)) == ["still"]


def test_unblock_from_settings_without_javascript(client_for, user, other_user):
    BlockFactory(blocker=user, blocked=other_user)

    response = client_for(user).post(
        reverse("settings_blocked"), {"username": other_user.username}, follow=True
    )

    assert f"You unblocked {other_user.name}." in response.text
    assert not Block.objects.exists()


def test_unblocking_someone_not_blocked_is_explained_and_changes_nothing(client_for, user):
    someone_elses = BlockFactory(blocker=UserFactory(), blocked=UserFactory(username="target"))

    response = client_for(user).post(
        reverse("settings_blocked"), {"username": "target"}, follow=True
    )

    assert "That person is not blocked any more." in response.text
    assert Block.objects.filter(pk=someone_elses.pk).exists()


def test_blocked_people_page_costs_the_same_queries_at_any_size(
    client_for, user, django_assert_num_queries
):
    client = client_for(user)
    BlockFactory(blocker=user)
    # Session, user, blocks with the blocked people, the nav's unread total.
    with django_assert_num_queries(4):
        client.get(reverse("settings_blocked"))
    for _ in range(15):
        BlockFactory(blocker=user)
    with django_assert_num_queries(4):
        response = client.get(reverse("settings_blocked"))
    assert response.text.count("Unblock<span") == 16
