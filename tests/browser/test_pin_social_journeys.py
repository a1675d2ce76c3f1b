"""Saving someone's pin through the board picker, and liking and commenting without a reload."""

import pytest
from playwright.sync_api import Page, expect

from pinboard.models import Board, Comment, Like, Pin
from tests.browser.helpers import log_in
from tests.factories import BoardFactory, PinFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def someones_pin(db):
    owner = UserFactory(username="ada", display_name="Ada")
    return PinFactory(board=BoardFactory(owner=owner, name="Sofas"), title="Blue velvet sofa")


def test_save_someones_pin_to_a_new_board_from_the_picker(page: Page, someones_pin):
    UserFactory(username="bram")
    log_in(page, "bram")
    page.goto(someones_pin.get_absolute_url())
    page.get_by_role("link", name="Save", exact=True).click()

    dialog = page.get_by_role("dialog", name="Save “Blue velvet sofa”")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Or save to a new board").fill("Living room")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("status")).to_contain_text("Saved to Living room")
    expect(page.locator("#toasts")).to_contain_text("Saved to Living room.")

    saved = Pin.objects.get(board__name="Living room")
    assert saved.saved_from == someones_pin
    assert Board.objects.get(name="Living room").owner.username == "bram"
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()

    page.goto(saved.get_absolute_url())
    expect(page.get_by_text("Saved from Ada")).to_be_visible()


def test_like_and_comment_inline_without_a_reload(page: Page, someones_pin):
    UserFactory(username="bram")
    log_in(page, "bram")
    page.goto(someones_pin.get_absolute_url())
    # A marker on the window survives only if the page is never reloaded.
    page.evaluate("window.__sameDocument = true")

    page.get_by_role("button", name="♡ Like").click()
    expect(page.get_by_role("button", name="♥ Liked")).to_be_visible()
    expect(page.get_by_text("1 like", exact=True)).to_be_visible()

    page.get_by_label("Add a comment").fill("Would this fit our hallway?")
    page.get_by_role("button", name="Post comment").click()
    expect(page.get_by_role("heading", name="1 comment")).to_be_visible()
    expect(page.get_by_text("Would this fit our hallway?")).to_be_visible()
    expect(page.get_by_label("Add a comment")).to_have_value("")

    page.get_by_role("button", name="Delete your comment").click()
    expect(page.get_by_role("heading", name="0 comments")).to_be_visible()

    assert page.evaluate("window.__sameDocument") is True
    assert Like.objects.filter(pin=someones_pin).count() == 1
    assert not Comment.objects.exists()
