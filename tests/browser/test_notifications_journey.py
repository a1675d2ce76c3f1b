"""The bell, live: Bea saves Ada's pin in her browser; Ada's open page shows the count without a
reload, and the dropdown (opened from the keyboard) shows the grouped line. Runs on a real ASGI
server (uvicorn), since the count arrives over the event stream."""

import pytest
from playwright.sync_api import Browser, Page, expect

from messaging.models import NotificationKind
from messaging.notifications import notify
from pinboard.services import pin_save
from tests.browser.helpers import log_in
from tests.factories import BoardFactory, PinFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("asgi_settings")]


@pytest.fixture
def browser_context_args(browser_context_args, asgi_server):
    return {**browser_context_args, "base_url": asgi_server}


@pytest.fixture
def bea_page(browser: Browser, asgi_server):
    context = browser.new_context(base_url=asgi_server)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def test_a_save_lights_the_bell_live_and_the_dropdown_groups_it(
    page: Page, bea_page: Page, asgi_server
):
    ada = UserFactory(username="ada", display_name="Ada")
    UserFactory(username="bea", display_name="Bea")
    pin = PinFactory(board=BoardFactory(owner=ada, name="Home"), title="Blue sofa")

    log_in(page, "ada")
    bell = page.locator("#bell-toggle")
    expect(bell).to_have_accessible_name("Notifications")
    expect(page.locator("#nav-bell .nav-badge")).to_have_count(0)
    page.evaluate("window.__sameDocument = true")

    # Bea saves Ada's pin, in her own browser.
    log_in(bea_page, "bea")
    bea_page.goto(pin.get_absolute_url())
    bea_page.get_by_role("link", name="Save", exact=True).click()
    dialog = bea_page.get_by_role("dialog", name="Save “Blue sofa”")
    dialog.get_by_label("Or save to a new board").fill("Ideas")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("status")).to_contain_text("Saved to Ideas")

    # Ada's open page: the count arrives live.
    expect(page.locator("#nav-bell .nav-badge")).to_have_text("1")
    expect(bell).to_have_accessible_name("Notifications, 1 new")
    assert page.evaluate("window.__sameDocument") is True

    # Cy saves it too: the same unread line grows.
    cy = UserFactory(display_name="Cy")
    pin_save(user=cy, pin=pin, board=BoardFactory(owner=cy))

    # Ada focuses the bell from the keyboard and opens it.
    bell.focus()
    page.keyboard.press("Enter")
    expect(bell).to_have_attribute("aria-expanded", "true")
    panel = page.locator("#bell-panel")
    expect(panel.get_by_role("link", name="Cy and 1 other saved Blue sofa")).to_be_visible()
    expect(panel.get_by_role("link", name="See all notifications")).to_be_visible()
    # Seen: the count goes, focus stays on the bell.
    expect(page.locator("#nav-bell .nav-badge")).to_have_count(0)
    expect(bell).to_be_focused()
    assert page.evaluate("window.__sameDocument") is True

    # Escape closes it and keeps focus on the bell; a new save by someone else comes in live.
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(bell).to_have_attribute("aria-expanded", "false")
    expect(bell).to_be_focused()
    dee = UserFactory(display_name="Dee")
    notify(kind=NotificationKind.PIN_LIKED, recipient_id=ada.pk, actor_id=dee.pk, pin=pin)
    expect(page.locator("#nav-bell .nav-badge")).to_have_text("1")
    expect(bell).to_be_focused()

    # "See all" works without the dropdown too: the bell is a link to the page.
    page.goto("/notifications/")
    expect(page.get_by_role("link", name="Dee liked Blue sofa")).to_be_visible()
    expect(page.get_by_role("link", name="Cy and 1 other saved Blue sofa")).to_be_visible()
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_text("All notifications marked as read.")).to_be_visible()


def test_without_javascript_the_bell_is_a_link_to_the_page(browser: Browser, asgi_server):
    ada = UserFactory(username="ada", display_name="Ada")
    pin = PinFactory(board=BoardFactory(owner=ada), title="Lamp")
    notify(
        kind=NotificationKind.PIN_LIKED,
        recipient_id=ada.pk,
        actor_id=UserFactory(display_name="Bo").pk,
        pin=pin,
    )
    context = browser.new_context(base_url=asgi_server, java_script_enabled=False)
    page = context.new_page()
    log_in(page, "ada")
    page.get_by_role("link", name="Notifications, 1 new").click()
    expect(page).to_have_url(f"{asgi_server}/notifications/")
    expect(page.get_by_role("link", name="Bo liked Lamp")).to_be_visible()
    context.close()


def test_the_dropdown_fits_a_320px_screen(page: Page, asgi_server):
    ada = UserFactory(username="ada", display_name="Ada")
    pin = PinFactory(board=BoardFactory(owner=ada), title="A rather long pin title " * 4)
    notify(
        kind=NotificationKind.PIN_COMMENTED,
        recipient_id=ada.pk,
        actor_id=UserFactory(display_name="Bo").pk,
        pin=pin,
    )
    page.set_viewport_size({"width": 320, "height": 640})
    log_in(page, "ada")
    page.locator("#bell-toggle").click()
    panel = page.locator("#bell-panel")
    expect(panel.get_by_role("link", name="See all notifications")).to_be_visible()
    box = panel.bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 320
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    # A click elsewhere closes it.
    page.locator("main").click(position={"x": 5, "y": 300})
    expect(panel).to_be_hidden()
