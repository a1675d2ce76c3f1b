"""@mentions in a real browser: the composer suggests the conversation's people as you type
"@", chosen with the keyboard; the person mentioned sees it highlighted."""

import pytest
from playwright.sync_api import Browser, Page, expect

from messaging.models import Message
from messaging.services import conversation_send
from tests.browser.helpers import log_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def group(db):
    ada = UserFactory(username="ada", display_name="Ada Archer")
    bea = UserFactory(username="bea", display_name="Bea Baker")
    ben = UserFactory(username="ben", display_name="Ben Brown")
    cy = UserFactory(username="cy", display_name="Cy Clark")
    UserFactory(username="bert", display_name="Bert Outsider")  # not in the conversation
    return conversation_send(sender=ada, recipients=[bea, ben, cy], text="Plans?").conversation


def test_ada_mentions_bea_with_the_keyboard_and_bea_sees_it(
    page: Page, browser: Browser, live_server, group
):
    page.set_viewport_size({"width": 320, "height": 640})  # the narrowest phone
    log_in(page, "ada")
    page.goto(f"/messages/{group.pk}/")
    box = page.get_by_role("combobox", name="Write a message")
    box.click()
    box.press_sequentially("Shall we ask @b")

    people = page.get_by_role("listbox", name="People to mention")
    expect(people).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(people.get_by_role("option")).to_have_text(["Bea Baker @bea", "Ben Brown @ben"])
    box_edge = people.bounding_box()
    assert box_edge["x"] >= 0
    assert box_edge["x"] + box_edge["width"] <= 320

    box.press_sequentially("e")  # "@be": still both; Cy and Bert (not in it) never show
    expect(people.get_by_role("option")).to_have_count(2)
    first = people.get_by_role("option", name="Bea Baker @bea")
    second = people.get_by_role("option", name="Ben Brown @ben")
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    box.press("ArrowDown")
    expect(second).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", second.get_attribute("id"))
    box.press("ArrowUp")
    expect(first).to_have_attribute("aria-selected", "true")
    box.press("Enter")  # chooses; it does not send

    expect(people).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_have_value("Shall we ask @bea ")
    expect(box).to_be_focused()
    assert not Message.objects.filter(text__startswith="Shall we").exists()

    box.press_sequentially("about the sofa? @c")
    expect(people.get_by_role("option")).to_have_text(["Cy Clark @cy"])
    box.press("Escape")  # closes the list only; the text stays as typed
    expect(people).to_be_hidden()
    expect(box).to_have_value("Shall we ask @bea about the sofa? @c")
    box.press_sequentially("y")
    expect(people).to_be_hidden()  # dismissed for this "@"
    box.press("Enter")  # sends

    sent = page.locator(".message--own").last
    expect(sent).to_contain_text("Shall we ask @bea about the sofa? @cy")
    expect(sent.locator("a.mention")).to_have_count(2)
    expect(sent.locator(".mention--me")).to_have_count(0)
    expect(box).to_have_value("")

    bea_context = browser.new_context(base_url=live_server.url)
    try:
        bea_page = bea_context.new_page()
        log_in(bea_page, "bea")
        bea_page.goto(f"/messages/{group.pk}/")
        message = bea_page.locator(".message", has_text="Shall we ask")
        mine = message.locator("a.mention--me")
        expect(mine).to_have_count(1)
        expect(mine.locator("mark")).to_have_text("@bea")
        expect(mine).to_have_accessible_name("@bea (you)")
        expect(mine).to_have_attribute("href", "/users/bea/")
        # Cy's mention is a plain link for Bea.
        expect(message.locator("a.mention:not(.mention--me)")).to_have_text("@cy")
    finally:
        bea_context.close()
