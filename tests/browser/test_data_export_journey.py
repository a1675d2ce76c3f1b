"""A person downloads their data from the settings and gets a zip of it."""

import json
import re
import zipfile

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import log_in
from tests.factories import BoardFactory, PinFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_download_my_data_from_the_settings(page: Page, live_server, tmp_path):
    person = UserFactory(username="maya", display_name="Maya Moss")
    PinFactory(board=BoardFactory(owner=person, name="Balcony"), title="Lemon tree")
    log_in(page, "maya")

    page.get_by_label("Your account").click()
    page.get_by_role("link", name="Edit profile").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="Your data").click()
    expect(page.get_by_role("heading", name="Your data")).to_be_visible()

    # Keyboard first: the button is reachable and works with Enter. The export is built by a
    # task (tasks run at once in tests; in production the worker builds it meanwhile).
    button = page.get_by_role("button", name="Download my data")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#toasts")).to_contain_text(
        "We're preparing your download; we'll notify you when it's ready."
    )
    expect(page.get_by_role("heading", name="Your data")).to_be_visible()

    ready = page.get_by_role("region", name="Your latest download")
    expect(ready).to_be_visible()
    with page.expect_download() as download_info:
        ready.get_by_role("link", name=re.compile("^Download the zip")).click()
    download = download_info.value
    assert download.suggested_filename.startswith("pinboard-maya-")
    assert download.suggested_filename.endswith(".zip")

    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with zipfile.ZipFile(saved) as archive:
        pins = json.loads(archive.read("pins.json"))
        assert [pin["title"] for pin in pins] == ["Lemon tree"]
        assert pins[0]["image"] in archive.namelist()
    expect(page.get_by_role("heading", name="Your data")).to_be_visible()  # still on the page

    # Nobody else can have it: another person gets "not found" for the same link.
    href = ready.get_by_role("link", name=re.compile("^Download the zip")).get_attribute("href")
    UserFactory(username="nosy", display_name="Nosy Parker")
    page.context.clear_cookies()
    log_in(page, "nosy")
    response = page.goto(href)
    assert response.status == 404
