"""A visitor signs up, verifies their email, logs in and out; a wrong password is explained."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def confirmation_link(mailoutbox) -> str:
    assert len(mailoutbox) == 1, "exactly one verification email is sent"
    match = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mailoutbox[0].body)
    assert match, mailoutbox[0].body
    return match.group(0)


def test_sign_up_verify_log_in_and_log_out(page: Page, live_server, mailoutbox):
    page.goto("/")
    expect(page.get_by_role("heading", name="Collect ideas. Talk them over.")).to_be_visible()
    page.get_by_role("main").get_by_role("link", name="Sign up").click()

    page.get_by_label("Username").fill("newperson")
    page.get_by_label("Email").fill("newperson@example.com")
    page.get_by_label("Password:", exact=True).fill("a-long-pass-phrase-42")
    page.get_by_label("Password (again)").fill("a-long-pass-phrase-42")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()

    page.goto(confirmation_link(mailoutbox))
    page.get_by_role("button", name="Confirm").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))

    page.get_by_label("Username or email").fill("newperson@example.com")
    page.get_by_label("Password:", exact=True).fill("a-long-pass-phrase-42")
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_label("Your account")).to_be_visible()
    expect(page.get_by_role("link", name="Sign up")).to_have_count(0)

    page.get_by_label("Your account").click()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Collect ideas. Talk them over.")).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Log in")
    ).to_be_visible()


def test_wrong_password_shows_an_error_and_keeps_the_username(page: Page, live_server):
    UserFactory(username="carol")
    page.goto("/accounts/login/")
    page.get_by_label("Username or email").fill("carol")
    page.get_by_label("Password:", exact=True).fill("not-her-password")
    page.get_by_role("button", name="Sign In").click()
    expect(
        page.get_by_text("The username and/or password you specified are not correct.")
    ).to_be_visible()
    expect(page.get_by_label("Username or email")).to_have_value("carol")
