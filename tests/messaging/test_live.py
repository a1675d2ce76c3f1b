"""The live event stream: only your own events, only after commit, exact catch-up on reconnect,
and a listener that survives losing the database."""

import asyncio
import json
import threading
from datetime import timedelta

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.services import user_block
from messaging import events, live
from messaging import stream as stream_app
from messaging.models import Event, Presence
from messaging.services import conversation_leave, conversation_send, message_edit, message_send
from messaging.services import publish_typing as service_publish_typing
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest.fixture(autouse=True)
def quick_heartbeat(monkeypatch):
    # A keep-alive every 0.3 s lets a test tell "nothing arrived" from "still waiting".
    monkeypatch.setattr(live, "HEARTBEAT_SECONDS", 0.3)


@pytest_asyncio.fixture(autouse=True)
async def close_worker_connections():
    """sync_to_async runs ORM calls on a worker thread whose connection pytest-django doesn't
    know about; close it, or the test database can't be dropped at the end."""
    yield
    await sync_to_async(connections.close_all)()


@pytest_asyncio.fixture
async def hub():
    hub = live.get_hub()
    yield hub
    await hub.stop()


class OpenStream:
    """A tab's EventSource on the event stream's ASGI app (messaging/stream.py), in process:
    the test plays the server's part, handing the app its request and reading what it sends."""

    def __init__(self, scope: dict):
        self._sent: asyncio.Queue = asyncio.Queue()
        self._gone = asyncio.Event()
        self._request_read = False
        self._events: list[dict] = []
        self.task = asyncio.ensure_future(stream_app.application(scope, self._receive, self._send))

    async def _receive(self) -> dict:
        if not self._request_read:
            self._request_read = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self._gone.wait()
        return {"type": "http.disconnect"}

    async def _send(self, message: dict) -> None:
        await self._sent.put(message)

    async def response_start(self) -> dict:
        return await asyncio.wait_for(self._sent.get(), 5)

    async def next_chunk(self, timeout: float = 5) -> str:
        message = await asyncio.wait_for(self._sent.get(), timeout)
        return message["body"].decode()

    async def next_event(self, timeout: float = 5) -> dict:
        """The next real event (keep-alives skipped), parsed into its fields. A chunk may carry
        several events (a catch-up batch), as an EventSource would split them."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not self._events:
            chunk = await self.next_chunk(deadline - asyncio.get_running_loop().time())
            for block in chunk.split("\n\n"):
                if "event: " in block:  # not keep-alives, nor the opening id/retry line
                    self._events.append(dict(line.split(": ", 1) for line in block.splitlines()))
        return self._events.pop(0)

    async def assert_quiet(self, seconds: float = 1.0) -> None:
        """Nothing but keep-alives for a while."""
        deadline = asyncio.get_running_loop().time() + seconds
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                chunk = await self.next_chunk(left + 0.5)
            except TimeoutError:
                return
            assert "event: " not in chunk, f"unexpected event: {chunk!r}"

    async def close(self) -> None:
        """The tab goes away: the app must notice and end."""
        self._gone.set()
        await asyncio.wait_for(self.task, 5)


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def stream_scope(*, cookie: str = "", query: str = "", headers: dict | None = None) -> dict:
    raw_headers = [(b"host", b"127.0.0.1:8000")]
    if cookie:
        raw_headers.append((b"cookie", cookie.encode()))
    for name, value in (headers or {}).items():
        raw_headers.append((name.lower().encode(), value.encode()))
    return {
        "type": "http",
        "method": "GET",
        "path": "/messages/events/",
        "query_string": query.lstrip("?").encode(),
        "headers": raw_headers,
    }


async def open_stream(user, query: str = "", **headers) -> OpenStream:
    cookie = await sync_to_async(session_cookie)(user)
    stream = OpenStream(stream_scope(cookie=cookie, query=query, headers=headers))
    start = await stream.response_start()
    assert start["status"] == 200, start["status"]
    assert (b"content-type", b"text/event-stream; charset=utf-8") in start["headers"]
    assert "retry: " in await stream.next_chunk()
    return stream


async def wait_until_listening(hub) -> None:
    await asyncio.wait_for(hub.listening.wait(), 5)


@pytest_asyncio.fixture
async def people():
    make = sync_to_async(UserFactory)
    return await make(username="ada"), await make(username="bram"), await make(username="chen")


send = sync_to_async(conversation_send)


async def test_a_stream_carries_its_own_users_events_and_nobody_elses(hub, people):
    ada, bram, chen = people
    bram_stream = await open_stream(bram)
    chen_stream = await open_stream(chen)  # a stranger to the conversation
    await wait_until_listening(hub)

    message = await send(sender=ada, recipients=[bram], text="Blue sofa?")

    event = await bram_stream.next_event()
    assert event["event"] == "message.new"
    assert f'"message": {message.pk}' in event["data"]
    assert "Blue sofa" not in event["data"]  # ids only, never content
    await chen_stream.assert_quiet()
    await bram_stream.close()
    await chen_stream.close()


async def test_someone_who_left_hears_nothing_more(hub, people):
    ada, bram, chen = people
    first = await send(sender=ada, recipients=[bram, chen], text="Plans")
    await sync_to_async(conversation_leave)(conversation=first.conversation, user=chen)
    chen_stream = await open_stream(chen)
    bram_stream = await open_stream(bram)  # the control: the message is announced
    await wait_until_listening(hub)

    await sync_to_async(message_send)(sender=ada, conversation=first.conversation, text="More")

    assert (await bram_stream.next_event())["event"] == "message.new"
    await chen_stream.assert_quiet()
    await chen_stream.close()
    await bram_stream.close()


async def test_a_rolled_back_send_announces_nothing(hub, people):
    ada, bram, _ = people
    bram_stream = await open_stream(bram)
    await wait_until_listening(hub)

    def send_then_fail():
        with transaction.atomic():
            conversation_send(sender=ada, recipients=[bram], text="never happened")
            raise RuntimeError("the request failed after the send")

    with pytest.raises(RuntimeError):
        await sync_to_async(send_then_fail)()

    await bram_stream.assert_quiet()
    assert not await Event.objects.filter(user=bram).aexists()
    # The control: the same stream hears a send that commits.
    await send(sender=ada, recipients=[bram], text="this one happened")
    assert (await bram_stream.next_event())["event"] == "message.new"
    await bram_stream.close()


async def test_reconnecting_with_last_event_id_catches_up_exactly_what_was_missed(hub, people):
    ada, bram, _ = people
    bram_stream = await open_stream(bram)
    await wait_until_listening(hub)
    first = await send(sender=ada, recipients=[bram], text="one")
    seen = await bram_stream.next_event()
    await bram_stream.close()  # the laptop sleeps

    missed = [
        await sync_to_async(message_send)(
            sender=ada, conversation=first.conversation, text=f"missed {n}"
        )
        for n in range(3)
    ]

    again = await open_stream(bram, **{"Last-Event-ID": seen["id"]})
    caught_up = [await again.next_event() for _ in missed]
    assert [event["event"] for event in caught_up] == ["message.new"] * 3
    for event, message in zip(caught_up, missed, strict=True):
        assert f'"message": {message.pk}' in event["data"]
    assert [int(e["id"]) for e in caught_up] == sorted(int(e["id"]) for e in caught_up)
    await again.assert_quiet()  # no duplicates
    await again.close()


async def test_a_fresh_tab_hears_what_happened_between_its_render_and_its_stream(hub, people):
    ada, bram, _ = people
    first = await send(sender=ada, recipients=[bram], text="Dinner on Fridy?")
    # Bram's page is rendered a minute after the first message...
    await Event.objects.filter(user=bram).aupdate(created_at=timezone.now() - timedelta(minutes=2))
    rendered = int((timezone.now() - timedelta(minutes=1)).timestamp())
    # ...then Ada fixes her typo before his page's stream connects.
    await sync_to_async(message_edit)(message=first, editor=ada, text="Dinner on Friday?")

    stream = await open_stream(bram, f"?rendered={rendered}")
    event = await stream.next_event()
    assert event["event"] == "message.edited"
    assert f'"message": {first.pk}' in event["data"]
    await stream.assert_quiet()  # the message his page already showed is not announced again
    await stream.close()


async def test_a_page_rendered_long_ago_starts_its_stream_from_now(hub, people):
    ada, bram, _ = people
    await send(sender=ada, recipients=[bram], text="old news")
    an_hour_ago = int((timezone.now() - timedelta(hours=1)).timestamp())

    stream = await open_stream(bram, f"?rendered={an_hour_ago}")
    await wait_until_listening(hub)
    await stream.assert_quiet()
    # The control: what happens after the stream opened does arrive.
    await send(sender=ada, recipients=[bram], text="news")
    assert (await stream.next_event())["event"] == "message.new"
    await stream.close()


async def test_a_quiet_window_fails_when_an_event_arrives(hub, people):
    """assert_quiet, the tool of every "hears nothing" test above, can fail."""
    ada, bram, _ = people
    stream = await open_stream(bram)
    await wait_until_listening(hub)
    await send(sender=ada, recipients=[bram], text="noise")
    with pytest.raises(AssertionError, match="unexpected event"):
        await stream.assert_quiet()
    await stream.close()


async def test_the_listener_survives_a_dropped_database_connection(hub, people):
    ada, bram, _ = people
    bram_stream = await open_stream(bram)
    await wait_until_listening(hub)
    old_pid = hub.listener_pid

    def kill_listener():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [old_pid])

    await sync_to_async(kill_listener)()
    message = await send(sender=ada, recipients=[bram], text="after the outage")

    event = await bram_stream.next_event(timeout=10)
    assert f'"message": {message.pk}' in event["data"]
    await wait_until_listening(hub)
    assert hub.listener_pid != old_pid
    await bram_stream.close()


async def test_typing_reaches_the_others_with_the_typists_name(hub, people):
    ada, bram, chen = people
    message = await send(sender=ada, recipients=[bram], text="hi")
    ada_stream = await open_stream(ada)
    bram_stream = await open_stream(bram)
    chen_stream = await open_stream(chen)
    await wait_until_listening(hub)

    await sync_to_async(service_publish_typing)(conversation=message.conversation, user=bram)

    event = await ada_stream.next_event()
    assert event["event"] == "typing"
    assert '"name": "' + bram.name + '"' in event["data"]
    await bram_stream.assert_quiet(0.6)
    await chen_stream.assert_quiet(0.6)
    for stream in (ada_stream, bram_stream, chen_stream):
        await stream.close()


@pytest.mark.parametrize("who_blocked", ["viewer", "typist"])
async def test_typing_never_crosses_a_block(hub, people, who_blocked):
    # In a group, Ada and Bram have a block between them: his messages are collapsed for her,
    # and she must not hear "Bram is typing…" either (nor he hers); Chen still does.
    ada, bram, chen = people
    message = await send(sender=ada, recipients=[bram, chen], text="Plans for Friday?")
    blocker, blocked = (ada, bram) if who_blocked == "viewer" else (bram, ada)
    await sync_to_async(user_block)(blocker=blocker, blocked=blocked)
    ada_stream = await open_stream(ada)
    chen_stream = await open_stream(chen)
    await wait_until_listening(hub)

    await sync_to_async(service_publish_typing)(conversation=message.conversation, user=bram)

    event = await chen_stream.next_event()
    assert event["event"] == "typing"
    await ada_stream.assert_quiet(0.6)
    await ada_stream.close()
    await chen_stream.close()


async def test_an_event_committed_late_below_the_cursor_is_still_delivered(hub, people):
    # Ids are taken at insert, not at commit: a slow transaction can commit an event whose id
    # is lower than one the stream already sent.
    ada, bram, chen = people
    with_ada = await send(sender=ada, recipients=[bram], text="one")
    with_chen = await send(sender=chen, recipients=[bram], text="two")
    bram_stream = await open_stream(bram)
    await wait_until_listening(hub)
    inserted, release = threading.Event(), threading.Event()

    def slow_send():
        with transaction.atomic():
            message = message_send(sender=ada, conversation=with_ada.conversation, text="slow")
            inserted.set()
            release.wait(10)
        connections.close_all()
        return message

    slow = asyncio.create_task(asyncio.to_thread(slow_send))
    await asyncio.to_thread(inserted.wait, 10)
    fast = await sync_to_async(message_send)(
        sender=chen, conversation=with_chen.conversation, text="fast"
    )
    assert f'"message": {fast.pk}' in (await bram_stream.next_event())["data"]

    release.set()
    slow_message = await slow
    late = await bram_stream.next_event()
    assert f'"message": {slow_message.pk}' in late["data"]
    await bram_stream.assert_quiet()  # and nothing twice
    await bram_stream.close()


async def test_signed_out_tabs_are_told_to_stop():
    stream = OpenStream(stream_scope())
    assert (await stream.response_start())["status"] == 204
    await asyncio.wait_for(stream.task, 5)


async def test_a_session_whose_password_changed_is_signed_out(hub, people):
    ada, _, _ = people
    cookie = await sync_to_async(session_cookie)(ada)
    ada.set_password("a new secret")
    await ada.asave()
    stream = OpenStream(stream_scope(cookie=cookie))
    assert (await stream.response_start())["status"] == 204


@pytest.mark.parametrize("cookie", ["sessionid=abc%00def", "sessionid=" + "x" * 500, "garbage"])
async def test_a_malformed_session_cookie_is_nobody(hub, cookie):
    stream = OpenStream(stream_scope(cookie=cookie))
    assert (await stream.response_start())["status"] == 204


async def test_a_host_we_do_not_serve_is_refused(hub, people):
    ada, _, _ = people
    cookie = await sync_to_async(session_cookie)(ada)
    scope = stream_scope(cookie=cookie)
    scope["headers"][0] = (b"host", b"evil.example.com")
    stream = OpenStream(scope)
    assert (await stream.response_start())["status"] == 400


# --- A message request answered in another tab ------------------------------------------------


@pytest_asyncio.fixture
async def request_to_bea():
    """Al writes to Bea, who takes messages from nobody: a request waiting for her."""

    def make():
        al = UserFactory(username="al", display_name="Al")
        bea = UserFactory(
            username="bea", display_name="Bea", message_privacy=User.MessagePrivacy.NOBODY
        )
        return al, bea, conversation_send(sender=al, recipients=[bea], text="Hi").conversation

    return await sync_to_async(make)()


@pytest.fixture
def answer_request(htmx):
    """Answer a message request as `user` does from the Requests tab (an htmx POST)."""

    def answer(user, conversation, answer: str):
        client = Client()
        client.force_login(user)
        url = reverse("message_request_answer", args=[conversation.pk])
        return client.post(url, {"answer": answer}, **htmx)

    return answer


@pytest.mark.parametrize("answer", ["decline", "block"])
async def test_declining_in_one_tab_tells_the_persons_other_tabs(
    hub, request_to_bea, answer, answer_request
):
    al, bea, conversation = request_to_bea
    other_tab = await open_stream(bea)
    al_tab = await open_stream(al)
    await wait_until_listening(hub)

    response = await sync_to_async(answer_request)(bea, conversation, answer)
    assert response.status_code == 200  # htmx: off to the Requests tab

    event = await other_tab.next_event()
    assert event["event"] == "conversation.changed"
    # Counts only: the conversation is gone for her (its inbox row would be a 404).
    assert json.loads(event["data"]) == {
        "conversation": conversation.pk,
        "message": None,
        "declined": True,
    }
    await al_tab.assert_quiet(0.6)  # the sender is never told
    if answer == "decline":  # (after a block, Al can't write to her at all)
        # Nothing more of it reaches her.
        await sync_to_async(message_send)(sender=al, conversation=conversation, text="Hello?")
        await other_tab.assert_quiet(0.6)
    await other_tab.close()
    await al_tab.close()


async def test_accepting_in_one_tab_tells_the_persons_other_tabs(
    hub, request_to_bea, answer_request
):
    _, bea, conversation = request_to_bea
    other_tab = await open_stream(bea)
    await wait_until_listening(hub)

    response = await sync_to_async(answer_request)(bea, conversation, "accept")
    assert response.status_code == 200

    event = await other_tab.next_event()
    assert event["event"] == "conversation.changed"
    # No longer a request: the Requests count, the badge and the inbox row all refresh.
    assert json.loads(event["data"]) == {"conversation": conversation.pk, "message": None}
    await other_tab.close()


async def _seen_at(user):
    return await sync_to_async(
        lambda: Presence.objects.filter(user=user).values_list("seen_at", flat=True).first()
    )()


async def test_an_open_stream_records_its_person_as_present_within_a_second(hub, people):
    ada, bram, _ = people
    assert await _seen_at(ada) is None
    stream = await open_stream(ada)
    await asyncio.sleep(live.PRESENCE_ARRIVAL_SECONDS + 0.8)

    assert await _seen_at(ada) is not None
    assert await _seen_at(bram) is None  # no stream, never present
    await stream.close()


async def test_presence_is_renewed_while_the_stream_stays_open(hub, people, monkeypatch):
    monkeypatch.setattr(live, "PRESENCE_SECONDS", 1)
    ada = people[0]
    stream = await open_stream(ada)
    await asyncio.sleep(1.5)
    first = await _seen_at(ada)
    await asyncio.sleep(1.5)

    assert await _seen_at(ada) > first
    await stream.close()


async def test_a_notification_reaches_only_its_recipients_streams(hub, people):
    ada, bram, _ = people
    ada_stream = await open_stream(ada)
    bram_stream = await open_stream(bram)
    await wait_until_listening(hub)

    await sync_to_async(_publish_notification_in_a_transaction)(bram)

    event = await bram_stream.next_event()
    assert event["event"] == "notification"
    await ada_stream.assert_quiet()
    await ada_stream.close()
    await bram_stream.close()


def _publish_notification_in_a_transaction(user):
    with transaction.atomic():
        events.publish_notification(recipient_id=user.pk)
