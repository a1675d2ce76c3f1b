"""Small steps shared by the browser journeys."""

from playwright.sync_api import Page, expect


def log_in(page: Page, username: str, password: str = "pinboard-demo") -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password:", exact=True).fill(password)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_label("Your account")).to_be_visible()
