"""Browsers reconnect well (issue #11): after the network drops for 30 s, or the event server
behind a proxy is down for a while, the open conversation catches up without a reload and streams
again; signed out elsewhere, the tab says so and stops asking. The browser reaches uvicorn through
a TCP forwarder in the test, which cuts the network."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from messaging.services import message_send
from tests.browser.forwarder import Forwarder
from tests.browser.helpers import log_in, message_texts

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("asgi_settings")]


@pytest.fixture
def forwarder(asgi_server):
    forwarder = Forwarder(urlsplit(asgi_server).port)
    yield forwarder
    forwarder.close()


@pytest.fixture
def browser_context_args(browser_context_args, forwarder):
    return {**browser_context_args, "base_url": forwarder.url}


class Streams:
    """Counts the EventSource connections the server answered with a stream."""

    def __init__(self, page: Page):
        self.page = page
        self.opened = 0
        page.on("response", self._on_response)

    def _on_response(self, response) -> None:
        if response.request.resource_type == "eventsource" and response.status == 200:
            self.opened += 1

    def wait_until_opened(self, count: int, timeout_ms: int = 60_000) -> None:
        waited = 0
        while self.opened < count:
            if waited > timeout_ms:
                raise AssertionError(f"{self.opened} streams opened, expected {count}")
            self.page.wait_for_timeout(100)
            waited += 100


def bea_streaming_in(page: Page, conversation) -> Streams:
    """Bea signed in, the conversation open and streaming; the document marked, so a reload
    would show."""
    log_in(page, "bea")
    streams = Streams(page)
    page.goto(f"/messages/{conversation.pk}/")
    streams.wait_until_opened(1)
    page.evaluate("window.__sameDocument = true")
    return streams


def assert_live_again_without_a_reload(page: Page, ada, conversation) -> None:
    """The page streams again, quietly (background work raises no alarms), in the same
    document it had before the drop."""
    expect(page.get_by_text("Reconnecting…")).to_be_hidden()
    message_send(sender=ada, conversation=conversation, text="And now, live")
    expect(message_texts(page, "And now, live")).to_have_count(1)
    expect(page.locator("#toasts .toast")).to_have_count(0)  # background work, no alarms
    assert page.evaluate("window.__sameDocument") is True


def test_after_a_30_second_network_drop_the_page_catches_up_without_a_reload(
    page: Page, forwarder: Forwarder, ada_and_bea
):
    ada, _, conversation = ada_and_bea
    streams = bea_streaming_in(page, conversation)

    forwarder.cut(refuse_for=30)
    expect(page.get_by_text("Reconnecting…")).to_be_visible()
    message_send(sender=ada, conversation=conversation, text="Sent while you were away")

    # Back after 30 s: the message shows, the page streams again, nothing was reloaded.
    expect(message_texts(page, "Sent while you were away")).to_have_count(1, timeout=60_000)
    streams.wait_until_opened(2)
    assert_live_again_without_a_reload(page, ada, conversation)


def test_when_the_server_behind_a_proxy_is_back_the_page_streams_again(
    page: Page, forwarder: Forwarder, ada_and_bea
):
    # A proxy's "502" closes an EventSource for good (Chrome does not retry an error status):
    # the page itself must find out why and try again.
    ada, _, conversation = ada_and_bea
    streams = bea_streaming_in(page, conversation)

    forwarder.cut(bad_gateway_for=10)
    expect(page.get_by_text("Reconnecting…")).to_be_visible()
    message_send(sender=ada, conversation=conversation, text="Sent while the server was down")

    streams.wait_until_opened(2)
    # Generous: right after a reconnect the page's catch-up queues behind everything else the
    # (possibly busy) test machine is doing; what matters is that it comes without a reload.
    expect(message_texts(page, "Sent while the server was down")).to_have_count(1, timeout=20_000)
    assert_live_again_without_a_reload(page, ada, conversation)


def test_signed_out_elsewhere_the_tab_says_so_and_stops_asking(
    page: Page, forwarder: Forwarder, ada_and_bea
):
    _, _, conversation = ada_and_bea
    log_in(page, "bea")
    streams = Streams(page)
    page.goto(f"/messages/{conversation.pk}/")
    streams.wait_until_opened(1)

    # Bea logs out in another tab; then her first tab's stream drops once.
    other_tab = page.context.new_page()
    other_tab.goto("/")
    other_tab.get_by_label("Your account").click()
    other_tab.get_by_role("button", name="Log out").click()
    nav = other_tab.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Log in")).to_be_visible()
    other_tab.close()
    forwarder.cut()

    notice = page.get_by_role("alert").filter(has_text="signed out")
    expect(notice).to_be_visible()
    sign_in = notice.get_by_role("link", name="sign in again")
    expect(sign_in).to_have_attribute("href", f"/accounts/login/?next=/messages/{conversation.pk}/")
    expect(page.get_by_text("Reconnecting…")).to_be_hidden()
    # And it stops asking: no request at all after the notice, to the stream or anything else.
    asked = []
    page.on("request", lambda request: asked.append(request.url))
    page.wait_for_timeout(5000)
    assert asked == []
