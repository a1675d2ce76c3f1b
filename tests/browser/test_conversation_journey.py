"""In a conversation: reply to a pin card inline, save the pin from the card, and the sender sees
the reply quoting the pin; the composer sends on Enter and breaks lines on Shift+Enter."""

import pytest
from playwright.sync_api import Browser, Page, expect

from messaging import services
from messaging.models import Message
from messaging.services import Attachment
from pinboard.models import Pin
from tests.browser.helpers import log_in
from tests.factories import BoardFactory, PinFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def pin_sent_to_bea_and_cy(db):
    """Ada has sent her pin to Bea and Cy; Bea has a board of her own."""
    ada = UserFactory(username="ada", display_name="Ada Archer")
    bea = UserFactory(username="bea", display_name="Bea Baker")
    cy = UserFactory(username="cy", display_name="Cy Clark")
    BoardFactory(owner=bea, name="Living room")
    pin = PinFactory(board=BoardFactory(owner=ada, name="Sofas"), title="Blue velvet sofa")
    sent = services.conversation_send(
        sender=ada,
        recipients=[bea, cy],
        text="For the living room?",
        attachment=Attachment(pin=pin),
    )
    return sent


def test_reply_to_a_pin_card_and_save_the_pin_then_the_sender_sees_the_quote(
    page: Page, browser: Browser, live_server, pin_sent_to_bea_and_cy
):
    sent = pin_sent_to_bea_and_cy
    conversation_url = f"/messages/{sent.conversation_id}/"

    log_in(page, "bea")
    page.goto(conversation_url)
    expect(page.get_by_role("heading", name="Ada Archer, Cy Clark")).to_be_visible()
    # A marker on the window survives only if the page is never reloaded.
    page.evaluate("window.__sameDocument = true")

    card_message = page.locator(f"#message-{sent.pk}")
    expect(card_message).to_contain_text("Blue velvet sofa")
    card_message.get_by_text("Reply", exact=True).click()
    card_message.get_by_label("Your reply").fill("Would it fit by the window?")
    card_message.get_by_role("button", name="Send reply").click()

    reply = page.locator("#message-list > li.message").last
    expect(reply).to_contain_text("Would it fit by the window?")
    expect(reply.locator(".quote")).to_contain_text("Blue velvet sofa")
    # The reply box is fresh and closed again.
    expect(card_message.get_by_label("Your reply")).to_be_hidden()

    card_message.get_by_role("link", name="Save “Blue velvet sofa”").click()
    dialog = page.get_by_role("dialog", name="Save “Blue velvet sofa”")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Board:", exact=True).select_option(label="Living room")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog.get_by_role("status")).to_contain_text("Saved to Living room")
    dialog.get_by_role("button", name="Done").click()
    expect(dialog).to_be_hidden()

    assert page.evaluate("window.__sameDocument") is True
    saved = Pin.objects.get(board__name="Living room")
    assert saved.saved_from_id == sent.pin_id
    assert Message.objects.get(text="Would it fit by the window?").reply_to_id == sent.pk

    ada_context = browser.new_context(base_url=live_server.url)
    try:
        ada_page = ada_context.new_page()
        ada_page.set_default_timeout(10_000)
        log_in(ada_page, "ada")
        ada_page.goto(conversation_url)
        ada_reply = ada_page.locator("li.message", has_text="Would it fit by the window?")
        expect(ada_reply).to_contain_text("Bea Baker")
        expect(ada_reply.locator(".quote")).to_contain_text("Blue velvet sofa")
    finally:
        ada_context.close()


def test_enter_sends_and_shift_enter_starts_a_new_line(page: Page, pin_sent_to_bea_and_cy):
    sent = pin_sent_to_bea_and_cy
    log_in(page, "cy")
    page.goto(f"/messages/{sent.conversation_id}/")
    page.evaluate("window.__sameDocument = true")

    composer = page.get_by_label("Write a message")
    composer.click()
    composer.type("First line")
    composer.press("Shift+Enter")
    composer.type("Second line")
    expect(composer).to_have_value("First line\nSecond line")
    expect(page.locator("#composer-count")).to_have_text("22 / 2,000")
    composer.press("Enter")

    first = page.locator("#message-list > li.message").last
    expect(first).to_contain_text("Second line")
    assert first.locator(".message__text").inner_text() == "First line\nSecond line"
    composer = page.get_by_label("Write a message")
    expect(composer).to_have_value("")
    expect(composer).to_be_focused()

    # The fresh composer carries a new idempotency key: the next message is a new one.
    composer.type("And another")
    composer.press("Enter")
    expect(page.locator("#message-list > li.message").last).to_contain_text("And another")

    assert page.evaluate("window.__sameDocument") is True
    texts = list(Message.objects.filter(sender__username="cy").values_list("text", flat=True))
    assert texts == ["First line\nSecond line", "And another"]
