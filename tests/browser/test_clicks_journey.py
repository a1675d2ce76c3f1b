"""A click always does something (issue #11): Send, Create pin and Accept submit on the first
click even while the page's background fetches (new messages, the nav badge) are in flight, a
button stays disabled exactly as long as its own form is sending, and a send that takes too long
says so and keeps the text.

The background fetches are held in flight with page.route, so the moment of the click is
deterministic; the clicks are mouse clicks at the button, as a person makes them. These run on
uvicorn: its event stream is what starts a page's first fetches.
"""

import io
import re

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from accounts.models import User
from messaging.models import Message
from messaging.services import conversation_send, message_send
from pinboard.models import Pin
from tests.browser.helpers import (
    LIVE_FETCHES,
    HeldRequests,
    click_like_a_person,
    log_in,
    message_texts,
)
from tests.factories import BoardFactory, UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("asgi_settings")]


@pytest.fixture
def browser_context_args(browser_context_args, asgi_server):
    return {**browser_context_args, "base_url": asgi_server}


def test_send_right_after_opening_a_conversation_sends_every_time(page: Page, ada_and_bea):
    _, bea, conversation = ada_and_bea
    log_in(page, "bea")
    live = HeldRequests(page, LIVE_FETCHES)
    send = page.get_by_role("button", name="Send", exact=True)

    for n in range(1, 21):
        live.hold()
        page.goto(f"/messages/{conversation.pk}/")
        live.wait_for("?after=")  # the stream is open and the page's first fetch is in flight
        page.get_by_label("Write a message").fill(f"Message {n}")
        click_like_a_person(page, send)
        live.release()
        expect(message_texts(page, f"Message {n}")).to_have_count(1)
        expect(page.get_by_label("Write a message")).to_have_value("")

    sent = Message.objects.filter(sender=bea).order_by("pk").values_list("text", flat=True)
    assert list(sent) == [f"Message {n}" for n in range(1, 21)]
    page.reload()
    expect(page.locator("#message-list .message__text", has_text="Message ")).to_have_count(20)


def test_send_stays_disabled_while_it_sends_even_when_a_live_update_lands(page: Page, ada_and_bea):
    ada, bea, conversation = ada_and_bea
    log_in(page, "bea")
    live = HeldRequests(page, LIVE_FETCHES)
    page.goto(f"/messages/{conversation.pk}/")
    live.wait_for("?after=")
    live.release()

    own_send = HeldRequests(page, re.compile(r"/send/$"), method="POST")
    page.get_by_label("Write a message").fill("On my way")
    send = page.get_by_role("button", name="Send", exact=True)
    send.click()
    own_send.wait_for("/send/")
    expect(send).to_be_disabled()

    # Ada's message arrives and is fetched while Bea's own send is still on its way.
    message_send(sender=ada, conversation=conversation, text="Are you coming?")
    expect(message_texts(page, "Are you coming?")).to_have_count(1)
    expect(send).to_be_disabled()

    own_send.release()
    expect(message_texts(page, "On my way")).to_have_count(1)
    expect(send).to_be_enabled()
    assert Message.objects.filter(sender=bea, text="On my way").count() == 1


def test_a_send_that_takes_too_long_says_so_and_keeps_the_text(page: Page, ada_and_bea):
    _, bea, conversation = ada_and_bea
    log_in(page, "bea")
    page.goto(f"/messages/{conversation.pk}/")
    expect(page.get_by_role("heading", name="Ada Archer")).to_be_visible()
    # The real limit is much longer; a test need not wait that long.
    page.evaluate("htmx.config.timeout = 1500")

    stuck = HeldRequests(page, re.compile(r"/send/$"), method="POST")
    page.get_by_label("Write a message").fill("Still there?")
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#toasts")).to_contain_text("took too long")
    expect(page.get_by_label("Write a message")).to_have_value("Still there?")
    stuck.release()

    # The button works again, and the next try sends it.
    page.get_by_role("button", name="Send", exact=True).click()
    expect(message_texts(page, "Still there?")).to_have_count(1)
    assert Message.objects.filter(sender=bea, text="Still there?").count() == 1


def png_file(tmp_path):
    path = tmp_path / "lamp.png"
    buffer = io.BytesIO()
    Image.new("RGB", (480, 640), (200, 160, 40)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_create_pin_submits_while_the_nav_badge_is_being_fetched(page: Page, tmp_path):
    dana = UserFactory(username="dana", display_name="Dana Diaz")
    board = BoardFactory(owner=dana, name="Lamps")
    log_in(page, "dana")
    live = HeldRequests(page, LIVE_FETCHES)
    page.goto("/pins/new/")
    live.wait_for("/messages/unread/")

    page.get_by_label("Image", exact=True).set_input_files(png_file(tmp_path))
    page.get_by_label("Title").fill("Brass lamp")
    page.get_by_role("combobox", name="Board").select_option(label="Lamps")
    click_like_a_person(page, page.get_by_role("button", name="Create pin"))
    live.release()

    expect(page).to_have_url(re.compile(rf"/boards/{board.pk}/$"))
    expect(page.get_by_text("Pin saved to Lamps.")).to_be_visible()
    assert Pin.objects.filter(board=board, title="Brass lamp").count() == 1


def test_accept_on_a_message_request_works_while_a_live_fetch_runs(page: Page):
    al = UserFactory(username="al", display_name="Al Stranger")
    bea = UserFactory(
        username="bea", display_name="Bea", message_privacy=User.MessagePrivacy.NOBODY
    )
    request = conversation_send(sender=al, recipients=[bea], text="For your desk?")
    log_in(page, "bea")
    live = HeldRequests(page, LIVE_FETCHES)
    page.goto(f"/messages/{request.conversation_id}/")
    live.wait_for("?after=")

    click_like_a_person(page, page.get_by_role("button", name="Accept"))
    live.release()

    expect(page.locator("#toasts")).to_contain_text("Request accepted. You can reply now.")
    expect(page.get_by_label("Write a message")).to_be_visible()
