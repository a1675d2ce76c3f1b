"""Web Push and the installable app in real Chromium: a push reaches the service worker and is
shown; its click opens the conversation; the manifest and worker make the site installable; the
settings button and the conversation's prompt.

What headless Chromium cannot do here: subscribe for real (pushManager.subscribe needs Google's
push service, unreachable from this machine), so the push is handed to the worker through the
DevTools protocol (ServiceWorker.deliverPushMessage), exactly as a push service's message would
be; and click a notification (no DevTools command does), so the click test calls the worker's
own click handler function, `openNotificationUrl`, inside the worker.
"""

import json
import re

import pytest
from playwright.sync_api import Page, expect

from messaging.management.benchmarks.push_service import b64url
from messaging.services import conversation_send
from tests.browser.helpers import log_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "service_workers": "allow"}


@pytest.fixture
def push_on(settings):
    from cryptography.hazmat.primitives import serialization
    from py_vapid import Vapid02

    vapid = Vapid02()
    vapid.generate_keys()
    settings.VAPID_PRIVATE_KEY = b64url(
        vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    )
    settings.VAPID_PUBLIC_KEY = b64url(
        vapid.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )


@pytest.fixture
def chat(db):
    ada = UserFactory(username="ada", display_name="Ada")
    bea = UserFactory(username="bea", display_name="Bea")
    return conversation_send(sender=ada, recipients=[bea], text="Sofa tonight?").conversation


def eventually(page: Page, expression: str, timeout_ms: int = 10_000):
    """The expression's value once truthy. (page.wait_for_function evaluates with eval, which
    the site's CSP rightly refuses.)"""
    waited = 0
    while not (value := page.evaluate(expression)):
        if waited > timeout_ms:
            raise AssertionError(f"never true: {expression}")
        page.wait_for_timeout(100)
        waited += 100
    return value


def worker_ready(page: Page) -> None:
    """Until the site's service worker is active and controls the page: it registers on the
    first page and controls the pages loaded after that."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.reload()
    eventually(page, "navigator.serviceWorker.controller !== null")


def registration_id(cdp) -> str:
    found = {}

    def seen(event):
        for registration in event["registrations"]:
            if not registration.get("isDeleted"):
                found["id"] = registration["registrationId"]

    cdp.on("ServiceWorker.workerRegistrationUpdated", seen)
    cdp.send("ServiceWorker.enable")
    for _ in range(50):
        if "id" in found:
            return found["id"]
        cdp.send("Runtime.evaluate", {"expression": "1"})  # lets the events arrive
    raise AssertionError("no service worker registration was reported")


NOTIFICATIONS = """navigator.serviceWorker.ready
  .then((registration) => registration.getNotifications())
  .then((shown) => shown.map((n) => (
    {title: n.title, body: n.body, tag: n.tag, url: n.data.url})))"""


def test_a_push_is_shown_and_its_click_opens_the_conversation(
    page: Page, live_server, chat, push_on
):
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    log_in(page, "bea")
    page.goto("/")
    worker_ready(page)

    cdp = page.context.new_cdp_session(page)
    url = f"/messages/{chat.pk}/#message-1"
    payload = {"title": "Ada", "body": "Sofa tonight?", "url": url, "tag": "conversation-1"}
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": live_server.url,
            "registrationId": registration_id(cdp),
            "data": json.dumps(payload),
        },
    )

    assert eventually(page, NOTIFICATIONS) == [
        {"title": "Ada", "body": "Sofa tonight?", "tag": "conversation-1", "url": url}
    ]

    # The click: the worker's handler moves this tab (on the home page) to the conversation.
    [worker] = page.context.service_workers
    worker.evaluate(
        """async () => {
          const [notification] = await self.registration.getNotifications();
          notification.close();
          await openNotificationUrl(notification.data.url);
        }"""
    )
    expect(page).to_have_url(re.compile(rf"/messages/{chat.pk}/"))
    expect(page.get_by_role("heading", name="Ada")).to_be_visible()


def test_the_site_is_installable(browser_type, browser_type_launch_args, live_server, tmp_path):
    # A profile on disk: Chromium never offers to install from an incognito-like context,
    # which is what Playwright's ordinary contexts are.
    context = browser_type.launch_persistent_context(
        tmp_path / "profile", **browser_type_launch_args, base_url=live_server.url
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        page.goto("/")
        worker_ready(page)
        cdp = context.new_cdp_session(page)
        assert cdp.send("Page.getInstallabilityErrors") == {"installabilityErrors": []}
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["url"].endswith("/manifest.webmanifest")
        assert manifest["errors"] == []
    finally:
        context.close()


def test_offline_a_page_shows_the_offline_page(page: Page, live_server):
    page.goto("/")
    worker_ready(page)
    page.context.set_offline(True)
    page.goto("/search/?q=sofa")
    expect(page.get_by_role("heading", name="You're offline")).to_be_visible()
    page.context.set_offline(False)
    page.get_by_role("link", name="Try again").click()
    expect(page.get_by_role("heading", name="You're offline")).to_be_hidden()


def test_the_settings_button_asks_and_explains_a_failure(page: Page, live_server, chat, push_on):
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    log_in(page, "bea")
    page.goto("/settings/notifications/devices/")
    button = page.get_by_role("button", name="Turn on notifications on this device")
    expect(button).to_be_visible()
    button.click()
    # Headless Chromium has no push service to subscribe with: the person is told, nothing is
    # stored, and the button can be tried again.
    failure = page.get_by_role("status").filter(has_text=re.compile("couldn.t reach its push"))
    expect(failure).to_be_visible()
    expect(button).to_be_enabled()
    expect(button).to_be_focused()


def test_without_push_set_up_there_is_no_button(page: Page, live_server, chat):
    log_in(page, "bea")
    page.goto("/settings/notifications/devices/")
    expect(page.get_by_text(re.compile("aren.t set up on this site"))).to_be_visible()
    expect(page.get_by_role("button", name="Turn on notifications on this device")).to_have_count(0)


def test_a_conversation_offers_notifications_once(page: Page, live_server, chat, push_on):
    log_in(page, "bea")
    page.goto(f"/messages/{chat.pk}/")
    prompt = page.get_by_role("region", name="Notifications")
    expect(prompt).to_contain_text("Get notified of new messages on this device")
    prompt.get_by_role("button", name="Not now").click()
    expect(prompt).to_have_count(0)
    expect(page.get_by_label("Write a message")).to_be_focused()
    page.reload()
    expect(page.get_by_role("heading", name="Ada")).to_be_visible()
    expect(prompt).to_have_count(0)


def test_no_prompt_before_anyone_wrote(page: Page, live_server, chat, push_on):
    log_in(page, "ada")  # Ada wrote the only message
    page.goto(f"/messages/{chat.pk}/")
    expect(page.get_by_role("heading", name="Bea")).to_be_visible()
    page.wait_for_timeout(300)
    expect(page.get_by_role("region", name="Notifications")).to_have_count(0)


def test_removing_a_device_without_javascript(browser, live_server, chat, push_on):
    from messaging.models import PushSubscription

    bea = chat.participants.get(user__username="bea").user
    laptop = PushSubscription.objects.create(
        user=bea,
        endpoint="https://push.example.com/laptop",
        p256dh="x",
        auth="y",
        device="Firefox on Linux",
    )
    PushSubscription.objects.create(
        user=bea,
        endpoint="https://push.example.com/phone",
        p256dh="x",
        auth="y",
        device="Chrome on Android",
    )
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    try:
        page.goto("/accounts/login/")
        page.get_by_label("Username or email").fill("bea")
        page.get_by_label("Password:", exact=True).fill("pinboard-demo")
        page.get_by_role("button", name="Sign In").click()
        page.goto("/settings/notifications/devices/")
        devices = page.get_by_role("list", name="Your devices")
        expect(devices.get_by_role("listitem")).to_have_count(2)
        added = laptop.created_at.strftime("%-d %b %Y, %H:%M")
        page.get_by_role("button", name=f"Remove Firefox on Linux, added {added}").click()
        expect(page.get_by_text("That device won't get notifications any more.")).to_be_visible()
        expect(devices.get_by_role("listitem")).to_have_count(1)
        expect(devices).to_contain_text("Chrome on Android")
    finally:
        context.close()


def test_no_prompt_once_the_browser_was_asked(page: Page, live_server, chat, push_on):
    page.context.grant_permissions(["notifications"], origin=live_server.url)
    log_in(page, "bea")
    page.goto("/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    # Permission granted already: no prompt (it is for browsers that were never asked).
    page.goto(f"/messages/{chat.pk}/")
    expect(page.get_by_role("heading", name="Ada")).to_be_visible()
    page.wait_for_timeout(300)
    expect(page.get_by_role("region", name="Notifications")).to_have_count(0)
