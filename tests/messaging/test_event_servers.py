"""The live layer across real server processes: two event servers and a page server sharing
only PostgreSQL (one killed mid-conversation), and a tab that stops reading its stream."""

import json
import time
import uuid
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
from django.conf import settings
from django.db import connection

from messaging.models import Event
from messaging.services import conversation_send
from tests.factories import UserFactory
from tests.live_servers import EventSourceClient, ServerProcess, cookie_header, signed_in_cookies

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def start_server(tmp_path):
    started = []

    def start(kind: str, **env) -> ServerProcess:
        server = ServerProcess(
            kind, media_root=tmp_path / "media", log_path=tmp_path / f"{kind}-{len(started)}.log",
            **env,
        )  # fmt: skip
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


def send_through(pages: ServerProcess, cookies: dict, conversation_id: int, text: str) -> None:
    """POST a message as the composer does (htmx, CSRF header), through a page server."""
    request = Request(
        f"{pages.url}/messages/{conversation_id}/send/",
        data=urlencode({"text": text, "idempotency_key": str(uuid.uuid4())}).encode(),
        headers={
            "Cookie": cookie_header(cookies),
            "X-CSRFToken": cookies[settings.CSRF_COOKIE_NAME],
            "HX-Request": "true",
        },
    )
    with urlopen(request, timeout=10) as response:
        assert response.status == 200


def message_ids(events: list[dict]) -> list[int]:
    return [json.loads(event["data"])["message"] for event in events]


def test_two_event_servers_share_only_postgres_and_a_killed_one_loses_nothing(start_server):
    ada, bram = UserFactory(username="ada"), UserFactory(username="bram")
    conversation = conversation_send(sender=ada, recipients=[bram], text="Hi").conversation
    first, second = start_server("uvicorn"), start_server("uvicorn")
    pages = start_server("gunicorn")
    ada_cookies, bram_cookies = signed_in_cookies(ada), signed_in_cookies(bram)
    # Bram has two tabs open, each routed to a different event server.
    tab_one = EventSourceClient(bram_cookies).connect(first.url)
    tab_two = EventSourceClient(bram_cookies).connect(second.url)

    send_through(pages, ada_cookies, conversation.pk, "Seen by both tabs")
    both = [tab_one.next_event(), tab_two.next_event()]
    assert message_ids(both)[0] == message_ids(both)[1]

    first.kill()  # the first event server dies without a goodbye
    for n in range(3):
        send_through(pages, ada_cookies, conversation.pk, f"While tab one was away {n}")
    missed = [tab_two.next_event() for _ in range(3)]

    # Tab one's browser reconnects, and the load balancer sends it to the surviving server.
    tab_one.close()
    tab_one.connect(second.url)
    caught_up = [tab_one.next_event() for _ in range(3)]
    assert message_ids(caught_up) == message_ids(missed)  # nothing lost, in order

    send_through(pages, ada_cookies, conversation.pk, "After the failover")
    assert message_ids([tab_one.next_event()]) == message_ids([tab_two.next_event()])
    with pytest.raises(TimeoutError):  # and nothing twice
        tab_one.next_event(timeout=1)
    tab_one.close()
    tab_two.close()


def test_a_tab_that_stops_reading_is_dropped_with_bounded_memory_and_catches_up(start_server):
    ada, bram = UserFactory(username="ada"), UserFactory(username="bram")
    message = conversation_send(sender=ada, recipients=[bram], text="Hi")
    server = start_server("uvicorn", LIVE_SEND_TIMEOUT_SECONDS="2")
    stalled = EventSourceClient(signed_in_cookies(bram), receive_buffer=4096).connect(server.url)
    baseline = server.status()["VmRSS"]

    # 100,000 events for Bram (about 10 MB of stream: more than any socket buffer holds),
    # announced at once, while his tab reads nothing.
    total = 100_000
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO messaging_event (user_id, kind, conversation_id, message_id, created_at)
               SELECT %s, 'message.new', %s, %s, now() FROM generate_series(1, %s)""",
            [bram.pk, message.conversation_id, message.pk, total],
        )
        cursor.execute("SELECT pg_notify('pinboard_events', %s)", [f'{{"users": [{bram.pk}]}}'])
    # Everything after the point the tab's stream started from.
    started_from = int(stalled.last_event_id)
    expected = set(
        Event.objects.filter(user=bram, id__gt=started_from).values_list("id", flat=True)
    )
    assert len(expected) == total

    dropped = "dropped a tab of user"
    deadline = time.monotonic() + 30  # the server notices after 2 s without progress
    while dropped not in server.log() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert dropped in server.log()
    # The server held at most a batch and its socket buffers for the stalled tab, not the
    # 10 MB it could not send (20 MB leaves room for allocator noise).
    assert server.status()["VmRSS"] - baseline < 20 * 1024

    # The tab wakes up: it reads what reached it, then reconnects and gets the rest, once.
    first_part = stalled.read_all_until_closed()
    stalled.close()
    rest = EventSourceClient(signed_in_cookies(bram))
    rest.last_event_id = stalled.last_event_id
    rest.connect(server.url)
    received = [int(event["id"]) for event in first_part]
    while len(received) < len(expected):
        received.append(int(rest.next_event()["id"]))
    assert len(received) == len(set(received))
    assert set(received) == expected
    rest.close()
