"""Message requests and blocks in a real browser: a stranger's message waits in Requests until
it is accepted, then it is an ordinary conversation; a blocked person cannot send."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from accounts.services import user_block
from messaging.models import Message
from messaging.services import conversation_send
from tests.browser.helpers import log_in
from tests.factories import BoardFactory, PinFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def al_and_bea(db):
    """Al has a pin; Bea lets only people she follows message her, and doesn't follow Al."""
    al = UserFactory(username="al", display_name="Al Stranger")
    bea = UserFactory(
        username="bea", display_name="Bea", message_privacy=User.MessagePrivacy.FOLLOWING
    )
    pin = PinFactory(board=BoardFactory(owner=al, name="Lamps"), title="Brass lamp")
    return al, bea, pin


def send_pin(page: Page, pin, to: str, name: str, note: str):
    page.goto(pin.get_absolute_url())
    page.get_by_role("link", name="Send", exact=True).click()
    dialog = page.get_by_role("dialog", name=f"Send “{pin.title}”")
    dialog.get_by_label("Search people").press_sequentially(to, delay=40)
    dialog.get_by_label(name).check()
    dialog.get_by_label("Add a note").fill(note)
    dialog.get_by_role("button", name="Send", exact=True).click()
    return dialog


def test_a_strangers_message_waits_in_requests_and_is_accepted(
    page: Page, browser: Browser, live_server, al_and_bea
):
    _, bea, pin = al_and_bea
    al_context = browser.new_context(base_url=live_server.url)
    al_page = al_context.new_page()
    al_page.set_default_timeout(10_000)
    log_in(al_page, "al")
    send_pin(al_page, pin, "bea", "Bea", "For your desk?")
    # Al's side looks like any sent conversation.
    expect(al_page.locator("#toasts")).to_contain_text("Sent to Bea.")

    log_in(page, "bea")
    page.goto("/messages/")
    # Not in the inbox, not in the unread badge: in the Requests tab, with its count.
    expect(page.get_by_text("No messages yet.")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Messages", exact=True)).to_be_visible()
    expect(page.locator("#nav-unread .nav-badge")).to_have_count(0)
    # The bell says a request came (it names no content: the Requests tab does).
    expect(page.locator("#nav-bell .nav-badge")).to_have_text("1")
    requests_tab = page.get_by_role("link", name=re.compile(r"^Requests 1 waiting"))
    requests_tab.click()

    expect(page).to_have_url(re.compile(r"/messages/requests/$"))
    row = page.get_by_role("list", name="Message requests").get_by_role("listitem")
    expect(row).to_contain_text("Al Stranger sent a pin: Brass lamp")
    row.get_by_role("link", name="Al Stranger").click()

    # Read-only: the card and note are there, the composer is not; three answers instead.
    expect(page.get_by_role("heading", name="Al Stranger wants to message you")).to_be_visible()
    expect(page.get_by_text("For your desk?")).to_be_visible()
    expect(page.get_by_label("Write a message")).to_have_count(0)
    page.get_by_role("button", name="Accept").click()

    expect(page.locator("#toasts")).to_contain_text("Request accepted. You can reply now.")
    composer = page.get_by_label("Write a message")
    composer.fill("Love it, thanks!")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#message-list")).to_contain_text("Love it, thanks!")
    assert Message.objects.filter(sender=bea, text="Love it, thanks!").exists()

    # Now an ordinary conversation in the inbox, and no request waiting.
    page.goto("/messages/")
    inbox_row = page.get_by_role("list", name="Conversations").get_by_role("listitem")
    expect(inbox_row).to_contain_text("You: Love it, thanks!")
    expect(page.get_by_role("link", name="Requests", exact=True)).to_be_visible()

    # Al sees the reply in his conversation, as with anyone.
    al_page.goto("/messages/")
    expect(al_page.get_by_role("list", name="Conversations")).to_contain_text(
        "Bea: Love it, thanks!"
    )
    al_context.close()


def test_a_blocked_person_cannot_send(page: Page, al_and_bea):
    al, bea, pin = al_and_bea
    bea.message_privacy = User.MessagePrivacy.EVERYONE
    bea.save()
    chat = conversation_send(sender=al, recipients=[bea], text="Hi Bea").conversation
    log_in(page, "al")
    page.goto(f"/messages/{chat.pk}/")
    expect(page.get_by_text("Hi Bea")).to_be_visible()

    # Bea blocks Al while his conversation page is open.
    user_block(blocker=bea, blocked=al)

    page.get_by_label("Write a message").fill("Are you there?")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("You can't message Bea.")
    expect(page.get_by_label("Write a message")).to_have_value("Are you there?")

    # Nor from the Send dialog on a pin: its people search doesn't even list her.
    page.goto(pin.get_absolute_url())
    page.get_by_role("link", name="Send", exact=True).click()
    dialog = page.get_by_role("dialog", name=f"Send “{pin.title}”")
    dialog.get_by_label("Search people").press_sequentially("bea", delay=40)
    expect(dialog.get_by_text("Nobody else matches “bea”.")).to_be_visible()
    expect(dialog.get_by_label("Bea")).to_have_count(0)

    # And the conversation is gone for him.
    response = page.goto(f"/messages/{chat.pk}/")
    assert response.status == 404
    assert not Message.objects.exclude(text="Hi Bea").exists()
