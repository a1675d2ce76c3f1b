"""Someone stops emails about new messages from the link in such an email, signed out."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from playwright.sync_api import Page, expect

from messaging import emails
from messaging.models import NotificationPreference, Participant
from messaging.services import conversation_send, message_send
from tests.browser.helpers import log_in
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_unsubscribe_from_the_link_in_an_email(page: Page, live_server, settings):
    settings.SITE_URL = live_server.url  # the email's links lead to this server
    ada = UserFactory(username="ada", display_name="Ada")
    bram = UserFactory(username="bram", display_name="Bram")
    conversation = conversation_send(sender=ada, recipients=[bram], text="Hi").conversation
    message_send(sender=ada, conversation=conversation, text="Dinner on Friday?")
    participant = Participant.objects.get(conversation=conversation, user=bram)
    later = timezone.now() + timedelta(seconds=121)
    assert emails.email_unread(participant_id=participant.pk, now=later)
    [email] = mail.outbox
    link = re.search(r"Stop these emails: (\S+)", email.body).group(1)
    assert link.startswith(live_server.url)

    # Signed out, from the mail client, on a phone-sized screen.
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(link)
    expect(page.get_by_role("heading", name="Stop emails about new messages?")).to_be_visible()
    button = page.get_by_role("button", name="Stop emails about new messages")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="You're unsubscribed")).to_be_visible()
    expect(page.get_by_role("main").get_by_role("status")).to_have_text(
        "You won't get emails about new messages any more."
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 320

    # The choice holds: no further email about new messages, and a tampered link changes nothing.
    pref = NotificationPreference.objects.get(user=bram, kind="message")
    assert pref.email is False
    page.goto(link[:-3] + "xx/")
    expect(page.get_by_role("heading", name="This unsubscribe link isn't valid")).to_be_visible()

    message_send(sender=ada, conversation=conversation, text="Still there?")
    later = timezone.now() + timedelta(seconds=121)
    assert not emails.email_unread(participant_id=participant.pk, now=later)
    assert len(mail.outbox) == 1

    # Signed in, the site still works as before (the notification settings page, where email
    # can be turned back on, is another branch's: checked in the database above).
    log_in(page, "bram")
    page.goto(f"/messages/{conversation.pk}/")
    expect(page.get_by_text("Still there?")).to_be_visible()
