"""The inbox in a real browser: the nav's unread badge, the rows, and replying from a row."""

import re

import pytest
from playwright.sync_api import Page, expect

from messaging.models import Message
from messaging.services import Attachment, conversation_send
from tests.browser.helpers import log_in
from tests.factories import BoardFactory, PinFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sent_pin(db):
    """Ada sent her pin to Bram and Chen, with a note."""
    ada = UserFactory(username="ada", display_name="Ada")
    bram = UserFactory(username="bram", display_name="Bram")
    chen = UserFactory(username="chen", display_name="Chen")
    pin = PinFactory(board=BoardFactory(owner=ada, name="Sofas"), title="Blue velvet sofa")
    return conversation_send(
        sender=ada,
        recipients=[bram, chen],
        text="For the living room?",
        attachment=Attachment(pin=pin),
    )


def test_unread_badge_leads_to_the_inbox_row(page: Page, sent_pin):
    log_in(page, "bram")
    page.goto("/")

    messages_link = page.get_by_role("link", name="Messages, 1 unread")
    expect(messages_link).to_be_visible()
    expect(messages_link.locator(".nav-badge")).to_have_text("1")
    messages_link.click()

    expect(page).to_have_url(re.compile(r"/messages/$"))
    expect(page.get_by_role("heading", name="Messages", level=1)).to_be_visible()
    row = page.locator(f"#conversation-{sent_pin.conversation_id}")
    expect(row.get_by_role("heading", name="Ada and Chen")).to_be_visible()
    expect(row).to_contain_text("Ada sent a pin: Blue velvet sofa")
    expect(row.locator(".unread-badge")).to_have_text("1 unread")
    expect(row.locator("time")).to_have_text("just now")


def test_quick_reply_from_the_inbox_without_a_reload(page: Page, sent_pin):
    log_in(page, "chen")
    page.goto("/messages/")
    # A marker on the window survives only if the page is never reloaded.
    page.evaluate("window.__sameDocument = true")
    row = page.locator(f"#conversation-{sent_pin.conversation_id}")
    expect(row).to_contain_text("Ada sent a pin: Blue velvet sofa")
    expect(page.get_by_role("link", name="Messages, 1 unread")).to_be_visible()

    row.get_by_label("Reply to Ada and Bram").fill("Yes! It would fit by the window.")
    row.get_by_role("button", name="Reply").click()

    expect(row).to_contain_text("You: Yes! It would fit by the window.")
    expect(row.get_by_label("Reply to Ada and Bram")).to_have_value("")
    expect(row.locator(".unread-badge")).to_have_count(0)
    # Replying read the conversation: the nav badge is gone too, and a toast confirms.
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Messages", exact=True)).to_be_visible()
    expect(page.locator("#toasts")).to_contain_text("Reply sent.")
    assert page.evaluate("window.__sameDocument") is True

    reply = Message.objects.filter(conversation_id=sent_pin.conversation_id).latest("id")
    assert (reply.sender.username, reply.text) == ("chen", "Yes! It would fit by the window.")


def test_refused_quick_reply_keeps_the_text_and_says_why(page: Page, sent_pin):
    log_in(page, "chen")
    page.goto("/messages/")
    row = page.locator(f"#conversation-{sent_pin.conversation_id}")
    box = row.get_by_label("Reply to Ada and Bram")

    box.fill("   ")
    row.get_by_role("button", name="Reply").click()

    expect(row.get_by_text("Write a reply first.")).to_be_visible()
    expect(row.get_by_label("Reply to Ada and Bram")).to_have_value("   ")
    assert Message.objects.filter(conversation_id=sent_pin.conversation_id).count() == 1
