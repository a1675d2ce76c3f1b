"""Long conversations stay live (issue #11): a burst of new messages costs the open page a couple
of fetches (a page of messages each), not one per message, and a tab left open on a busy
conversation keeps a bounded list of messages, "Load older messages" bringing back what it let
go. On uvicorn, for the stream."""

import re

import pytest
from playwright.sync_api import Page, expect

from messaging.services import message_send, publish_typing
from tests.browser.helpers import HeldRequests, log_in, messages_matching

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("asgi_settings")]


@pytest.fixture
def browser_context_args(browser_context_args, asgi_server):
    return {**browser_context_args, "base_url": asgi_server}


def test_a_burst_of_messages_costs_a_couple_of_fetches_not_one_each(page: Page, ada_and_bea):
    ada, _, conversation = ada_and_bea
    log_in(page, "bea")
    fetches = []
    page.on("request", lambda request: "?after=" in request.url and fetches.append(request.url))
    first_fetch = HeldRequests(page, re.compile(r"\?after=\d+$"))
    page.goto(f"/messages/{conversation.pk}/")
    first_fetch.wait_for("?after=")

    # Sixty messages (more than one page of them) arrive while the page's first fetch is still
    # on its way.
    for n in range(1, 61):
        message_send(sender=ada, conversation=conversation, text=f"Burst {n}")
    publish_typing(conversation=conversation, user=ada)
    expect(page.get_by_text("Ada Archer is typing…")).to_be_visible()  # so all 60 events are in
    first_fetch.release()

    expect(messages_matching(page, r"^Burst \d+$")).to_have_count(60)
    expect(messages_matching(page).last).to_have_text("Burst 60")
    # Time for any fetches still queued behind the first to show up (there were 60 of them).
    page.wait_for_timeout(2000)
    assert len(fetches) <= 3, fetches


def test_a_long_open_conversation_keeps_the_newest_and_loads_older_on_demand(
    page: Page, ada_and_bea
):
    ada, _, conversation = ada_and_bea
    for n in range(1, 8):
        message_send(sender=ada, conversation=conversation, text=f"Early {n}")
    log_in(page, "bea")
    page.goto(f"/messages/{conversation.pk}/")
    expect(messages_matching(page)).to_have_count(8)
    page.evaluate("window.__sameDocument = true")
    # The real bound is a few hundred; the list says how many it keeps.
    page.locator("#message-list").evaluate("list => { list.dataset.maxMessages = '5'; }")

    for n in range(1, 5):
        message_send(sender=ada, conversation=conversation, text=f"Live {n}")
        expect(messages_matching(page, f"^Live {n}$")).to_have_count(1)

    # Five kept, the newest; the oldest went.
    expect(messages_matching(page)).to_have_text(
        ["Early 7", "Live 1", "Live 2", "Live 3", "Live 4"]
    )
    page.get_by_role("link", name="Load older messages").click()
    expected = ["Hi Bea", *(f"Early {n}" for n in range(1, 8)), *(f"Live {n}" for n in range(1, 5))]
    expect(messages_matching(page)).to_have_text(expected)
    # Focus stays where the reader was: on the oldest message, now that there are no older.
    expect(page.locator("#message-list > li.message").first).to_be_focused()
    assert page.evaluate("window.__sameDocument") is True
