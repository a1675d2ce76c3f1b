"""A moderator signs in to the admin through the site's login, hides a pin with the changelist
action; a visitor can no longer open it, its owner still can, with the notice."""

import re

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from tests.factories import PinFactory, PinImageFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Neon sign of a flamingo"


def test_moderator_hides_a_pin_from_the_admin(page: Page, live_server, browser):
    UserFactory(username="mod", is_staff=True, is_superuser=True)
    owner = UserFactory(username="fran")
    pin = PinFactory(owner=owner, image=PinImageFactory(), title=TITLE)

    # The admin's login is the site's: the same form, then back to the admin.
    page.goto("/admin/pinboard/pin/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next="))
    page.get_by_label("Username or email").fill("mod")
    page.get_by_label("Password:", exact=True).fill(settings.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(r"/admin/pinboard/pin/$"))

    page.get_by_role("row", name=re.compile(TITLE)).get_by_role("checkbox").check()
    page.get_by_label("Action:").select_option("hide")
    page.get_by_role("button", name="Run").or_(page.get_by_role("button", name="Go")).click()
    expect(page.get_by_text("Hid 1 pin.")).to_be_visible()

    visitor = browser.new_page(base_url=live_server.url)
    response = visitor.goto(f"/pins/{pin.pk}/")
    assert response is not None
    assert response.status == 404
    visitor.close()

    owner_page = browser.new_page(base_url=live_server.url)
    owner_page.goto("/accounts/login/")
    owner_page.get_by_label("Username or email").fill("fran")
    owner_page.get_by_label("Password:", exact=True).fill(settings.DEMO_PASSWORD)
    owner_page.get_by_role("button", name="Sign In").click()
    owner_page.goto(f"/pins/{pin.pk}/")
    expect(owner_page.get_by_role("heading", name=TITLE)).to_be_visible()
    expect(owner_page.get_by_text("only you can see it")).to_be_visible()
    owner_page.close()
