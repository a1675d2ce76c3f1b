"""An owner makes a board secret; another person can then neither open, search nor see its pins."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from tests.factories import BoardFactory, PinFactory, PinImageFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Blush peony bouquet"


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password:", exact=True).fill(settings.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_label("Your account")).to_be_visible()


def log_out(page: Page) -> None:
    page.get_by_label("Your account").click()
    page.get_by_role("button", name="Log out").click()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")
    ).to_be_visible()


def pin_link(page: Page, pin):
    return page.get_by_role("main").locator(f'a[href="/pins/{pin.pk}/"]')


def test_a_board_made_secret_disappears_for_everyone_else(page: Page, live_server):
    anna = UserFactory(username="anna")
    UserFactory(username="ben")
    image = PinImageFactory()
    board = BoardFactory(owner=anna, name="Wedding ideas")
    secret_pin = PinFactory(board=board, image=image, title=TITLE)
    # A public pin matching the same words: proves that search and the feed do work for Ben.
    public_pin = PinFactory(image=image, title=f"{TITLE} from the market")

    log_in(page, "anna")
    page.goto(f"/boards/{board.pk}/")
    expect(page.get_by_role("heading", name="Wedding ideas")).to_be_visible()
    expect(pin_link(page, secret_pin).first).to_be_visible()
    page.get_by_role("link", name="Edit board").click()
    page.get_by_label("Keep this board secret").check()
    page.get_by_role("button", name="Save").click()
    expect(page).to_have_url(re.compile(rf"/boards/{board.pk}/$"))
    expect(page.get_by_role("heading", name="Wedding ideas")).to_contain_text("Secret")
    log_out(page)

    log_in(page, "ben")
    response = page.goto(f"/boards/{board.pk}/")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_text(TITLE)).to_have_count(0)

    page.goto("/")
    search_box = page.get_by_role("search").get_by_label("Search pins, boards and people")
    search_box.fill(TITLE)
    search_box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=Blush\+peony\+bouquet$"))
    expect(page.get_by_role("heading", name=f"Results for “{TITLE}”")).to_be_visible()
    expect(pin_link(page, public_pin).first).to_be_visible()
    expect(pin_link(page, secret_pin)).to_have_count(0)
    expect(page.get_by_text("Wedding ideas")).to_have_count(0)

    page.goto("/")
    expect(pin_link(page, public_pin).first).to_be_visible()
    expect(pin_link(page, secret_pin)).to_have_count(0)
