"""Blocks where the first pass missed them, in a real browser (issue #7 follow-ups): a quick
reply from an inbox opened before the block says why it can't be sent and keeps the text."""

import pytest
from playwright.sync_api import Page, expect

from accounts.services import user_block
from messaging.models import Message
from messaging.services import conversation_send
from tests.browser.helpers import log_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_quick_reply_after_being_blocked_says_why_and_keeps_the_text(page: Page):
    ada = UserFactory(username="ada", display_name="Ada")
    bram = UserFactory(username="bram", display_name="Bram")
    conversation_send(sender=bram, recipients=[ada], text="Dinner on Friday?")

    log_in(page, "ada")
    page.goto("/messages/")
    reply = page.get_by_label("Reply to Bram")
    expect(reply).to_be_visible()

    # Bram blocks Ada while her inbox is open; she answers from the row anyway.
    user_block(blocker=bram, blocked=ada)
    reply.fill("Yes, at 8!")
    page.get_by_role("button", name="Reply", exact=True).click()

    expect(page.locator("#toasts")).to_contain_text("You can't message Bram.")
    expect(reply).to_have_value("Yes, at 8!")
    assert not Message.objects.filter(text="Yes, at 8!").exists()
