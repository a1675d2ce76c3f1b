"""Two people in one conversation, each in their own browser, on a real ASGI server (uvicorn):
typing shows, a message appears without a reload, and the nav badge updates on another page.

pytest-django's live_server is WSGI and cannot hold an event stream open, so these journeys run
against a uvicorn subprocess serving the test database.
"""

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.models import User
from messaging.services import conversation_send, message_delete, message_edit
from tests.browser.helpers import log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("asgi_settings")]


@pytest.fixture
def second_page(browser: Browser, asgi_server):
    context = browser.new_context(base_url=asgi_server)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def browser_context_args(browser_context_args, asgi_server):
    return {**browser_context_args, "base_url": asgi_server}


def test_a_message_typing_and_the_badge_arrive_without_a_reload(
    page: Page, second_page: Page, asgi_server
):
    ada = UserFactory(username="ada", display_name="Ada")
    bram = UserFactory(username="bram", display_name="Bram")
    first = conversation_send(sender=ada, recipients=[bram], text="Dinner on Friday?")
    conversation_url = f"/messages/{first.conversation_id}/"

    # A has the conversation open; B too, in another browser.
    log_in(page, "ada")
    page.goto(conversation_url)
    page.evaluate("window.__sameDocument = true")
    log_in(second_page, "bram")
    second_page.goto(conversation_url)

    # B types: A sees "Bram is typing…".
    second_page.get_by_label("Write a message").press_sequentially("Sounds good", delay=30)
    expect(page.get_by_text("Bram is typing…")).to_be_visible()

    # B sends: it appears in A's conversation, without a reload.
    second_page.get_by_label("Write a message").press("Enter")
    expect(page.locator("#message-list").get_by_text("Sounds good")).to_be_visible()
    assert page.evaluate("window.__sameDocument") is True

    # A is elsewhere now; B's next message lights up A's nav badge there.
    page.goto("/")
    expect(page.locator("#nav-unread .nav-badge")).to_have_count(0)
    page.evaluate("window.__sameDocument = true")
    second_page.get_by_label("Write a message").fill("See you at 8")
    second_page.get_by_label("Write a message").press("Enter")
    expect(page.locator("#nav-unread .nav-badge")).to_have_text("1")
    assert page.evaluate("window.__sameDocument") is True


def test_reading_clears_the_badge_in_other_tabs_and_edits_update_in_place(page: Page, asgi_server):
    ada = UserFactory(username="ada", display_name="Ada")
    bram = UserFactory(username="bram", display_name="Bram")
    sent = conversation_send(sender=bram, recipients=[ada], text="Dinner on Fridy?")

    log_in(page, "ada")
    expect(page.locator("#nav-unread .nav-badge")).to_have_text("1")

    # Ada opens the conversation in a second tab: the first tab's badge clears by itself.
    other_tab = page.context.new_page()
    other_tab.goto(f"/messages/{sent.conversation_id}/")
    expect(page.locator("#nav-unread .nav-badge")).to_have_count(0)

    # Bram fixes his typo, then thinks better of it: Ada's open tab follows, in place.
    message = other_tab.locator(f'[data-message-id="{sent.pk}"]')
    message_edit(message=sent, editor=bram, text="Dinner on Friday?")
    expect(message).to_contain_text("Dinner on Friday?")
    expect(message).to_contain_text("edited")
    message_delete(message=sent, user=bram)
    expect(message).to_contain_text("message deleted")
    expect(message).not_to_contain_text("Dinner")


def test_declining_a_request_clears_the_requests_count_in_other_tabs(page: Page, asgi_server):
    al = UserFactory(username="al", display_name="Al")
    bea = UserFactory(
        username="bea", display_name="Bea", message_privacy=User.MessagePrivacy.NOBODY
    )
    request = conversation_send(sender=al, recipients=[bea], text="Hi")

    # Bea has her inbox open, its Requests tab saying one waits.
    log_in(page, "bea")
    page.goto("/messages/")
    requests_tab = page.get_by_role("navigation", name="Messages and requests")
    expect(requests_tab.locator("#requests-count")).to_have_text("1 waiting")
    page.evaluate("window.__sameDocument = true")

    # In another tab she opens the request and declines it.
    other_tab = page.context.new_page()
    other_tab.goto(f"/messages/{request.conversation_id}/")
    other_tab.get_by_role("button", name="Decline").click()
    expect(other_tab.locator("#toasts")).to_contain_text("Request declined.")

    # The first tab's count clears by itself, without a reload.
    expect(requests_tab.locator("#requests-count")).to_have_text("")
    assert page.evaluate("window.__sameDocument") is True
