"""Sending a pin from its page through the Send dialog: picking people with the live search, a
note with its counter, the toast that links to the conversation; and a secret pin refused for a
stranger, with the invitation offered to the board's owner."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from messaging.models import Conversation, Message
from pinboard.models import BoardMember
from tests.browser.helpers import log_in
from tests.factories import BoardFactory, PinFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ada(db):
    return UserFactory(username="ada", display_name="Ada Archer")


def open_send_dialog(page: Page, pin, title: str):
    page.goto(pin.get_absolute_url())
    page.get_by_role("link", name="Send", exact=True).click()
    dialog = page.get_by_role("dialog", name=f"Send “{title}”")
    expect(dialog).to_be_visible()
    return dialog


def test_send_a_pin_to_two_people_with_a_note_and_follow_the_toast(page: Page, ada):
    UserFactory(username="bram", display_name="Bram Stoker")
    UserFactory(username="chen", display_name="Chen Wei")
    pin = PinFactory(board=BoardFactory(owner=ada, name="Sofas"), title="Blue velvet sofa")
    log_in(page, "ada")
    dialog = open_send_dialog(page, pin, "Blue velvet sofa")

    search = dialog.get_by_label("Search people")
    expect(search).to_be_focused()
    search.fill("bram")
    dialog.get_by_label("Bram Stoker").check()
    search.fill("chen")
    dialog.get_by_label("Chen Wei").check()
    # A new search keeps the people already picked.
    expect(dialog.get_by_label("Bram Stoker")).to_be_checked()

    note = dialog.get_by_label("Add a note")
    note.fill("For the living room?")
    expect(dialog.get_by_text("20 / 2,000 characters")).to_be_visible()
    dialog.get_by_role("button", name="Send", exact=True).click()

    toasts = page.locator("#toasts")
    expect(toasts).to_contain_text("Sent to Bram Stoker and Chen Wei.")
    expect(dialog).to_be_hidden()
    conversation = Conversation.objects.get()
    link = toasts.get_by_role("link", name="Open the conversation")
    expect(link).to_have_attribute("href", reverse("conversation", args=[conversation.pk]))

    members = set(conversation.participants.values_list("user__username", flat=True))
    assert members == {"ada", "bram", "chen"}
    message = conversation.messages.get()
    assert (message.kind, message.pin_id, message.text) == (
        Message.Kind.PIN,
        pin.pk,
        "For the living room?",
    )


def test_a_secret_pin_is_refused_for_a_stranger_and_the_owner_can_invite_them(page: Page, ada):
    UserFactory(username="dee", display_name="Dee Stranger")
    board = BoardFactory(owner=ada, name="Surprise party", is_secret=True)
    pin = PinFactory(board=board, title="The cake")
    log_in(page, "ada")
    dialog = open_send_dialog(page, pin, "The cake")

    dialog.get_by_label("Search people").press_sequentially("dee", delay=40)
    dialog.get_by_label("Dee Stranger").check()
    dialog.get_by_label("Add a note").fill("Keep it quiet")
    dialog.get_by_role("button", name="Send", exact=True).click()

    expect(dialog.get_by_role("alert")).to_contain_text(
        "Dee Stranger can't see this secret pin, so it was not sent."
    )
    # What was picked and typed is kept, and nothing was stored.
    expect(dialog.get_by_label("Dee Stranger")).to_be_checked()
    expect(dialog.get_by_label("Add a note")).to_have_value("Keep it quiet")
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()

    dialog.get_by_role("button", name="Invite them to “Surprise party” as collaborators").click()
    expect(
        dialog.get_by_text("Invited Dee Stranger to “Surprise party”. They can see it once they")
    ).to_be_visible()
    expect(dialog.get_by_label("Dee Stranger")).to_be_checked()
    invitation = BoardMember.objects.get(board=board)
    assert (invitation.user.username, invitation.status) == ("dee", BoardMember.Status.INVITED)
    assert not Message.objects.exists()


def test_without_javascript_the_send_page_searches_picks_and_sends(browser, live_server, ada):
    UserFactory(username="bram", display_name="Bram Stoker")
    UserFactory(username="chen", display_name="Chen Wei")
    pin = PinFactory(board=BoardFactory(owner=ada, name="Sofas"), title="Blue velvet sofa")
    context = browser.new_context(java_script_enabled=False, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    log_in(page, "ada")
    page.goto(pin.get_absolute_url())
    page.get_by_role("link", name="Send", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Send “Blue velvet sofa”")

    # Each search is a page load; the people picked before it stay picked.
    page.get_by_label("Search people").fill("bram")
    page.get_by_role("button", name="Search").click()
    page.get_by_label("Bram Stoker").check()
    page.get_by_label("Search people").fill("chen")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_label("Bram Stoker")).to_be_checked()
    page.get_by_label("Chen Wei").check()
    page.get_by_label("Add a note").fill("No scripts needed")
    page.get_by_role("button", name="Send", exact=True).click()

    conversation = Conversation.objects.get()
    expect(page).to_have_url(live_server.url + reverse("conversation", args=[conversation.pk]))
    assert conversation.messages.get().text == "No scripts needed"
    assert conversation.participants.count() == 3
    context.close()
