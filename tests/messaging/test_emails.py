"""Email for unread messages, the daily digest, the bell's kinds, and unsubscribing
(messaging/emails.py, messaging/views/unsubscribe.py)."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail, signing
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from accounts.services import user_block
from messaging import emails, tasks
from messaging.models import (
    Attachment,
    Delivery,
    Notification,
    NotificationKind,
    NotificationPreference,
    Participant,
    Presence,
)
from messaging.services import (
    conversation_leave,
    conversation_mark_read,
    conversation_rename,
    conversation_send,
    conversation_set_level,
    message_send,
)
from tests.factories import BoardFactory, PinFactory, UserFactory

pytestmark = pytest.mark.django_db


def later(seconds: int = 121):
    """A moment past the email delay (120 s by default) after the messages were sent."""
    return timezone.now() + timedelta(seconds=seconds)


@pytest.fixture
def flat():
    """Ada writes to Bram and Chen in the group "Flat 3B"."""
    ada = UserFactory(username="ada", display_name="Ada")
    bram = UserFactory(username="bram", display_name="Bram")
    chen = UserFactory(username="chen", display_name="Chen")
    conversation = conversation_send(sender=ada, recipients=[bram, chen], text="Hi").conversation
    conversation_rename(conversation=conversation, by=ada, name="Flat 3B")
    for person in (bram, chen):  # the greeting was read: only what follows is new
        conversation_mark_read(conversation=conversation, user=person)
    return conversation, ada, bram, chen


def participant(conversation, user) -> Participant:
    return Participant.objects.get(conversation=conversation, user=user)


def check(conversation, user, now=None) -> bool:
    return emails.email_unread(
        participant_id=participant(conversation, user).pk, now=now or later()
    )


def to(person) -> list:
    return [m for m in mail.outbox if m.to == [person.email]]


# --- Unread messages -------------------------------------------------------------------------


def test_three_messages_make_one_email_after_the_delay(flat):
    conversation, ada, bram, _ = flat
    for text in ["Rent is due", "Also the plants", "And the bins"]:
        message_send(sender=ada, conversation=conversation, text=text)

    assert not check(conversation, bram, now=later(60))  # too early: nothing, nothing claimed
    assert mail.outbox == []
    assert participant(conversation, bram).emailed_message_id == 0

    assert check(conversation, bram)
    [email] = to(bram)
    assert email.subject == "Ada sent you 3 messages in Flat 3B"
    for text in ["Rent is due", "Also the plants", "And the bins"]:
        assert text in email.body
    html, mimetype = email.alternatives[0]
    assert mimetype == "text/html"
    assert "And the bins" in html
    assert f"http://127.0.0.1:8000/messages/{conversation.pk}/" in email.body


def test_never_twice_and_later_checks_find_nothing_new(flat):
    conversation, ada, bram, _ = flat
    message_send(sender=ada, conversation=conversation, text="One")
    message_send(sender=ada, conversation=conversation, text="Two")
    assert check(conversation, bram)
    assert not check(conversation, bram)  # the second message's own check, or a retry
    assert not check(conversation, bram, now=later(400))
    assert len(to(bram)) == 1

    message_send(sender=ada, conversation=conversation, text="Three")
    assert check(conversation, bram, now=later(300))
    assert "Three" in to(bram)[1].body
    assert "One" not in to(bram)[1].body


def test_not_for_someone_who_read_it_meanwhile(flat):
    conversation, ada, bram, chen = flat
    message_send(sender=ada, conversation=conversation, text="Read me")
    conversation_mark_read(conversation=conversation, user=bram)
    assert not check(conversation, bram)
    assert check(conversation, chen)
    assert to(bram) == []
    assert len(to(chen)) == 1


def test_not_for_someone_who_had_the_site_open_since_it_arrived(flat):
    conversation, ada, bram, chen = flat
    message_send(sender=ada, conversation=conversation, text="Seen live")
    Presence.objects.create(user=bram, seen_at=timezone.now() + timedelta(seconds=5))
    Presence.objects.create(user=chen, seen_at=timezone.now() - timedelta(minutes=10))
    assert not check(conversation, bram)
    assert check(conversation, chen)  # was here, but before it arrived
    # Dealt with: the sweep will not look at Bram's again.
    assert participant(conversation, bram).emailed_message_id > 0


def test_not_for_someone_who_left_or_has_it_as_a_request(flat):
    conversation, ada, bram, _ = flat
    dee = UserFactory(username="dee", message_privacy="nobody")
    request = conversation_send(sender=ada, recipients=[dee], text="Hello Dee").conversation
    conversation_leave(conversation=conversation, user=bram)
    message_send(sender=ada, conversation=conversation, text="Bye Bram")
    assert not check(conversation, bram)
    assert not check(request, dee)
    assert {p.user for p in emails.due_participants(now=later())} == {flat[3]}  # Chen only
    assert mail.outbox == []


def test_levels_nothing_and_mentions_only(flat):
    conversation, ada, bram, chen = flat
    conversation_set_level(conversation=conversation, user=bram, level="none")
    conversation_set_level(conversation=conversation, user=chen, level="mentions")
    message_send(sender=ada, conversation=conversation, text="Plain")
    assert not check(conversation, bram)
    assert not check(conversation, chen)
    assert mail.outbox == []

    mention = message_send(sender=ada, conversation=conversation, text="@bram @chen look")
    mention.mentions.add(bram, chen)
    assert not check(conversation, bram)  # nothing means nothing
    assert check(conversation, chen)
    [email] = mail.outbox
    assert email.subject == "Ada mentioned you in Flat 3B"
    assert "@bram @chen look" in email.body
    assert "Plain" not in email.body
    token = email.extra_headers["List-Unsubscribe"].split("/unsubscribe/")[1].split("/")[0]
    assert emails.read_unsubscribe_token(token) == (chen.pk, NotificationKind.MENTION)


def test_not_when_email_is_off_or_from_someone_blocked(flat):
    conversation, ada, bram, chen = flat
    NotificationPreference.objects.create(user=bram, kind=NotificationKind.MESSAGE, email=False)
    user_block(blocker=chen, blocked=ada)
    message_send(sender=ada, conversation=conversation, text="Hello?")
    assert not check(conversation, bram)
    assert not check(conversation, chen)
    assert mail.outbox == []


def test_a_secret_pin_shows_as_private_and_a_visible_one_as_a_card(flat):
    conversation, ada, bram, _ = flat
    board = BoardFactory(owner=ada, name="Moodboard")
    shown = PinFactory(board=BoardFactory(owner=ada, name="Open"), title="Blue sofa")
    hidden = PinFactory(board=board, title="Surprise gift")
    message_send(sender=ada, conversation=conversation, attachment=Attachment(pin=shown))
    message_send(sender=ada, conversation=conversation, attachment=Attachment(pin=hidden))
    board.is_secret = True  # made secret after it was sent: Bram may no longer see it
    board.save()

    assert check(conversation, bram)
    [email] = mail.outbox
    html = email.alternatives[0][0]
    for part in (email.body, html):
        assert "Blue sofa" in part
        assert "This pin is private" in part
        assert "Surprise gift" not in part
        assert "Moodboard" not in part
    assert f"http://127.0.0.1:8000{shown.get_absolute_url()}" in html
    assert f'src="http://127.0.0.1:8000{shown.image.grid_url}"' in html
    assert hidden.image.grid_url not in html


def test_headers_for_one_click_unsubscribe(flat):
    conversation, ada, bram, _ = flat
    message_send(sender=ada, conversation=conversation, text="Headers")
    check(conversation, bram)
    [email] = mail.outbox
    link = email.extra_headers["List-Unsubscribe"]
    assert link.startswith("<http://127.0.0.1:8000/notifications/unsubscribe/")
    assert link.endswith("/one-click/>")
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/notifications/unsubscribe/" in email.body  # the footer's link, in plain text too


def test_the_sweep_finds_who_is_due_in_one_query(flat, django_assert_num_queries):
    conversation, ada, _bram, _chen = flat
    message_send(sender=ada, conversation=conversation, text="Sweep")
    with django_assert_num_queries(1):
        due = set(emails.due_participants(now=later()).values_list("user__username", flat=True))
    assert due == {"bram", "chen"}
    assert emails.due_participants(now=later(60)).count() == 0  # not yet

    assert emails.send_due_message_emails(now=later()) == 2
    assert emails.send_due_message_emails(now=later()) == 0
    assert emails.due_participants(now=later()).count() == 0
    assert len(mail.outbox) == 2


def test_old_unread_messages_are_never_emailed_about(flat):
    conversation, ada, _bram, _ = flat
    message_send(sender=ada, conversation=conversation, text="Last year")
    assert emails.send_due_message_emails(now=timezone.now() + timedelta(days=2)) == 0
    assert mail.outbox == []


def test_a_failed_send_gives_the_claim_back(flat, settings):
    conversation, ada, bram, _ = flat
    message_send(sender=ada, conversation=conversation, text="Retry me")
    settings.SITE_URL = None  # building the email fails (a stand-in for a mail server down)
    with pytest.raises(TypeError):
        check(conversation, bram)
    assert participant(conversation, bram).emailed_message_id == 0
    settings.SITE_URL = "http://127.0.0.1:8000"
    assert check(conversation, bram)


def test_a_new_message_schedules_checks_only_where_the_backend_can_defer(flat, settings):
    conversation, ada, bram, chen = flat
    message = message_send(sender=ada, conversation=conversation, text="Later")
    tasks.deliver_message.call(message.pk)  # ImmediateBackend: no deferral, the sweep's job
    assert mail.outbox == []

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from django_tasks_db.models import DBTaskResult

    NotificationPreference.objects.create(user=chen, kind=NotificationKind.MESSAGE, email=False)
    tasks.deliver_message.call(message.pk)  # as the worker runs it
    [job] = DBTaskResult.objects.all()  # Bram's check; Chen turned message emails off
    assert job.task_path == "messaging.tasks.email_unread_messages"
    assert job.args_kwargs["args"] == [participant(conversation, bram).pk]
    assert job.run_after == message.created_at + timedelta(seconds=120)

    tasks.email_unread_messages.call(participant(conversation, bram).pk)  # run too early
    assert mail.outbox == []


def test_a_check_costs_the_same_queries_for_3_or_12_messages(flat, django_assert_num_queries):
    conversation, ada, bram, _ = flat
    pins = [PinFactory(board=BoardFactory(owner=ada)) for _ in range(4)]
    board = BoardFactory(owner=ada, name="Kitchen")
    PinFactory(board=board)

    def send(count):
        for n in range(count):
            attachment = Attachment(pin=pins[n % 4]) if n % 3 == 0 else Attachment()
            message_send(sender=ada, conversation=conversation, text=f"m{n}", attachment=attachment)
        message_send(sender=ada, conversation=conversation, attachment=Attachment(board=board))

    send(2)
    with django_assert_num_queries(10):
        assert check(conversation, bram)
    send(11)
    with django_assert_num_queries(10):
        assert check(conversation, bram, now=later(300))
    assert "12 messages" in mail.outbox[1].subject


def test_the_commands_send_what_is_due(flat, settings, capsys):
    conversation, ada, bram, _ = flat
    message_send(sender=ada, conversation=conversation, text="From cron")
    call_command("send_message_emails")  # run at once: not due yet
    assert mail.outbox == []
    settings.MESSAGE_EMAIL_DELAY_SECONDS = 0
    call_command("send_message_emails")
    assert "Sent 2 emails about unread messages." in capsys.readouterr().out
    assert len(mail.outbox) == 2

    NotificationPreference.objects.create(user=bram, kind="message", daily_digest=True)
    message_send(sender=ada, conversation=conversation, text="For the digest")
    call_command("send_digests")
    assert "Sent 1 digest." in capsys.readouterr().out
    assert "Flat 3B: 1 unread message" in to(bram)[-1].body


# --- The daily digest ------------------------------------------------------------------------


def test_the_digest_lists_unread_conversations_once_a_day(flat):
    conversation, ada, bram, chen = flat
    NotificationPreference.objects.create(
        user=bram, kind=NotificationKind.MESSAGE, email=True, daily_digest=True
    )
    message_send(sender=ada, conversation=conversation, text="One")
    message_send(sender=ada, conversation=conversation, text="Two")
    other = conversation_send(sender=chen, recipients=[bram], text="Psst").conversation

    assert not check(conversation, bram)  # no email per conversation for Bram
    assert emails.send_due_message_emails(now=later()) == 1  # Chen's, not Bram's
    assert to(bram) == []

    assert emails.send_digests(now=timezone.now()) == 1
    [email] = to(bram)
    assert email.subject == "You have 3 unread messages in 2 conversations"
    assert "Flat 3B: 2 unread messages" in email.body
    assert "Chen: 1 unread message" in email.body
    assert f"/messages/{other.pk}/" in email.body
    assert "List-Unsubscribe" in email.extra_headers

    assert emails.send_digests(now=timezone.now()) == 0  # the same day: no second one
    message_send(sender=ada, conversation=conversation, text="Three")
    assert emails.send_digests(now=timezone.now() + timedelta(days=1)) == 1
    assert "Flat 3B: 1 unread message" in to(bram)[1].body
    assert "Chen" not in to(bram)[1].body  # already told, and nothing new there


def test_a_digest_costs_fixed_queries_plus_one_claim_per_conversation(
    django_assert_num_queries,
):
    bram = UserFactory(username="bram", display_name="Bram")
    NotificationPreference.objects.create(user=bram, kind="message", daily_digest=True)
    senders = [UserFactory() for _ in range(4)]

    def digest_after(senders, day):
        for sender in senders:
            conversation_send(sender=sender, recipients=[bram], text="Hello")
        # Reading, the day's Delivery row and the email: fixed; then one conditional UPDATE
        # per conversation claimed.
        with django_assert_num_queries(7 + len(senders)):
            assert emails.send_digests(now=timezone.now() + timedelta(days=day)) == 1

    digest_after(senders[:1], 0)
    digest_after(senders, 1)
    assert "You have 4 unread messages in 4 conversations" in mail.outbox[1].subject


# --- The bell's kinds ------------------------------------------------------------------------


def test_a_board_invitation_by_email_once(flat):
    _, ada, bram, _ = flat
    board = BoardFactory(owner=ada, name="Party menu")
    notification = Notification.objects.create(
        recipient=bram,
        kind=NotificationKind.BOARD_INVITED,
        board=board,
        actor_count=1,
        last_actor=ada,
    )
    assert emails.notification_email(notification)
    assert not emails.notification_email(notification)  # a retry sends nothing
    tasks.deliver_notification.enqueue(notification.pk)
    [email] = mail.outbox
    assert email.subject == "Ada invited you to the board Party menu"
    assert f"http://127.0.0.1:8000{board.get_absolute_url()}" in email.body
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert Delivery.objects.filter(channel="email").count() == 1


def test_a_notification_never_names_what_the_reader_cannot_see(flat):
    _, ada, bram, _ = flat
    secret = BoardFactory(owner=ada, name="Hidden plans", is_secret=True)
    pin = PinFactory(board=secret, title="Ring")
    NotificationPreference.objects.create(user=bram, kind=NotificationKind.PIN_SAVED, email=True)
    notification = Notification.objects.create(
        recipient=bram, kind=NotificationKind.PIN_SAVED, pin=pin, actor_count=3, last_actor=ada
    )
    assert emails.notification_email(notification)
    [email] = mail.outbox
    assert email.subject == "Ada and 2 others saved your pin"
    assert "Ring" not in email.body
    assert "Hidden plans" not in email.body


def test_no_notification_email_when_its_preference_is_off(flat):
    _, ada, bram, _ = flat
    follow = Notification.objects.create(
        recipient=bram, kind=NotificationKind.FOLLOW, actor_count=1, last_actor=ada
    )
    assert not emails.notification_email(follow)  # follows: email off by default
    assert mail.outbox == []


# --- Unsubscribing ---------------------------------------------------------------------------


def unsubscribe_path(user, kind, *, one_click=False) -> str:
    name = "notifications_unsubscribe_one_click" if one_click else "notifications_unsubscribe"
    return reverse(name, kwargs={"token": emails.unsubscribe_token(user.pk, kind)})


def test_unsubscribe_page_asks_then_turns_that_kind_off(client, flat, django_assert_num_queries):
    _, _, bram, _ = flat
    path = unsubscribe_path(bram, NotificationKind.MESSAGE)
    with django_assert_num_queries(1):  # the person; signed out, no session
        page = client.get(path)
    assert page.status_code == 200
    assert "Stop emails about new messages?" in page.text
    assert not NotificationPreference.objects.exists()  # a GET changes nothing

    client = type(client)(enforce_csrf_checks=True)
    refused = client.post(path)  # the page's own form needs its CSRF token
    assert refused.status_code == 403
    client.get(path)
    done = client.post(path, {"csrfmiddlewaretoken": client.cookies["csrftoken"].value})
    assert done.status_code == 200
    assert "You won't get emails about new messages any more." in done.text
    pref = NotificationPreference.objects.get(user=bram, kind=NotificationKind.MESSAGE)
    assert (pref.email, pref.daily_digest, pref.push) == (False, False, True)  # push kept


def test_one_click_post_works_without_cookies(flat):
    _, _, bram, chen = flat
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    path = unsubscribe_path(bram, NotificationKind.BOARD_INVITED, one_click=True)
    answer = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert NotificationPreference.objects.get(user=bram, kind="board_invited").email is False

    wrong_body = client.post(unsubscribe_path(chen, "mention", one_click=True), {"x": "1"})
    assert wrong_body.status_code == 400
    fetched = client.get(path)  # a mail scanner's GET only leads to the page
    assert fetched.status_code == 302
    assert not NotificationPreference.objects.filter(user=chen).exists()


@pytest.mark.parametrize("one_click", [False, True])
def test_a_forged_or_expired_token_changes_nothing(client, flat, settings, one_click):
    _, _, bram, chen = flat
    token = emails.unsubscribe_token(bram.pk, NotificationKind.MESSAGE)
    forged = signing.dumps([chen.pk, "message"], salt="another-salt")
    unsigned = token.rsplit(":", 1)[0] + ":" + "A" * 27  # right payload, wrong signature
    with_other_kind = signing.dumps([chen.pk, "nonsense"], salt=emails.UNSUBSCRIBE_SALT)
    suffix = "one-click/" if one_click else ""
    for bad in [forged, unsigned, with_other_kind, "garbage"]:
        answer = client.post(
            f"/notifications/unsubscribe/{bad}/{suffix}", {"List-Unsubscribe": "One-Click"}
        )
        assert answer.status_code == 400
        if not one_click:
            assert "This unsubscribe link isn't valid" in answer.text
    settings.SECRET_KEY = "rotated-" + settings.SECRET_KEY
    assert client.post(f"/notifications/unsubscribe/{token}/{suffix}").status_code == 400
    assert not NotificationPreference.objects.exists()


def test_an_expired_token_is_refused(flat, monkeypatch):
    _, _, bram, _ = flat
    token = emails.unsubscribe_token(bram.pk, NotificationKind.MESSAGE)
    monkeypatch.setattr(emails, "UNSUBSCRIBE_MAX_AGE", timedelta(seconds=-1))
    with pytest.raises(signing.SignatureExpired):
        emails.read_unsubscribe_token(token)


def test_the_emailed_link_is_the_page(flat, client):
    conversation, ada, bram, _ = flat
    message_send(sender=ada, conversation=conversation, text="Link")
    check(conversation, bram)
    link = next(w for w in mail.outbox[0].body.split() if "/unsubscribe/" in w)
    assert client.get(urlsplit(link).path).status_code == 200
