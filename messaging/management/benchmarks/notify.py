"""The NOTIFY budget benchmark behind `manage.py bench_notify` (issue 11, DESIGN.md §5).

How many messages per second can the services send, and how much do the other writes (likes,
saves) slow down meanwhile, with and without publishing? Publishing (messaging/events.py) is a
row per recipient in the events table plus a pg_notify in the same transaction; PostgreSQL
takes a cluster-wide lock while it queues notifications at commit, so notifying commits
serialize. The configurations separate the costs; the publishing code is switched at run time
inside the writer processes only:

- idle: no senders, only the likes and saves (their baseline).
- none: sends without publishing (no rows, no NOTIFY).
- rows: event rows, no NOTIFY (the services' statement without its pg_notify).
- notify: what the services do: one statement finds the recipients, inserts their rows and
  NOTIFYs them (messaging/events.py).
- orm: how the services published before: a recipient query, a bulk insert of one Event object
  per recipient, then a NOTIFY (three round trips and the Python around them).
- batch: the alternative for scaling out past NOTIFY's commit lock. Senders write rows only; one
  notifier process per database reads new event rows by id cursor every BATCH_INTERVAL and
  sends one NOTIFY per batch.

Every writer is its own process with its own database connection (Python threads would share
one GIL): `writers` senders, each sending into its own conversation of `group_size` people (the
members take turns), one liker (like, unlike, like, ... one transaction each) and one saver
(pin_save of the same pin). One LISTEN connection drains notifications throughout, as an event
server does. Everyone starts together, runs WARMUP seconds uncounted, then `duration` seconds
counted. Only benchmark users (PREFIX...) and their conversations, pins and likes are touched.

Rates depend on whatever else the machine runs; the CPU a send costs (the sender process plus
its PostgreSQL backend, read from /proc when PostgreSQL runs on the same machine) much less so.
Lock waits (NOTIFY's) cost time, not CPU: they show in the rates and service times.
"""

import io
import json
import multiprocessing
import os
import statistics
import time
from dataclasses import dataclass, field

from django.db import connection, connections, transaction
from PIL import Image

from accounts.models import User
from messaging import events, services
from messaging.models import Conversation, Event, Message, Participant
from pinboard import services as pin_services
from pinboard.images import normalize_pin_upload, pin_image_store
from pinboard.models import Board, Like, Pin

PREFIX = "notifybench"
CONFIGURATIONS = ("idle", "none", "rows", "notify", "orm", "batch")
WARMUP = 1.0  # seconds run before counting starts
BATCH_INTERVAL = 0.05  # seconds between the batch notifier's reads of the events table
# The batch prototype's channel: its payloads are not the event servers' (listening: our listener).
BATCH_CHANNEL = f"{events.CHANNEL}_bench"
JOIN_TIMEOUT = 60.0  # beyond the run's own length


@dataclass(frozen=True)
class Data:
    conversations: list[int]  # one per sender process
    pins_user: int  # likes and saves its own pin (on a secret board, so no one else sees it)
    pin: int
    save_board: int


@dataclass
class Run:
    configuration: str
    sends: int = 0
    likes: int = 0
    saves: int = 0
    heard: int = 0  # notifications the listener received
    batches: int = 0  # NOTIFYs sent by the batch notifier
    send_ms: list[float] = field(default_factory=list)
    send_cpu: float = 0.0  # seconds of CPU used by the senders and their database backends


# --- Benchmark data ----------------------------------------------------------------------------


def _users(names: list[str]) -> dict[str, int]:
    existing = dict(User.objects.filter(username__in=names).values_list("username", "pk"))
    User.objects.bulk_create(
        [
            User(username=name, email=f"{name}@bench.invalid", password="!")
            for name in names
            if name not in existing
        ]
    )
    return dict(User.objects.filter(username__in=names).values_list("username", "pk"))


@transaction.atomic
def prepare(*, writers: int, group_size: int) -> Data:
    """Users, one conversation per sender (members not shared between senders) and a pin to
    like and save; made once, reused by later runs."""
    names = [f"{PREFIX}{n}" for n in range(writers * group_size)]
    ids = _users([*names, f"{PREFIX}-pins"])
    conversations = []
    for writer in range(writers):
        name = f"{PREFIX} {group_size}x{writer}"
        members = names[writer * group_size : (writer + 1) * group_size]
        conversation = Conversation.objects.filter(name=name, created_by_id=ids[members[0]]).first()
        if conversation is None:
            conversation = Conversation.objects.create(name=name, created_by_id=ids[members[0]])
            Participant.objects.bulk_create(
                [Participant(conversation=conversation, user_id=ids[m]) for m in members]
            )
        conversations.append(conversation.pk)
    owner = ids[f"{PREFIX}-pins"]
    source, _ = Board.objects.get_or_create(owner_id=owner, name="Liked", is_secret=True)
    saves, _ = Board.objects.get_or_create(owner_id=owner, name="Saves", is_secret=True)
    pin = Pin.objects.filter(board=source).first()
    if pin is None:
        buffer = io.BytesIO()
        Image.new("RGB", (40, 30), (90, 120, 200)).save(buffer, format="PNG")
        buffer.seek(0)
        image = pin_image_store(normalize_pin_upload(buffer))
        pin = Pin.objects.create(owner_id=owner, board=source, image=image, title="Bench pin")
    return Data(conversations, owner, pin.pk, saves.pk)


def clean() -> None:
    """Remove what earlier runs wrote: benchmark messages (and their events), likes and saves."""
    users = User.objects.filter(username__startswith=PREFIX)
    with transaction.atomic():
        Event.objects.filter(user__in=users).delete()
        Conversation.objects.filter(created_by__in=users).update(last_message=None)
        Message.objects.filter(conversation__created_by__in=users)._raw_delete(connection.alias)
        Participant.objects.filter(user__in=users).update(unread_count=0, last_read_message_id=0)
        Like.objects.filter(user__in=users).delete()
        Pin.objects.filter(owner__in=users, saved_from__isnull=False).delete()


# --- The processes -----------------------------------------------------------------------------


def _orm_publish(*, kind, conversation, recipient_ids=None, message=None) -> None:
    """How the services published before (kept to measure against): a query for the
    recipients, one Event object each in a bulk insert, then the NOTIFY."""
    if recipient_ids is None:
        recipient_ids = events.active_member_ids(conversation)
    if recipient_ids:
        Event.objects.bulk_create(
            Event(user_id=user_id, kind=kind, conversation=conversation, message=message)
            for user_id in recipient_ids
        )
        events._notify({"users": sorted(set(recipient_ids))})


def _publishing(configuration: str) -> None:
    """Switch publishing in this (writer) process only."""
    if configuration == "none":
        events.publish_to_members = events.publish = lambda **kwargs: None
    elif configuration in ("rows", "batch"):  # the same statement, without its NOTIFY
        events._NOTIFY_RECIPIENTS = "1"
    elif configuration == "orm":
        events.publish_to_members = events.publish = _orm_publish


def _sender(conversation_id: int):
    conversation = Conversation.objects.get(pk=conversation_id)
    members = list(User.objects.filter(participations__conversation=conversation).order_by("pk"))
    turn = 0

    def send() -> str:
        nonlocal turn
        turn += 1
        services.message_send(
            sender=members[turn % len(members)], conversation=conversation, text=f"bench {turn}"
        )
        return "sends"

    return send


def _liker(data: Data):
    user, pin = User.objects.get(pk=data.pins_user), Pin.objects.get(pk=data.pin)
    Like.objects.filter(user=user, pin=pin).delete()
    liked = False

    def like() -> str:
        nonlocal liked
        if liked:
            pin_services.pin_unlike(user=user, pin=pin)
        else:
            pin_services.pin_like(user=user, pin=pin)
        liked = not liked
        return "likes"

    return like


def _saver(data: Data):
    user, pin = User.objects.get(pk=data.pins_user), Pin.objects.get(pk=data.pin)
    board = Board.objects.get(pk=data.save_board)

    def save() -> str:
        pin_services.pin_save(user=user, pin=pin, board=board)
        return "saves"

    return save


def _listener():
    """One LISTEN connection, as each event server keeps, draining what arrives."""
    connection.ensure_connection()
    raw = connection.connection  # psycopg's, in autocommit mode as Django keeps it
    raw.execute(f"LISTEN {events.CHANNEL}")
    raw.execute(f"LISTEN {BATCH_CHANNEL}")

    def listen() -> str | None:
        return "heard" if next(raw.notifies(timeout=0.1, stop_after=1), None) else None

    return listen


def _batch_notifier():
    """The prototype: read new event rows by id and NOTIFY once per batch (ids only)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM messaging_event")
        cursor_id = cursor.fetchone()[0]

    def notify() -> str | None:
        nonlocal cursor_id
        time.sleep(BATCH_INTERVAL)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT array_agg(DISTINCT user_id), max(id) FROM messaging_event WHERE id > %s",
                [cursor_id],
            )
            users, last = cursor.fetchone()
            if last is None:
                return None
            # A real notifier would split the user list to stay under NOTIFY's 8000-byte payload.
            payload = json.dumps({"users": users, "after": cursor_id, "last": last})
            cursor.execute("SELECT pg_notify(%s, %s)", [BATCH_CHANNEL, payload])
        cursor_id = last
        return "batches"

    return notify


def _cpu_seconds(backend_pid: int) -> float:
    """CPU time used so far by this process and by its PostgreSQL backend (0 for the backend
    when PostgreSQL runs elsewhere: then /proc has no such postgres process)."""
    used = time.process_time()
    try:
        with open(f"/proc/{backend_pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        with open(f"/proc/{backend_pid}/comm") as comm:
            if comm.read().strip() == "postgres":
                used += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        pass
    return used


def _process(role, argument, configuration, start, duration, results) -> None:
    """Set up, wait for everyone, loop `role`'s step until the end; count the steps that
    started in the counted window, and the CPU they used."""
    try:
        _publishing(configuration)
        step = role(argument) if argument is not None else role()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backend_pid = cursor.fetchone()[0]
        run = Run(configuration)
        start.wait(timeout=JOIN_TIMEOUT)
        begin = time.monotonic() + WARMUP
        end = begin + duration
        cpu_at_begin = None
        while (now := time.monotonic()) < end:
            if now >= begin and cpu_at_begin is None:
                cpu_at_begin = _cpu_seconds(backend_pid)
            what = step()
            if what and now >= begin:
                setattr(run, what, getattr(run, what) + 1)
                if what == "sends":
                    run.send_ms.append((time.monotonic() - now) * 1000)
        if role is _sender and cpu_at_begin is not None:
            run.send_cpu = _cpu_seconds(backend_pid) - cpu_at_begin
        results.put(run)
    except BaseException as error:  # reported to the parent, which fails the command
        results.put(f"{role.__name__}: {error!r}")
    finally:
        connections.close_all()


def run_once(*, configuration: str, data: Data, duration: float) -> Run:
    jobs = [(_liker, data), (_saver, data), (_listener, None)]
    if configuration != "idle":
        jobs += [(_sender, conversation) for conversation in data.conversations]
    if configuration.endswith("batch"):
        jobs.append((_batch_notifier, None))
    context = multiprocessing.get_context("fork")  # children inherit settings (and test database)
    start, results = context.Barrier(len(jobs)), context.Queue()
    connections.close_all()  # never share a connection with the children
    processes = [
        context.Process(
            target=_process,
            args=(role, argument, configuration, start, duration, results),
            daemon=True,
        )
        for role, argument in jobs
    ]
    for process in processes:
        process.start()
    total, errors = Run(configuration), []
    try:
        for _ in processes:
            part = results.get(timeout=duration + WARMUP + JOIN_TIMEOUT)
            if isinstance(part, str):
                errors.append(part)
                continue
            for name in ("sends", "likes", "saves", "heard", "batches"):
                setattr(total, name, getattr(total, name) + getattr(part, name))
            total.send_ms += part.send_ms
            total.send_cpu += part.send_cpu
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
    if errors:
        raise RuntimeError("; ".join(errors))
    return total


@dataclass
class Row:
    configuration: str
    runs: list[Run]
    duration: float

    def rate(self, name: str) -> list[float]:
        return sorted(getattr(run, name) / self.duration for run in self.runs)

    def percentile(self, p: int) -> float | None:
        """The median over runs of each run's p-th percentile of send service time."""
        values = [
            statistics.quantiles(run.send_ms, n=100, method="inclusive")[p - 1]
            for run in self.runs
            if len(run.send_ms) >= 2
        ]
        return statistics.median(values) if values else None

    def cpu_ms_per_send(self) -> float | None:
        values = [run.send_cpu * 1000 / run.sends for run in self.runs if run.sends]
        return statistics.median(values) if values else None


def benchmark(
    *, writers: int, group_size: int, duration: float, rounds: int, configurations: list[str]
) -> list[Row]:
    """Run the configurations in turn (A B C A B C ...), `rounds` times each."""
    data = prepare(writers=writers, group_size=group_size)
    clean()
    runs = {name: [] for name in configurations}
    try:
        for _ in range(rounds):
            for name in configurations:
                runs[name].append(run_once(configuration=name, data=data, duration=duration))
    finally:
        clean()
    return [Row(name, runs[name], duration) for name in configurations]


def table(rows: list[Row]) -> list[str]:
    def spread(values: list[float]) -> str:
        median = statistics.median(values)
        if len(values) == 1:
            return f"{median:.0f}"
        return f"{median:.0f} ({values[0]:.0f}-{values[-1]:.0f})"

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    lines = [
        "| Configuration | Sends/s | Likes/s | Saves/s | Send p50 (ms) | Send p99 (ms) "
        "| CPU per send (ms) | NOTIFYs heard/s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        lines.append(
            f"| {row.configuration} | {spread(row.rate('sends'))} | {spread(row.rate('likes'))} "
            f"| {spread(row.rate('saves'))} | {ms(row.percentile(50))} | {ms(row.percentile(99))} "
            f"| {ms(row.cpu_ms_per_send())} | {statistics.median(row.rate('heard')):.0f} |"
        )
    return lines
