"""Account deletion leaves the other person's conversation readable (issue #7)."""

import re

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from messaging.services import conversation_send, message_send
from tests.browser.helpers import log_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_account_deletion_leaves_the_other_persons_conversation_readable(page: Page):
    ada = UserFactory(username="ada", display_name="Ada")
    bram = UserFactory(username="bram", display_name="Bram")
    first = conversation_send(sender=ada, recipients=[bram], text="Shall we pick the sofa?")
    message_send(conversation=first.conversation, sender=bram, text="Yes, the blue one")
    conversation_url = f"/messages/{first.conversation_id}/"

    # Bram deletes his account: a wrong password first (nothing happens), then his own.
    log_in(page, "bram")
    page.goto("/settings/delete/")
    page.get_by_label("Your password").fill("not my password")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("That is not your password. Nothing was deleted.")).to_be_visible()
    assert User.objects.filter(username="bram").exists()

    page.get_by_label("Your password").fill("pinboard-demo")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.locator("#toasts")).to_contain_text("Your account has been deleted.")
    expect(page).to_have_url(re.compile(r"^https?://[^/]+/$"))  # the home page
    expect(page.get_by_label("Your account")).to_have_count(0)  # signed out
    assert not User.objects.filter(username="bram").exists()

    # Ada still reads the conversation, Bram's message signed "deleted user".
    page.context.clear_cookies()
    log_in(page, "ada")
    page.goto(conversation_url)
    expect(page.get_by_text("Shall we pick the sofa?")).to_be_visible()
    bram_message = page.locator(".message", has_text="Yes, the blue one")
    expect(bram_message).to_be_visible()
    expect(bram_message).to_contain_text("deleted user")
