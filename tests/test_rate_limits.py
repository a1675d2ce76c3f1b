"""Rate limits on our own writes (messages, conversations, pins, comments) and allauth's limits
on logins and sign-ups. Our counts are kept in the real stores: a PostgreSQL table (one upsert a
count) by default, the real Redis when REDIS_URL is set; allauth's in the cache. Tests lower the
limits with the `settings` fixture rather than sending dozens of requests.

Over a limit: 429 with Retry-After and a clear message, nothing stored, and what the person typed
kept (an htmx toast leaves the form alone; without JavaScript the page comes back filled in)."""

import io
import json
import os
import threading
import uuid

import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.core.management import call_command
from django.db import connections
from django.test import RequestFactory
from django.urls import reverse

from accounts import ratelimit
from accounts.models import RateCount, User
from accounts.ratelimit import RateLimited, check_rate, rate_limited_response
from messaging import services as messaging
from messaging.models import Conversation, Message
from pinboard.models import Comment, Pin
from tests.conftest import make_image_file
from tests.factories import BoardFactory, PinFactory, PinImageFactory, UserFactory

pytestmark = pytest.mark.django_db

TOO_OFTEN = "You&#x27;re doing that too often. Try again in"
# The machine's Redis (CI's too): the Redis tests fail, never skip, when it does not answer.
REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture
def limits(settings):
    """Small limits, so a test reaches them in a few requests: {action: how many}."""

    def set_limits(**counts):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS}
        for action, count in counts.items():
            settings.RATE_LIMITS[action] = (count, settings.RATE_LIMITS[action][1])

    return set_limits


@pytest.fixture
def ada(db):
    return UserFactory(username="ada", display_name="Ada Lovelace")


@pytest.fixture
def bram(db):
    return UserFactory(username="bram", display_name="Bram Stoker")


@pytest.fixture
def chen(db):
    return UserFactory(username="chen", display_name="Chen Wei")


@pytest.fixture
def chat(ada, bram):
    return messaging.conversation_send(sender=ada, recipients=[bram], text="Hi Bram").conversation


@pytest.fixture
def pin(ada):
    return PinFactory(board=BoardFactory(owner=ada, name="Sofas"), image=PinImageFactory())


@pytest.fixture
def redis_cache(settings):
    """CACHES["default"] on the real Redis, as REDIS_URL sets it, under a key prefix of this
    test's own (so nothing else in that Redis is touched); its keys are deleted afterwards."""
    client = redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"The Redis rate-limit tests need a Redis server at {REDIS_TEST_URL} (start one, or "
            f"point REDIS_TEST_URL at one): {exc}"
        )
    prefix = f"pinboard-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_TEST_URL,
            "KEY_PREFIX": prefix,
        }
    }
    assert isinstance(caches["default"], RedisCache)
    yield client
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


@pytest.fixture
def database_cache(settings):
    """CACHES["default"] as without REDIS_URL (whatever the environment of the test run)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "pinboard_cache",
        }
    }


@pytest.fixture(params=["postgresql", "redis"])
def store(request):
    """Each counter test runs against both stores, for real."""
    request.getfixturevalue("database_cache" if request.param == "postgresql" else "redis_cache")
    return request.param


def toast_of(response) -> dict:
    return json.loads(response.headers["HX-Trigger"])["toast"]


@pytest.fixture
def compose(htmx):
    """Post to a conversation from its composer, as htmx does."""

    def post(client, conversation, text, **extra):
        data = {"text": text, "idempotency_key": str(uuid.uuid4()), **extra}
        return client.post(reverse("conversation_post", args=[conversation.pk]), data, **htmx)

    return post


# --- The helper and the counter -------------------------------------------------------------


def test_the_limit_is_per_person_and_says_when_to_retry(limits, store, ada, bram):
    limits(comment=2)
    check_rate(action="comment", key=ada.pk)
    check_rate(action="comment", key=ada.pk)
    with pytest.raises(RateLimited) as refused:
        check_rate(action="comment", key=ada.pk)
    assert 1 <= refused.value.retry_after <= 61
    assert refused.value.message.startswith("You're doing that too often. Try again in ")
    check_rate(action="comment", key=bram.pk)  # someone else is not held back
    check_rate(action="message", key=ada.pk)  # nor another action


def test_the_next_window_starts_from_nothing(limits, store, ada, monkeypatch):
    limits(comment=1)
    start = 1_800_000_000.0  # a minute's window starts here
    monkeypatch.setattr(ratelimit.time, "time", lambda: start + 10)
    check_rate(action="comment", key=ada.pk)
    with pytest.raises(RateLimited) as refused:
        check_rate(action="comment", key=ada.pk)
    assert refused.value.retry_after == 51  # the window ends 50 s later; whole seconds, up

    monkeypatch.setattr(ratelimit.time, "time", lambda: start + 60)
    check_rate(action="comment", key=ada.pk)  # a new window
    with pytest.raises(RateLimited):
        check_rate(action="comment", key=ada.pk)


def test_a_count_is_one_query_on_one_shared_row(
    limits, database_cache, ada, django_assert_num_queries
):
    limits(comment=1)
    with django_assert_num_queries(1):
        check_rate(action="comment", key=ada.pk)
    with django_assert_num_queries(1), pytest.raises(RateLimited):
        check_rate(action="comment", key=ada.pk)
    # Every server process sees the same count: it is a row in PostgreSQL, not in memory.
    row = RateCount.objects.get()
    assert (row.action, row.subject, row.count) == ("comment", str(ada.pk), 2)


def test_with_redis_a_count_is_one_key_in_redis_and_no_query(
    limits, redis_cache, ada, django_assert_num_queries
):
    limits(comment=1)
    with django_assert_num_queries(0):
        check_rate(action="comment", key=ada.pk)
    [key] = redis_cache.keys(f"{caches['default'].key_prefix}:*")  # this test's keys only
    assert b":ratelimit:comment:" in key
    assert redis_cache.get(key) == b"1"
    assert 0 < redis_cache.ttl(key) <= 61  # it expires by itself with its window
    assert not RateCount.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_simultaneous_counts_are_exact(limits, store, ada):
    """Many requests at once each get their own number: none is lost (a read-then-write
    counter lets a burst through), none is counted twice."""
    limits(comment=60)
    threads, each = 8, 10
    start = threading.Barrier(threads)
    refused = []

    def burst():
        try:
            start.wait()
            for _ in range(each):
                try:
                    check_rate(action="comment", key=ada.pk)
                except RateLimited:
                    refused.append(1)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=burst) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert len(refused) == threads * each - 60
    if store == "postgresql":
        assert RateCount.objects.get().count == threads * each


def test_prune_rate_counts_deletes_only_ended_windows(limits, database_cache, ada, bram):
    check_rate(action="comment", key=ada.pk)
    check_rate(action="comment", key=bram.pk)
    RateCount.objects.filter(subject=str(ada.pk)).update(expires_at="2020-01-01T00:00:00Z")

    output = io.StringIO()
    call_command("prune_rate_counts", stdout=output)

    assert output.getvalue() == "Deleted 1 expired rate-limit counters.\n"
    assert list(RateCount.objects.values_list("subject", flat=True)) == [str(bram.pk)]


def test_the_htmx_answer_is_a_429_error_toast_with_retry_after(ada, htmx):
    request = RequestFactory().post("/anything/", **htmx)
    request.htmx = True
    response = rate_limited_response(request, RateLimited(action="message", retry_after=42))
    assert response.status_code == 429
    assert response["Retry-After"] == "42"
    assert toast_of(response) == {
        "message": "You're doing that too often. Try again in 42 seconds.",
        "level": "error",
    }
    assert response.content == b""  # htmx swaps nothing: the form keeps its text


def test_without_javascript_the_default_answer_is_a_page_with_the_message(ada):
    factory = RequestFactory()
    refused = RateLimited(action="report", retry_after=600)
    for referer, back in [
        ("http://testserver/pins/7/", "http://testserver/pins/7/"),
        ("https://evil.example/", "/"),  # "Go back" never leads off the site
    ]:
        request = factory.post("/anything/", HTTP_REFERER=referer)
        request.htmx = False
        request.user = ada
        response = rate_limited_response(request, refused)
        assert response.status_code == 429
        assert response["Retry-After"] == "600"
        page = response.content.decode()
        assert "You&#x27;re doing that too often. Try again in 10 minutes." in page
        assert f'<a href="{back}">Go back</a>' in page


# --- Messages ---------------------------------------------------------------------------------


def test_composer_sends_over_the_limit_are_refused_and_nothing_is_stored(
    limits, client_for, ada, chat, compose
):
    limits(message=2)
    client = client_for(ada)
    assert compose(client, chat, "one").status_code == 200
    assert compose(client, chat, "two").status_code == 200
    stored = Message.objects.count()

    response = compose(client, chat, "three")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert toast_of(response)["level"] == "error"
    assert "Try again in" in toast_of(response)["message"]
    assert Message.objects.count() == stored


def test_without_javascript_the_refused_message_stays_in_the_composer(
    limits, client_for, ada, chat
):
    limits(message=0)
    url = reverse("conversation_post", args=[chat.pk])
    data = {"text": "Still here <b>typed</b>", "idempotency_key": str(uuid.uuid4())}

    response = client_for(ada).post(url, data)

    assert response.status_code == 429
    page = response.content.decode()
    assert TOO_OFTEN in page
    assert "Still here &lt;b&gt;typed&lt;/b&gt;</textarea>" in page
    assert not Message.objects.filter(text__startswith="Still here").exists()


def test_with_redis_sends_over_the_limit_are_refused_the_same_way(
    limits, redis_cache, client_for, ada, chat, compose
):
    limits(message=1)
    client = client_for(ada)
    assert compose(client, chat, "one").status_code == 200

    response = compose(client, chat, "two")

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Try again in" in toast_of(response)["message"]
    assert not Message.objects.filter(text="two").exists()


def test_inline_replies_count_as_messages(limits, client_for, ada, chat, compose):
    limits(message=0)
    first = chat.messages.get()
    response = compose(client_for(ada), chat, "About this", reply_to=first.pk)
    assert response.status_code == 429
    assert not Message.objects.filter(text="About this").exists()


def test_a_refused_reply_without_javascript_stays_in_its_reply_box(
    limits, client_for, ada, bram, chat, pin
):
    # Reply boxes sit under cards: Bram sent a pin, Ada answers it.
    first = messaging.message_send(
        sender=bram, conversation=chat, attachment=messaging.Attachment(pin=pin)
    )
    limits(message=0)
    url = reverse("conversation_post", args=[chat.pk])
    data = {"text": "Reply kept", "reply_to": first.pk, "idempotency_key": str(uuid.uuid4())}
    response = client_for(ada).post(url, data)
    assert response.status_code == 429
    assert "Reply kept</textarea>" in response.content.decode()
    assert TOO_OFTEN in response.content.decode()
    assert not chat.messages.filter(text="Reply kept").exists()


def test_quick_replies_from_the_inbox_are_limited(limits, client_for, bram, chat, htmx):
    limits(message=1)
    client = client_for(bram)
    url = reverse("conversation_quick_reply", args=[chat.pk])
    first = client.post(url, {"text": "First", "idempotency_key": uuid.uuid4()}, **htmx)
    assert first.status_code == 200

    refused = client.post(url, {"text": "Second", "idempotency_key": uuid.uuid4()}, **htmx)
    plain = client.post(url, {"text": "Third one", "idempotency_key": uuid.uuid4()})

    assert refused.status_code == 429
    assert "Try again in" in toast_of(refused)["message"]
    assert plain.status_code == 429
    assert 'value="Third one"' in plain.content.decode()
    assert TOO_OFTEN in plain.content.decode()
    assert list(chat.messages.values_list("text", flat=True).order_by("pk")) == ["Hi Bram", "First"]


def test_the_limit_is_per_person(limits, client_for, ada, bram, chat, compose):
    limits(message=1)
    assert compose(client_for(ada), chat, "Ada's one").status_code == 200
    assert compose(client_for(ada), chat, "Ada's two").status_code == 429
    assert compose(client_for(bram), chat, "Bram's one").status_code == 200


# --- Conversations started from the Send dialog -----------------------------------------------


def send_pin(client, pin, *, to=(), conversation=None, note="", headers=None):
    data = {"note": note, "idempotency_key": str(uuid.uuid4())}
    if conversation is not None:
        data["conversation"] = conversation.pk
    else:
        data["to"] = [person.pk for person in to]
    url = f"{reverse('message_send_dialog')}?pin={pin.pk}"
    return client.post(url, data, **(headers or {}))


def test_starting_conversations_over_the_hourly_limit_is_refused(
    limits, client_for, ada, bram, chen, pin, htmx
):
    limits(conversation=1)
    client = client_for(ada)
    assert send_pin(client, pin, to=[bram], headers=htmx).status_code == 200
    conversations = Conversation.objects.count()

    refused = send_pin(client, pin, to=[chen], note="Look!", headers=htmx)
    plain = send_pin(client, pin, to=[chen], note="Look at this sofa")

    assert refused.status_code == 429
    assert "Try again in" in toast_of(refused)["message"]
    assert plain.status_code == 429
    # Without JavaScript the dialog's page again, with the person and the note kept.
    page = plain.content.decode()
    assert "Look at this sofa</textarea>" in page
    assert f'value="{chen.pk}"' in page
    assert Conversation.objects.count() == conversations
    assert not Message.objects.filter(text__startswith="Look").exists()


def test_sending_into_an_existing_conversation_is_a_message_not_a_new_conversation(
    limits, client_for, ada, chat, pin, htmx
):
    limits(conversation=0, message=5)
    response = send_pin(client_for(ada), pin, conversation=chat, note="For you", headers=htmx)
    assert response.status_code == 200
    assert chat.messages.filter(text="For you", pin=pin).exists()


def test_send_dialog_messages_count_against_the_message_limit(
    limits, client_for, ada, chat, pin, htmx
):
    limits(message=0)
    response = send_pin(client_for(ada), pin, conversation=chat, note="For you", headers=htmx)
    assert response.status_code == 429
    assert not chat.messages.filter(text="For you").exists()


# --- Pins and comments ------------------------------------------------------------------------


def test_creating_pins_over_the_hourly_limit_is_refused(limits, client_for, ada):
    limits(pin=1)
    board = BoardFactory(owner=ada, name="Recipes")
    client = client_for(ada)

    def create(title):
        image = make_image_file(size=(120, 90), name=f"{title}.png")
        data = {"image": image, "title": title, "description": "", "source_url": ""}
        return client.post(reverse("pin_create"), {**data, "board": board.pk})

    assert create("Soup").status_code == 302
    response = create("Bread and butter")

    assert response.status_code == 429
    page = response.content.decode()
    assert TOO_OFTEN in page
    assert 'value="Bread and butter"' in page  # the title is kept (a file input never is)
    assert list(Pin.objects.values_list("title", flat=True)) == ["Soup"]


def test_saves_count_against_the_pin_limit(limits, client_for, bram, pin, htmx):
    limits(pin=0)
    board = BoardFactory(owner=bram, name="Mine")
    url = reverse("pin_save", args=[pin.pk])

    to_board = client_for(bram).post(url, {"board": board.pk}, **htmx)
    to_new_board = client_for(bram).post(url, {"new_board_name": "Fresh"})

    assert to_board.status_code == 429
    assert to_new_board.status_code == 429
    assert 'value="Fresh"' in to_new_board.content.decode()
    assert Pin.objects.filter(owner=bram).count() == 0
    assert not bram.boards.filter(name="Fresh").exists()


def test_comments_over_the_limit_are_refused_and_the_text_is_kept(
    limits, client_for, bram, pin, htmx
):
    limits(comment=1)
    client = client_for(bram)
    url = reverse("comment_create", args=[pin.pk])
    assert client.post(url, {"text": "Lovely"}, **htmx).status_code == 200

    refused = client.post(url, {"text": "Lovely again"}, **htmx)
    plain = client.post(url, {"text": "Third time"})

    assert refused.status_code == 429
    assert "Try again in" in toast_of(refused)["message"]
    assert plain.status_code == 429
    assert "Third time</textarea>" in plain.content.decode()
    assert list(Comment.objects.values_list("text", flat=True)) == ["Lovely"]


# --- allauth's limits: logins and sign-ups, counted in the same cache -------------------------


def log_in(client, login, password):
    return client.post(reverse("account_login"), {"login": login, "password": password})


def test_too_many_failed_logins_are_refused_even_with_the_right_password(settings, client, db):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,3/5m/key"}
    UserFactory(username="mallory", password="the-right-password-1")
    for _ in range(3):
        assert "_auth_user_id" not in log_in(client, "mallory", "wrong").wsgi_request.session

    response = log_in(client, "mallory", "the-right-password-1")

    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_fewer_failed_logins_than_the_limit_still_let_the_person_in(settings, client, db):
    settings.ACCOUNT_RATE_LIMITS = {"login_failed": "10/m/ip,3/5m/key"}
    UserFactory(username="mallory", password="the-right-password-1")
    for _ in range(2):
        log_in(client, "mallory", "wrong")

    response = log_in(client, "mallory", "the-right-password-1")

    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_sign_ups_over_the_limit_get_429(settings, client, db):
    settings.ACCOUNT_RATE_LIMITS = {"signup": "2/m/ip"}
    url = reverse("account_signup")
    for number in range(2):
        data = {
            "username": f"newbie{number}",
            "email": f"newbie{number}@example.com",
            "password1": "a-long-pass-phrase-9",
            "password2": "a-long-pass-phrase-9",
        }
        assert client.post(url, data).status_code == 302
    data = {**data, "username": "newbie9", "email": "newbie9@example.com"}
    refused = client.post(url, data)
    assert refused.status_code == 429
    assert "You're doing that too often. Wait a few minutes" in refused.content.decode()
    assert not User.objects.filter(username="newbie9").exists()


def test_password_reset_emails_to_one_address_are_limited(settings, client, db, mailoutbox):
    settings.ACCOUNT_RATE_LIMITS = {"reset_password": "20/m/ip,2/m/key"}
    UserFactory(username="ada", email="ada@example.com")
    url = reverse("account_reset_password")
    for _ in range(2):
        assert client.post(url, {"email": "ada@example.com"}).status_code == 302

    refused = client.post(url, {"email": "ADA@example.com"})  # the same address, any case

    assert refused.status_code == 429
    assert len(mailoutbox) == 2


def test_password_guesses_on_the_delete_account_form_are_limited(limits, client_for, ada):
    limits(account_delete=2)
    client = client_for(ada)
    for _ in range(2):
        assert client.post("/settings/delete/", {"password": "guess"}).status_code == 400

    response = client.post("/settings/delete/", {"password": "pinboard-demo"})

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Try again in" in response.content.decode()
    assert User.objects.filter(pk=ada.pk, is_active=True).exists()  # even the right one waits


def test_data_exports_are_limited(limits, client_for, ada):
    limits(export=1)
    client = client_for(ada)
    assert client.post("/settings/data/").status_code == 302  # started (tasks.build_export)

    response = client.post("/settings/data/")

    assert response.status_code == 429
    assert "Try again in" in response.content.decode()
