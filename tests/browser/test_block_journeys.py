"""Blocking, in a real browser: from a profile, what the blocked person can no longer do, unblocking
from settings, and a quick reply from an inbox opened before the block (it says why and keeps
the text)."""

import pytest
from playwright.sync_api import Page, expect

from accounts.models import Block, Follow
from accounts.services import user_block
from messaging.models import Message
from messaging.services import conversation_send
from pinboard.models import Comment
from tests.browser.helpers import log_in
from tests.factories import BoardFactory, CommentFactory, FollowFactory, PinFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ada_and_bram(db):
    """Bram follows Ada and once commented on her pin."""
    ada = UserFactory(username="ada", display_name="Ada")
    bram = UserFactory(username="bram", display_name="Bram")
    pin = PinFactory(board=BoardFactory(owner=ada, name="Sofas"), title="Blue velvet sofa")
    CommentFactory(pin=pin, author=bram, text="Lovely colour")
    FollowFactory(follower=bram, followee=ada)
    return ada, bram, pin


def test_blocked_person_cannot_follow_or_comment(page: Page, ada_and_bram):
    ada, bram, pin = ada_and_bram

    # Ada blocks Bram from his profile, after a confirmation that says what blocking does.
    log_in(page, "ada")
    page.goto(bram.get_absolute_url())
    page.get_by_role("link", name="Block Bram").click()
    dialog = page.get_by_role("dialog", name="Block Bram?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("They won't be told.")
    dialog.get_by_role("button", name="Block Bram").click()
    expect(page.locator("#toasts")).to_contain_text("You blocked Bram.")
    expect(page.get_by_role("button", name="Unblock Bram")).to_be_visible()
    expect(page.get_by_role("button", name="Follow")).to_have_count(0)
    assert Block.objects.filter(blocker=ada, blocked=bram).exists()
    assert not Follow.objects.exists()

    # Bram sees Ada's public profile without a follow button, and her pin without a comment form.
    page.context.clear_cookies()
    log_in(page, "bram")
    page.goto(ada.get_absolute_url())
    expect(page.get_by_role("heading", name="Ada", exact=True)).to_be_visible()
    expect(page.get_by_text("Blue velvet sofa")).to_be_visible()
    expect(page.get_by_role("button", name="Follow")).to_have_count(0)
    expect(page.get_by_role("link", name="Send profile")).to_have_count(0)

    page.goto(pin.get_absolute_url())
    expect(page.get_by_text("Lovely colour")).to_be_visible()  # his earlier comment stays
    expect(page.get_by_label("Add a comment")).to_have_count(0)
    expect(page.get_by_role("button", name="Post comment")).to_have_count(0)
    expect(page.get_by_role("link", name="Save", exact=True)).to_have_count(0)
    assert Comment.objects.count() == 1


def test_unblock_from_settings(page: Page, ada_and_bram):
    ada, bram, _ = ada_and_bram
    Block.objects.create(blocker=ada, blocked=bram)

    log_in(page, "ada")
    page.goto("/settings/blocked/")
    expect(page.get_by_role("link", name="Bram")).to_be_visible()
    page.get_by_role("button", name="Unblock Bram").click()
    expect(page.locator("#toasts")).to_contain_text("You unblocked Bram.")
    expect(page.get_by_text("You haven't blocked anyone.")).to_be_visible()
    assert not Block.objects.exists()


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
