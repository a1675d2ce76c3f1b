"""The live layer across real server processes: two event servers and a page server sharing
only PostgreSQL (one killed mid-conversation), and a tab that stops reading its stream."""

import json
import uuid
from urllib.parse import urlencode

import pytest
from django.db import connection

from messaging.models import Event
from messaging.services import conversation_send
from tests import servers
from tests.factories import UserFactory
from tests.servers import EventSourceClient, Visitor

pytestmark = pytest.mark.django_db(transaction=True)

CSRF = "k" * 32  # any token the cookie and the header agree on


@pytest.fixture
def start_server(tmp_path):
    started = []

    def start(kind: str, **env) -> servers.Server:
        launch = servers.launch_gunicorn if kind == "gunicorn" else servers.launch_uvicorn
        server = launch(env=servers.server_env(media_root=tmp_path, **env), log_dir=tmp_path)
        started.append(server)
        servers.wait_until_ready(server)
        return server

    yield start
    for server in started:
        server.stop()


def send_through(pages: servers.Server, visitor: Visitor, conversation_id: int, text: str) -> None:
    """POST a message as the composer does (htmx, CSRF header), through a page server."""
    body = urlencode({"text": text, "idempotency_key": str(uuid.uuid4())}).encode()
    headers = {**visitor.headers(post=True), "Content-Type": "application/x-www-form-urlencoded"}
    path = f"/messages/{conversation_id}/send/"
    status, _, _ = servers.request(pages.address, "POST", path, headers=headers, body=body)
    assert status == 200


def message_ids(events: list[dict]) -> list[int]:
    return [json.loads(event["data"])["message"] for event in events]


def test_two_event_servers_share_only_postgres_and_a_killed_one_loses_nothing(start_server):
    ada, bram = UserFactory(username="ada"), UserFactory(username="bram")
    conversation = conversation_send(sender=ada, recipients=[bram], text="Hi").conversation
    first, second = start_server("uvicorn"), start_server("uvicorn")
    pages = start_server("gunicorn")
    ada_visits, bram_visits = Visitor.signed_in(ada, csrftoken=CSRF), Visitor.signed_in(bram)
    # Bram has two tabs open, each routed to a different event server.
    tab_one = EventSourceClient(bram_visits).connect(first.address)
    tab_two = EventSourceClient(bram_visits).connect(second.address)

    send_through(pages, ada_visits, conversation.pk, "Seen by both tabs")
    both = [tab_one.next_event(), tab_two.next_event()]
    assert message_ids(both)[0] == message_ids(both)[1]

    first.process.kill()  # the first event server dies without a goodbye
    for n in range(3):
        send_through(pages, ada_visits, conversation.pk, f"While tab one was away {n}")
    missed = [tab_two.next_event() for _ in range(3)]

    # Tab one's browser reconnects, and the load balancer sends it to the surviving server.
    tab_one.close()
    tab_one.connect(second.address)
    caught_up = [tab_one.next_event() for _ in range(3)]
    assert message_ids(caught_up) == message_ids(missed)  # nothing lost, in order

    send_through(pages, ada_visits, conversation.pk, "After the failover")
    assert message_ids([tab_one.next_event()]) == message_ids([tab_two.next_event()])
    with pytest.raises(TimeoutError):  # and nothing twice
        tab_one.next_event(timeout=1)
    tab_one.close()
    tab_two.close()


def test_a_tab_that_stops_reading_is_dropped_with_bounded_memory_and_catches_up(start_server):
    ada, bram = UserFactory(username="ada"), UserFactory(username="bram")
    message = conversation_send(sender=ada, recipients=[bram], text="Hi")
    server = start_server("uvicorn", LIVE_SEND_TIMEOUT_SECONDS="2")
    stalled = EventSourceClient(Visitor.signed_in(bram), receive_buffer=4096)
    stalled.connect(server.address)
    baseline = server.rss_kib()

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
    # The server notices after 2 s without progress.
    assert servers.wait_for(lambda: dropped in server.log.read_text(), timeout=30)
    # The server held at most a batch and its socket buffers for the stalled tab, not the
    # 10 MB it could not send (20 MB leaves room for allocator noise).
    assert server.rss_kib() - baseline < 20 * 1024

    # The tab wakes up: it reads what reached it, then reconnects and gets the rest, once.
    first_part = stalled.read_all_until_closed()
    stalled.close()
    rest = EventSourceClient(Visitor.signed_in(bram))
    rest.last_event_id = stalled.last_event_id
    rest.connect(server.address)
    received = [int(event["id"]) for event in first_part]
    while len(received) < len(expected):
        received.append(int(rest.next_event()["id"]))
    assert len(received) == len(set(received))
    assert set(received) == expected
    rest.close()
