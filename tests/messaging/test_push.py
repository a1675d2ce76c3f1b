"""Web Push (messaging/push.py, messaging/push_devices.py, messaging/views/push.py and pwa.py),
against a real push service on 127.0.0.1 (messaging/management/benchmarks/push_service.py) that
verifies the VAPID signature and decrypts every payload with the browser's keys."""

import json
import logging
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from py_vapid import Vapid02

from messaging import push, tasks
from messaging.management.benchmarks.push_service import PushService, b64url
from messaging.models import (
    Delivery,
    Notification,
    NotificationKind,
    NotificationPreference,
    Presence,
    PushSubscription,
)
from messaging.services import Attachment, conversation_rename, conversation_send, message_send
from tests.factories import BoardFactory, BoardMemberFactory, PinFactory, UserFactory

pytestmark = pytest.mark.django_db

CHROME_ON_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@pytest.fixture(scope="module")
def vapid_keys():
    vapid = Vapid02()
    vapid.generate_keys()
    private = vapid.private_key.private_numbers().private_value.to_bytes(32, "big")
    public = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(public), b64url(private)


@pytest.fixture
def configured(settings, vapid_keys):
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = vapid_keys
    settings.VAPID_SUBJECT = "mailto:push@example.com"
    settings.PUSH_ALLOW_LOCAL_ENDPOINTS = True
    return vapid_keys


@pytest.fixture
def service(configured):
    with PushService() as running:
        yield running


@pytest.fixture
def people():
    ada = UserFactory(username="ada", display_name="Ada")
    bea = UserFactory(username="bea", display_name="Bea")
    cai = UserFactory(username="cai", display_name="Cai")
    return ada, bea, cai


def subscribe(service, user, name) -> PushSubscription:
    data = service.subscription(name)
    return PushSubscription.objects.create(
        user=user, endpoint=data["endpoint"], device="Chrome on Linux", **data["keys"]
    )


def send(django_capture_on_commit_callbacks, **kwargs):
    """A send through the service, its on-commit work (tasks.deliver_message) run as in
    production."""
    with django_capture_on_commit_callbacks(execute=True):
        if "conversation" in kwargs:
            return message_send(**kwargs)
        return conversation_send(**kwargs)


# --- A new message ---------------------------------------------------------------------------


def test_a_message_to_someone_away_pushes_one_readable_payload(
    service, people, django_capture_on_commit_callbacks
):
    ada, bea, cai = people
    subscribe(service, bea, "bea-laptop")
    first = send(django_capture_on_commit_callbacks, sender=ada, recipients=[bea, cai], text="Hi")
    conversation_rename(conversation=first.conversation, by=ada, name="Flat 3B")
    service.received.clear()

    message = send(
        django_capture_on_commit_callbacks,
        sender=ada,
        conversation=first.conversation,
        text="Is the  sofa\nstill there?",
    )

    assert service.rejected == []
    [got] = service.received
    assert got.path == "/push/bea-laptop"
    assert got.claims["sub"] == "mailto:push@example.com"
    assert got.claims["aud"] == service.origin
    assert got.payload == {
        "title": "Ada in Flat 3B",
        "body": "Is the sofa still there?",
        "url": f"/messages/{first.conversation_id}/#message-{message.pk}",
        "tag": f"conversation-{first.conversation_id}",
        "icon": "/static/icons/icon-192.png",
        "badge": 2,
    }
    assert PushSubscription.objects.get().last_used_at is not None


def test_titles_name_the_sender_and_where(service, people, django_capture_on_commit_callbacks):
    ada, bea, cai = people
    subscribe(service, bea, "bea")
    send(django_capture_on_commit_callbacks, sender=ada, recipients=[bea], text="One to one")
    send(django_capture_on_commit_callbacks, sender=ada, recipients=[bea, cai], text="Group")
    assert [r.payload["title"] for r in service.received] == ["Ada", "Ada in Ada and Cai"]


def test_every_browser_of_the_person_gets_it(service, people, django_capture_on_commit_callbacks):
    ada, bea, _ = people
    subscribe(service, bea, "laptop")
    subscribe(service, bea, "phone")
    send(django_capture_on_commit_callbacks, sender=ada, recipients=[bea], text="Hi")
    assert sorted(r.path for r in service.received) == ["/push/laptop", "/push/phone"]


def test_someone_looking_already_gets_no_push(service, people, django_capture_on_commit_callbacks):
    ada, bea, cai = people
    subscribe(service, bea, "bea")
    subscribe(service, cai, "cai")
    Presence.objects.create(user=bea, seen_at=timezone.now() - timedelta(seconds=20))
    Presence.objects.create(user=cai, seen_at=timezone.now() - timedelta(seconds=90))
    send(django_capture_on_commit_callbacks, sender=ada, recipients=[bea, cai], text="Hi")
    assert [r.path for r in service.received] == ["/push/cai"]  # Cai's stream closed 90 s ago


def test_level_nothing_means_no_push(service, people, django_capture_on_commit_callbacks):
    ada, bea, _ = people
    subscribe(service, bea, "bea")
    first = send(django_capture_on_commit_callbacks, sender=ada, recipients=[bea], text="Hi")
    first.conversation.participants.filter(user=bea).update(level="none")
    service.received.clear()
    send(django_capture_on_commit_callbacks, sender=ada, conversation=first.conversation, text="?")
    assert service.received == []


def test_mentions_only_pushes_only_a_mention(service, people):
    ada, bea, _ = people
    subscribe(service, bea, "bea")
    first = conversation_send(sender=ada, recipients=[bea], text="Hi")
    first.conversation.participants.filter(user=bea).update(level="mentions")
    plain = message_send(sender=ada, conversation=first.conversation, text="Not for you")
    tasks.deliver_message.call(plain.pk)
    assert service.received == []

    mention = message_send(sender=ada, conversation=first.conversation, text="@bea look")
    mention.mentions.add(bea)
    tasks.deliver_message.call(mention.pk)
    assert [r.payload["body"] for r in service.received] == ["@bea look"]


def test_a_mention_follows_the_mention_preference(service, people):
    ada, bea, _ = people
    subscribe(service, bea, "bea")
    NotificationPreference.objects.create(user=bea, kind=NotificationKind.MENTION, push=False)
    message = conversation_send(sender=ada, recipients=[bea], text="@bea hi")
    message.mentions.add(bea)
    tasks.deliver_message.call(message.pk)
    assert service.received == []


def test_push_turned_off_for_messages_sends_nothing(
    service, people, django_capture_on_commit_callbacks
):
    ada, bea, _ = people
    subscribe(service, bea, "bea")
    NotificationPreference.objects.create(user=bea, kind=NotificationKind.MESSAGE, push=False)
    send(django_capture_on_commit_callbacks, sender=ada, recipients=[bea], text="Hi")
    assert service.received == []


def test_a_retried_task_never_sends_twice(service, people):
    ada, bea, _ = people
    subscribe(service, bea, "bea")
    message = conversation_send(sender=ada, recipients=[bea], text="Once")
    tasks.deliver_message.call(message.pk)
    tasks.deliver_message.call(message.pk)
    assert len(service.received) == 1
    assert Delivery.objects.filter(channel="push", key=f"message:{message.pk}:{bea.pk}").exists()


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_forgot_is_deleted(service, people, status):
    ada, bea, _ = people
    gone = subscribe(service, bea, "bea")
    service.answer = status
    tasks.deliver_message.call(conversation_send(sender=ada, recipients=[bea], text="Hi").pk)
    assert service.hits == 1
    assert not PushSubscription.objects.filter(pk=gone.pk).exists()


def test_other_failures_are_tried_three_times_then_given_up(service, people, caplog):
    ada, bea, _ = people
    kept = subscribe(service, bea, "bea")
    service.answer = 500
    with caplog.at_level(logging.WARNING, logger="messaging.push"):
        tasks.deliver_message.call(conversation_send(sender=ada, recipients=[bea], text="Hi").pk)
    assert service.hits == push.ATTEMPTS
    assert "failed (attempt 3)" in caplog.text
    kept.refresh_from_db()
    assert kept.last_used_at is None


def test_on_the_database_task_backend_a_retry_waits_a_minute(service, people, settings):
    from django_tasks_db.models import DBTaskResult

    ada, bea, _ = people
    subscribe(service, bea, "bea")
    service.answer = 500
    message = conversation_send(sender=ada, recipients=[bea], text="Hi")
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    tasks.deliver_message.call(message.pk)
    assert service.hits == 1  # the first attempt is made by the fan-out itself
    retry = DBTaskResult.objects.get(task_path="messaging.push.send_push")
    assert retry.run_after > timezone.now() + timedelta(seconds=50)
    assert retry.args_kwargs["args"][-1] == 2  # the second attempt
    push.send_push.call(*retry.args_kwargs["args"], **retry.args_kwargs["kwargs"])
    assert service.hits == 2
    third = DBTaskResult.objects.exclude(pk=retry.pk).get(task_path="messaging.push.send_push")
    assert third.args_kwargs["args"][-1] == 3


def test_a_push_service_that_hangs_is_given_up_on(service, people, monkeypatch):
    ada, bea, _ = people
    subscribe(service, bea, "bea")
    monkeypatch.setattr(push, "TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(push, "ATTEMPTS", 1)
    service.delay = 1.0
    tasks.deliver_message.call(conversation_send(sender=ada, recipients=[bea], text="Hi").pk)
    assert service.received == []  # nothing arrived in time, and the send did not fail
    assert PushSubscription.objects.filter(user=bea).exists()


def test_without_keys_nothing_is_sent(service, people, settings, client_for):
    ada, bea, _ = people
    subscribe(service, bea, "bea")
    settings.VAPID_PRIVATE_KEY = ""
    tasks.deliver_message.call(conversation_send(sender=ada, recipients=[bea], text="Hi").pk)
    assert service.hits == 0


# --- Secret things never reach a lock screen ----------------------------------------------------


@pytest.fixture
def secret_pin(people):
    ada, bea, _ = people
    board = BoardFactory(owner=ada, name="Surprise party", is_secret=True)
    BoardMemberFactory(board=board, user=bea)
    return PinFactory(board=board, title="Bea's birthday cake")


def test_a_card_is_never_described_in_a_push(service, people, secret_pin):
    ada, bea, _ = people
    subscribe(service, bea, "bea")
    message = conversation_send(
        sender=ada,
        recipients=[bea],
        text="What about this one for the party?",
        attachment=Attachment(pin=secret_pin),
    )
    tasks.deliver_message.call(message.pk)
    [got] = service.received
    assert got.payload["body"] == "Sent a pin"
    raw = json.dumps(got.payload)
    assert "cake" not in raw
    assert "party" not in raw.lower()
    assert "Surprise" not in raw


def test_a_notification_names_a_public_pin_but_never_a_secret_one(service, people, secret_pin):
    ada, bea, _cai = people
    subscribe(service, ada, "ada")
    public = PinFactory(board=BoardFactory(owner=ada), title="Blue sofa")
    for pin in (public, secret_pin):
        notification = Notification.objects.create(
            recipient=ada, kind=NotificationKind.PIN_SAVED, pin=pin, actor_count=2, last_actor=bea
        )
        push.notification_push(notification)
    first, second = (r.payload for r in service.received)
    assert first["title"] == "Bea and 1 other saved your pin"
    assert first["body"] == "Blue sofa"
    assert first["url"] == f"/pins/{public.pk}/"
    assert second["title"] == "Bea and 1 other saved your pin"
    assert second["body"] == ""
    assert "cake" not in json.dumps(second)


def test_a_notification_about_something_the_recipient_cannot_see_names_nothing(
    service, people, secret_pin
):
    _, bea, cai = people
    subscribe(service, cai, "cai")
    notification = Notification.objects.create(
        recipient=cai,
        kind=NotificationKind.BOARD_INVITED,
        board=secret_pin.board,
        last_actor=bea,
        actor_count=1,
    )
    push.notification_push(notification)
    [got] = service.received
    assert got.payload["title"] == "Bea invited you to a board"
    assert got.payload["body"] == ""
    assert got.payload["url"] == "/"


def test_a_mention_notification_is_not_pushed_twice(service, people):
    ada, bea, _ = people
    subscribe(service, bea, "bea")
    message = conversation_send(sender=ada, recipients=[bea], text="@bea hi")
    mention = Notification.objects.create(
        recipient=bea,
        kind=NotificationKind.MENTION,
        conversation=message.conversation,
        message=message,
        last_actor=ada,
        actor_count=1,
    )
    push.notification_push(mention)  # the message's own push carries it
    assert service.hits == 0


def test_a_notification_follows_its_kinds_push_choice_and_presence(service, people):
    ada, bea, _ = people
    subscribe(service, ada, "ada")
    liked = Notification.objects.create(
        recipient=ada, kind=NotificationKind.PIN_LIKED, last_actor=bea, actor_count=1
    )
    push.notification_push(liked)  # likes are not pushed by default
    followed = Notification.objects.create(
        recipient=ada, kind=NotificationKind.FOLLOW, last_actor=bea, actor_count=1
    )
    Presence.objects.create(user=ada, seen_at=timezone.now())
    push.notification_push(followed)  # looking already
    assert service.received == []
    Presence.objects.filter(user=ada).update(seen_at=timezone.now() - timedelta(minutes=5))
    push.notification_push(followed)
    push.notification_push(followed)  # the same again: once
    assert [r.payload["title"] for r in service.received] == ["Bea followed you"]
    assert service.received[0].payload["url"] == "/users/bea/"


# --- Subscribing and the device list -------------------------------------------------------


def post_subscription(client, data, **headers):
    return client.post(
        reverse("push_subscribe"),
        data=json.dumps(data) if not isinstance(data, bytes) else data,
        content_type="application/json",
        headers={"User-Agent": CHROME_ON_LINUX, **headers},
    )


def test_a_browser_subscribes(service, people, client_for):
    _, bea, _ = people
    response = post_subscription(client_for(bea), service.subscription("bea"))
    assert response.status_code == 201
    saved = PushSubscription.objects.get()
    assert (saved.user, saved.device) == (bea, "Chrome on Linux")
    assert saved.endpoint == service.endpoint("bea")


def test_an_endpoint_someone_else_registered_moves_to_whoever_subscribes(
    service, people, client_for
):
    ada, bea, _ = people
    subscribe(service, ada, "shared")
    response = post_subscription(client_for(bea), service.subscription("shared"))
    assert response.status_code == 201
    assert PushSubscription.objects.get().user == bea


def _bad_inputs(service):
    good = service.subscription("x")
    return {
        "not https": ({**good, "endpoint": "http://push.example.com/x"}, "must be https"),
        "a private address": ({**good, "endpoint": "https://10.0.0.5/x"}, "must be https"),
        "no endpoint": ({"keys": good["keys"]}, "must be https"),
        "a short key": (
            {**good, "keys": {**good["keys"], "p256dh": good["keys"]["p256dh"][:40]}},
            "not a valid P-256 public key",
        ),
        "not base64": (
            {**good, "keys": {**good["keys"], "p256dh": "!" * 87}},
            "not a valid P-256 public key",
        ),
        "a long auth": (
            {**good, "keys": {**good["keys"], "auth": b64url(b"x" * 32)}},
            "auth secret must be 16 bytes",
        ),
        "no keys": ({"endpoint": good["endpoint"]}, "encryption key"),
        "a list": ([1, 2], "must be https"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "not https",
        "a private address",
        "no endpoint",
        "a short key",
        "not base64",
        "a long auth",
        "no keys",
        "a list",
    ],
)
def test_a_bad_subscription_is_refused_with_a_reason(service, people, client_for, case):
    data, reason = _bad_inputs(service)[case]
    response = post_subscription(client_for(people[1]), data)
    assert response.status_code == 400
    assert reason in response.content.decode()
    assert not PushSubscription.objects.exists()


def test_local_endpoints_are_refused_in_production(service, people, client_for, settings):
    settings.PUSH_ALLOW_LOCAL_ENDPOINTS = False
    response = post_subscription(client_for(people[1]), service.subscription("bea"))
    assert response.status_code == 400
    assert not PushSubscription.objects.exists()


def test_garbage_is_refused(service, people, client_for):
    response = post_subscription(client_for(people[1]), b"\xff{not json")
    assert response.status_code == 400
    assert response.content.decode() == "That is not a push subscription."


def test_subscribing_needs_push_set_up_and_a_signed_in_person(
    service, people, client, client_for, settings
):
    assert post_subscription(client, service.subscription("x")).status_code == 302
    settings.VAPID_PUBLIC_KEY = ""
    response = post_subscription(client_for(people[1]), service.subscription("x"))
    assert response.status_code == 400
    assert "not set up on this site" in response.content.decode()


def test_the_device_list_shows_each_browser_with_a_remove_button(service, people, client_for):
    _, bea, _ = people
    subscribe(service, bea, "bea")
    page = client_for(bea).get(reverse("push_devices")).content.decode()
    assert "Turn on notifications on this device" in page
    assert "Chrome on Linux" in page
    assert 'aria-label="Remove Chrome on Linux, added' in page
    assert 'name="push-public-key"' in page


def test_the_device_list_costs_the_same_queries_at_any_size(
    service, people, client_for, django_assert_num_queries
):
    _, bea, _ = people
    client = client_for(bea)
    subscribe(service, bea, "one")
    client.get(reverse("push_devices"))  # warm up the session

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("push_devices")).status_code == 200
        return len(queries)

    few = count()
    for n in range(6):
        subscribe(service, bea, f"more-{n}")
    assert count() == few


def test_without_keys_there_is_no_button(people, client_for, settings):
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    page = client_for(people[1]).get(reverse("push_devices")).content.decode()
    assert "Turn on notifications" not in page
    assert "push-public-key" not in page
    assert "set up on this site" in page


def test_removing_a_device(service, people, client_for):
    ada, bea, _ = people
    mine = subscribe(service, bea, "bea")
    theirs = subscribe(service, ada, "ada")
    client = client_for(bea)
    response = client.post(reverse("push_device_remove", args=[theirs.pk]))
    assert response.status_code == 404
    response = client.post(
        reverse("push_device_remove", args=[mine.pk]), {"next": "https://evil.example/"}
    )
    assert response.status_code == 302
    assert response.url == reverse("push_devices")
    assert list(PushSubscription.objects.all()) == [theirs]
    page = client.get(response.url).content.decode()
    assert "won't get notifications any more" in page.replace("&#x27;", "'")


# --- The installable app -------------------------------------------------------------------


def test_the_manifest_describes_an_installable_app(client):
    response = client.get("/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["start_url"] == "/"
    assert manifest["display"] == "standalone"
    sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    assert sizes == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_the_service_worker_is_served_for_the_whole_site(client):
    response = client.get("/sw.js")
    assert response["Content-Type"].startswith("application/javascript")
    assert response["Service-Worker-Allowed"] == "/"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    assert '"/offline/"' in body
    assert 'addEventListener("push"' in body


def test_the_offline_page_names_no_one(client_for, people):
    page = client_for(people[0]).get("/offline/").content.decode()
    assert "You're offline" in page
    assert "Ada" not in page


def test_vapid_keys_prints_a_working_pair(capsys):
    call_command("vapid_keys")
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    vapid = Vapid02.from_raw(lines["VAPID_PRIVATE_KEY"].encode())
    public = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert b64url(public) == lines["VAPID_PUBLIC_KEY"]
    assert lines["VAPID_SUBJECT"].startswith("mailto:")
