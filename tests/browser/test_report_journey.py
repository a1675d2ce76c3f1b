"""Reporting, end to end: a person reports a pin (and a message) through the dialog, with a
reason, and is thanked; a moderator finds the report in the admin's queue with its reason and
hides the pin, or reads the reported message on its report's page and removes it."""

import re

import pytest
from playwright.sync_api import Page, expect

from messaging import services
from messaging.models import Message, Report
from pinboard.models import Pin
from tests.browser.helpers import log_in
from tests.factories import BoardFactory, PinFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def people(db):
    UserFactory(username="mod", display_name="Mo Derator", is_staff=True, is_superuser=True)
    return (
        UserFactory(username="rita", display_name="Rita Reporter"),
        UserFactory(username="owen", display_name="Owen Owner"),
    )


def switch_to_moderator(page: Page) -> None:
    page.context.clear_cookies()
    log_in(page, "mod")
    page.goto("/admin/")
    page.get_by_role("link", name="Reports").click()


def test_a_reported_pin_reaches_the_queue_and_is_hidden(page: Page, people):
    rita, owen = people
    pin = PinFactory(board=BoardFactory(owner=owen), title="Miracle pills")
    log_in(page, "rita")
    page.goto(pin.get_absolute_url())
    page.get_by_role("link", name="Report this pin").click()

    dialog = page.get_by_role("dialog", name="Report this pin")
    expect(dialog).to_be_visible()
    # Submitting without a reason keeps the details and says what is missing.
    dialog.get_by_label("Anything else we should know?").fill("Sells fake medicine")
    expect(dialog.get_by_text("19 / 1,000 characters")).to_be_visible()
    dialog.get_by_role("button", name="Submit report").click()
    expect(dialog.get_by_role("alert")).to_have_text("Choose a reason.")
    expect(dialog.get_by_label("Anything else we should know?")).to_have_value(
        "Sells fake medicine"
    )
    dialog.get_by_label("Spam or misleading").check()
    dialog.get_by_role("button", name="Submit report").click()
    expect(dialog.get_by_role("status")).to_have_text("Thanks, we'll review it.")
    dialog.get_by_role("link", name="Done").click()
    expect(dialog).to_be_hidden()

    report = Report.objects.get()
    assert (report.pin_id, report.reporter_id, report.reason, report.details) == (
        pin.pk,
        rita.pk,
        "spam",
        "Sells fake medicine",
    )

    switch_to_moderator(page)
    row = page.locator("#result_list tbody tr").filter(has_text="Pin: Miracle pills")
    expect(row).to_contain_text("Spam or misleading")
    expect(row).to_contain_text("@rita")
    expect(row).to_contain_text("@owen")
    row.locator("input[name=_selected_action]").check()
    page.locator("select[name=action]").select_option("hide_item")
    page.get_by_role("button", name=re.compile(r"^(Run|Go)$")).click()
    expect(page.get_by_text("Hid the item; closed 1 report.")).to_be_visible()
    # The queue opens on open reports: this one is done.
    expect(page.locator("#result_list")).to_have_count(0)

    report.refresh_from_db()
    assert report.status == Report.Status.ACTIONED
    assert Pin.objects.get(pk=pin.pk).hidden_at is not None


def test_a_reported_message_is_read_on_its_report_page_and_removed(page: Page, people):
    rita, owen = people
    message = services.conversation_send(
        sender=owen, recipients=[rita], text="Send me money or else", idempotency_key=None
    )
    log_in(page, "rita")
    page.goto(f"/messages/{message.conversation_id}/")
    page.locator(f"#message-{message.pk}").get_by_role("link", name="Report this message").click()
    dialog = page.get_by_role("dialog", name="Report this message")
    dialog.get_by_label("Harassment or bullying").check()
    dialog.get_by_role("button", name="Submit report").click()
    expect(dialog.get_by_role("status")).to_have_text("Thanks, we'll review it.")

    switch_to_moderator(page)
    row = page.locator("#result_list tbody tr").filter(has_text=f"Message {message.pk}")
    expect(row).to_contain_text("Harassment or bullying")
    # The list shows no message text; the report's own page does.
    expect(page.get_by_text("Send me money or else")).to_have_count(0)
    row.get_by_role("link").first.click()
    expect(page.get_by_text("Send me money or else")).to_be_visible()
    page.locator("select[name='CHANGE_FORM-action']").select_option("hide_item")
    page.get_by_role("button", name=re.compile(r"^(Run|Go)$")).click()
    expect(page.get_by_text("Hid the item; closed 1 report.")).to_be_visible()
    assert Message.objects.get(pk=message.pk).is_deleted
