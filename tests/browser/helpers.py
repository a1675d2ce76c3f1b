"""Small steps shared by the browser journeys."""

import contextlib
import re

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Locator, Page, Route, expect


def log_in(page: Page, username: str, password: str = "pinboard-demo") -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password:", exact=True).fill(password)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_label("Your account")).to_be_visible()


# The page's background ("live") fetches: new messages in an open conversation, the nav badge,
# the Requests count.
LIVE_FETCHES = re.compile(r"/messages/(\d+/\?after=\d+|unread/|requests/count/)$")


class HeldRequests:
    """Keeps the page's requests matching `pattern` (and `method`, when given) in flight until
    release(): a deterministic stand-in for a slow network or a busy server."""

    def __init__(self, page: Page, pattern, *, method: str | None = None):
        self.page = page
        self.method = method
        self.holding = True
        self.held: list[Route] = []
        page.route(pattern, self._handle)

    def _handle(self, route: Route) -> None:
        if self.method and route.request.method != self.method:
            route.fallback()
        elif self.holding:
            self.held.append(route)
        else:
            route.fallback()

    def hold(self) -> None:
        self.holding = True

    def wait_for(self, fragment: str = "", timeout_ms: int = 15_000) -> None:
        """Until a request whose URL contains `fragment` is being held."""
        waited = 0
        while not any(fragment in route.request.url for route in self.held):
            if waited > timeout_ms:
                raise AssertionError(f"no request for {fragment!r} was made")
            self.page.wait_for_timeout(50)
            waited += 50

    def release(self) -> None:
        """Let every held request go on, and stop holding new ones."""
        self.holding = False
        held, self.held = self.held, []
        for route in held:
            # Its page may have moved on, or the browser given up on it (a timeout).
            with contextlib.suppress(PlaywrightError):
                route.fallback()


def click_like_a_person(page: Page, locator: Locator) -> None:
    """A mouse click at the middle of the element, whatever its state. (locator.click() waits
    for a button to be enabled, which would hide a button that is wrongly disabled.)"""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def message_texts(page, text: str):
    """The messages in the open conversation whose text is exactly `text`."""
    exactly = re.compile(rf"^{re.escape(text)}$")
    return page.locator("#message-list .message__text", has_text=exactly)


def messages_matching(page, pattern: str = ""):
    """The messages in the open conversation whose text matches the regular expression."""
    return page.locator("#message-list .message__text", has_text=re.compile(pattern))
