"""Pin cards in grids offer no "Save" on pins whose owner blocked the viewer or whom the viewer
blocked (issue #7 follow-up): the save picker would refuse it (pinboard.services.pin_blocked_for).
One annotation on the cards' own query, so the pages cost what they did."""

import pytest
from django.urls import reverse

from tests.factories import BlockFactory, BoardFactory, PinFactory, PinImageFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    image = PinImageFactory()
    viewer = UserFactory(username="vi")
    blocked_owner = UserFactory(username="bo")
    other_owner = UserFactory(username="oo")
    return {
        "viewer": viewer,
        "blocked_owner": blocked_owner,
        "blocked_pin": PinFactory(
            owner=blocked_owner,
            board=BoardFactory(owner=blocked_owner),
            image=image,
            title="Zeppelin over fields",
        ),
        "other_pin": PinFactory(
            owner=other_owner,
            board=BoardFactory(owner=other_owner),
            image=image,
            title="Zeppelin at dawn",
        ),
    }


def save_link(pin) -> str:
    return f'href="{reverse("pin_save", args=[pin.pk])}"'


def grids(world) -> list[str]:
    return [
        reverse("home") + "?phase=recent",
        reverse("search") + "?q=zeppelin",
        reverse("board_detail", args=[world["blocked_pin"].board_id]),
    ]


@pytest.mark.parametrize("direction", ["owner_blocked_viewer", "viewer_blocked_owner"])
def test_no_save_on_cards_across_a_block_either_way(client_for, world, direction):
    if direction == "owner_blocked_viewer":
        BlockFactory(blocker=world["blocked_owner"], blocked=world["viewer"])
    else:
        BlockFactory(blocker=world["viewer"], blocked=world["blocked_owner"])
    client = client_for(world["viewer"])

    for url in grids(world):
        html = client.get(url).content.decode()
        assert "Zeppelin over fields" in html, url  # the card itself is still there
        assert save_link(world["blocked_pin"]) not in html, url
        if "board" not in url:
            assert save_link(world["other_pin"]) in html, url  # others' pins keep "Save"


def test_cards_keep_save_without_a_block(client_for, world):
    BlockFactory(blocker=world["blocked_owner"], blocked=UserFactory())  # someone else's block
    client = client_for(world["viewer"])
    for url in grids(world):
        assert save_link(world["blocked_pin"]) in client.get(url).content.decode(), url


def test_the_viewer_sees_save_on_their_own_pins_whoever_they_blocked(client_for, world):
    BlockFactory(blocker=world["blocked_owner"], blocked=world["viewer"])
    html = client_for(world["blocked_owner"]).get(reverse("search") + "?q=zeppelin").text
    assert save_link(world["blocked_pin"]) in html
    assert save_link(world["other_pin"]) in html
