"""Failed htmx requests never lose what was typed: a message over the rate limit, a stale CSRF
token (signed in or out in another tab) and a server error each show an error toast and leave the
text in the composer, without reloading the page."""

import pytest
from playwright.sync_api import Page, expect

from messaging import services
from messaging.models import Message
from tests.browser.helpers import log_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def conversation(db):
    ada = UserFactory(username="ada", display_name="Ada Archer")
    bea = UserFactory(username="bea", display_name="Bea Baker")
    return services.conversation_send(sender=ada, recipients=[bea], text="Hi Bea").conversation


def open_conversation(page: Page, conversation) -> None:
    log_in(page, "ada")
    page.goto(f"/messages/{conversation.pk}/")
    expect(page.get_by_role("heading", name="Bea Baker")).to_be_visible()
    # A marker on the window survives only if the page is never reloaded.
    page.evaluate("window.__sameDocument = true")


def send(page: Page, text: str) -> None:
    page.get_by_label("Write a message").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def expect_kept(page: Page, text: str) -> None:
    expect(page.get_by_label("Write a message")).to_have_value(text)
    assert page.evaluate("window.__sameDocument") is True


def test_a_message_over_the_rate_limit_keeps_the_text_and_says_when_to_retry(
    page: Page, live_server, settings, conversation
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "message": (1, 60)}
    open_conversation(page, conversation)

    send(page, "First one goes through")
    expect(page.locator("#message-list")).to_contain_text("First one goes through")
    send(page, "Second one is too soon")

    toast = page.locator(".toast--error")
    expect(toast).to_contain_text("You're doing that too often. Try again in")
    expect(toast).to_have_count(1)  # the server's message only, not a generic one as well
    expect_kept(page, "Second one is too soon")
    assert not Message.objects.filter(text="Second one is too soon").exists()


def test_a_stale_csrf_token_says_the_session_changed_and_keeps_the_text(
    page: Page, live_server, conversation
):
    open_conversation(page, conversation)
    # What signing in or out in another tab does: the token this page holds no longer matches.
    page.context.add_cookies([{"name": "csrftoken", "value": "x" * 32, "url": live_server.url}])

    send(page, "Typed before the session changed")

    expect(page.locator(".toast--error")).to_contain_text(
        "Your session changed — reload the page to continue."
    )
    expect_kept(page, "Typed before the session changed")
    assert not Message.objects.filter(text="Typed before the session changed").exists()


def test_a_server_error_shows_a_generic_message_and_keeps_the_text(
    page: Page, live_server, conversation
):
    open_conversation(page, conversation)
    # The server fails while handling the send (here: the request is answered with a 500, the
    # way a crashed view or a restarting database answers).
    page.route(
        "**/send/",
        lambda route: route.fulfill(status=500, body="Server Error", content_type="text/html"),
    )

    send(page, "Typed before the crash")

    expect(page.locator(".toast--error")).to_contain_text("Something went wrong")
    expect_kept(page, "Typed before the crash")
