"""Live events for open tabs: one LISTEN connection per server process, fanned out in memory to
that process's server-sent-event streams (DESIGN.md §5).

NOTIFY payloads carry only user ids. A woken stream reads the person's new events from the
database (re-checking that they are still in the conversation), so a stream never carries
another user's events, a reconnecting tab catches up from its Last-Event-ID, and a dropped
LISTEN connection loses nothing: after reconnecting, every stream that is behind is woken to
catch up.
"""

import asyncio
import contextlib
import json
import logging
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import psycopg
from django.db import connections
from django.db.models import Case, Exists, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, NullIf
from psycopg.conninfo import make_conninfo
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from accounts.models import Block, User
from messaging.compiled import CompiledQuery
from messaging.events import CHANNEL
from messaging.models import Conversation, Event, Participant

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 15
RETRY_MILLISECONDS = 2000
QUEUE_SIZE = 64
BATCH = 200
# How far back (in event ids, all users) each read looks for events that committed late.
OVERLAP_IDS = 1000
# Streams borrow from a small pool for their reads: thousands of open tabs share a handful of
# PostgreSQL connections (the LISTEN connection is separate).
READ_POOL_SIZE = 4
WAKE = object()  # "you may have new events in the database"
# How often the people with an open stream are recorded as present (messaging.models.Presence);
# someone who just connected is recorded within PRESENCE_ARRIVAL_SECONDS.
PRESENCE_SECONDS = 20
PRESENCE_ARRIVAL_SECONDS = 1


def _events_query(*, user, after):
    """The person's next BATCH events after the cursor, each with whether they may see it now
    (the conversation rule, ConversationQuerySet.readable_by: in it, not declined, not hidden by
    a block), `is_request` (the tab updates its Requests count rather than the unread badge) and
    `declined`.

    One exception to the rule: the "conversation.changed" that declining publishes to the
    decliner's own tabs (recorded at or after `declined_at`; nobody else's change reaches a
    declined person, see events.publish_to_members), so their other tabs refresh the Requests
    count. It carries ids only and is let through even when the decline came with a block that
    hides the conversation; `declined` tells the tab to refresh its counts and nothing else.

    The next events are picked first, by the (user, id) index, and only then checked: asked for
    "the first 200 visible events", the planner read and checked every event after the cursor
    (268 ms a batch for a person with 50,000 waiting). Every candidate comes back, with
    `visible`, so the caller pages by what was scanned.
    """
    person = User(pk=user)
    next_ids = Event.objects.filter(user_id=user, id__gt=after).order_by("id").values("id")
    theirs = Participant.objects.filter(conversation=OuterRef("conversation_id"), user_id=user)
    readable = Conversation.objects.readable_by(person).filter(pk=OuterRef("conversation_id"))
    decline_notice = theirs.filter(
        left_at__isnull=True, declined_at__isnull=False, declined_at__lte=OuterRef("created_at")
    )
    visible = (
        Exists(readable)
        # A person's own bell: what it shows is checked when the bell renders it.
        | Q(kind=Event.Kind.NOTIFICATION)
        | (Q(kind=Event.Kind.CONVERSATION_CHANGED) & Exists(decline_notice))
    )
    return (
        Event.objects.filter(pk__in=next_ids[:BATCH])
        .annotate(
            is_request=Subquery(theirs.values("is_request")[:1]),
            declined=Exists(theirs.filter(declined_at__isnull=False)),
            visible=Case(When(visible, then=True), default=False),
        )
        .order_by("id")
        .values_list(
            "id", "kind", "conversation_id", "message_id", "is_request", "declined", "visible"
        )
    )


def _typist_query(*, typist, viewer, conversation):
    """The typist's name, if the viewer may read the conversation and no block stands between
    the two (their messages would be collapsed for each other: no typing notice either)."""
    readable = Conversation.objects.readable_by(User(pk=viewer)).filter(pk=conversation)
    return (
        User.objects.filter(pk=typist)
        .filter(Exists(readable))
        .exclude(Exists(Block.objects.between(viewer, typist)))
        .values_list(Coalesce(NullIf("display_name", Value("")), "username"))
    )


EVENTS = CompiledQuery(_events_query, "user", "after")
TYPIST = CompiledQuery(_typist_query, "typist", "viewer", "conversation")
_LATEST_SQL = "SELECT COALESCE(MAX(id), 0) FROM messaging_event WHERE user_id = %(user)s"
_LATEST_BEFORE_SQL = """
    SELECT COALESCE(MAX(id), 0) FROM messaging_event
    WHERE user_id = %(user)s AND created_at < %(before)s
"""
_KNOWN_SQL = """
    SELECT id FROM messaging_event
    WHERE user_id = %(user)s AND id > %(after)s AND id <= %(upto)s
"""
_PRESENCE_SQL = """
    INSERT INTO messaging_presence (user_id, seen_at)
    SELECT id, now() FROM unnest(%(users)s::bigint[]) AS u(id)
    WHERE EXISTS (SELECT 1 FROM accounts_user WHERE accounts_user.id = u.id)
    ON CONFLICT (user_id) DO UPDATE SET seen_at = EXCLUDED.seen_at
"""
_NEWEST_SQL = """
    SELECT u.id, (SELECT MAX(e.id) FROM messaging_event e WHERE e.user_id = u.id)
    FROM unnest(%(users)s::bigint[]) AS u(id)
"""


def database_conninfo() -> str:
    """Connect directly to PostgreSQL as Django does (LISTEN needs a real session: never go
    through a transaction-mode pooler)."""
    params = connections["default"].get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    return make_conninfo(**{k: v for k, v in params.items() if isinstance(v, str | int)})


@dataclass(frozen=True)
class LiveEvent:
    id: int | None
    kind: str
    data: dict

    def encode(self) -> str:
        lines = [f"id: {self.id}"] if self.id is not None else []
        lines += [f"event: {self.kind}", f"data: {json.dumps(self.data)}"]
        return "\n".join(lines) + "\n\n"


class EventHub:
    """Holds the process's LISTEN connection and the open streams' wake-up queues."""

    def __init__(self) -> None:
        self._queues: dict[int, set[asyncio.Queue]] = defaultdict(set)
        self._task: asyncio.Task | None = None
        self._presence_task: asyncio.Task | None = None
        self._arrived: set[int] = set()
        self._pool: AsyncConnectionPool | None = None
        self.listening = asyncio.Event()
        self.listener_pid: int | None = None

    async def read(self, sql: str, params: dict | list) -> list[tuple]:
        """Run a read for a stream on the shared pool (opened on first use)."""
        async with await self._connection() as conn:
            return await _query(conn, sql, params)

    async def _connection(self):
        if self._pool is None:
            self._pool = AsyncConnectionPool(
                database_conninfo(),
                min_size=1,
                max_size=READ_POOL_SIZE,
                kwargs={"autocommit": True},
                # After a database restart the idle connections are dead: check each one as it
                # is taken, or the first reads fail and their streams miss what they were told
                # to catch up (3 messages lost in `manage.py bench_live --restart-db-at`).
                check=AsyncConnectionPool.check_connection,
                open=False,
            )
            await self._pool.open()
        return self._pool.connection()

    def subscribe(self, user_id: int) -> asyncio.Queue:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._listen_forever())
        if self._presence_task is None or self._presence_task.done():
            self._presence_task = loop.create_task(self._record_presence_forever())
        queue: asyncio.Queue = asyncio.Queue(maxsize=QUEUE_SIZE)
        if user_id not in self._queues:
            self._arrived.add(user_id)
        self._queues[user_id].add(queue)
        return queue

    async def _record_presence_forever(self) -> None:
        """Record who has a stream open: those who just arrived within a second, everyone
        every PRESENCE_SECONDS. One statement each time, whatever the number of streams, so
        email and push can skip people who are looking (and a lost database costs a warning)."""
        loop = asyncio.get_running_loop()
        next_full = loop.time()
        while True:
            await asyncio.sleep(PRESENCE_ARRIVAL_SECONDS)
            if loop.time() >= next_full:
                users, next_full = list(self._queues), loop.time() + PRESENCE_SECONDS
            else:
                users = [user for user in self._arrived if user in self._queues]
            self._arrived.clear()
            if not users:
                continue
            try:
                async with await self._connection() as conn:
                    await conn.execute(_PRESENCE_SQL, {"users": users})
            except (psycopg.Error, PoolTimeout):
                logger.warning("Live events: could not record who is present")

    def unsubscribe(self, user_id: int, queue: asyncio.Queue) -> None:
        queues = self._queues.get(user_id)
        if queues is not None:
            queues.discard(queue)
            if not queues:
                del self._queues[user_id]

    async def stop(self) -> None:
        """Close the LISTEN connection and the read pool (server shutdown, tests)."""
        for task in (self._task, self._presence_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._presence_task = None
        if self._pool is not None:
            await self._pool.close()
            self._pool = None
        self.listening.clear()

    @property
    def stream_count(self) -> int:
        return sum(len(queues) for queues in self._queues.values())

    def _offer(self, queue: asyncio.Queue, item) -> None:
        # The stream coalesces what is waiting when it wakes (see Stream.__aiter__); a full
        # queue already holds wake-ups enough.
        with contextlib.suppress(asyncio.QueueFull):
            queue.put_nowait(item)

    def dispatch(self, payload: str) -> None:
        try:
            data = json.loads(payload)
            user_ids = [int(user_id) for user_id in data["users"]]
        except (ValueError, KeyError, TypeError):
            logger.warning("Ignoring a malformed live event: %r", payload)
            return
        item = data.get("typing", WAKE)
        for user_id in user_ids:
            for queue in self._queues.get(user_id, ()):
                self._offer(queue, item)

    async def _catch_up(self, conn: psycopg.AsyncConnection) -> None:
        """After (re)connecting, tell each open stream the newest event id of its person: only
        the streams behind it read. Waking every stream instead made 5,000 streams run 5,000
        reads through the small pool after a database restart, and the reads for new messages
        queued behind them for ~6 s (`manage.py bench_live --restart-db-at`)."""
        if not self._queues:
            return
        async with conn.cursor() as cursor:
            await cursor.execute(_NEWEST_SQL, {"users": list(self._queues)})
            newest = await cursor.fetchall()
        for user_id, event_id in newest:
            if event_id is None:  # no events at all yet
                continue
            for queue in self._queues.get(user_id, ()):
                self._offer(queue, event_id)

    async def _listen_forever(self) -> None:
        delay = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    database_conninfo(), autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.listener_pid = conn.info.backend_pid
                    self.listening.set()
                    delay = 0.5
                    # Anything committed while we were not listening is in the database.
                    await self._catch_up(conn)
                    async for notify in conn.notifies():
                        self.dispatch(notify.payload)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("Live events: lost the database, retrying in %.1fs", delay)
            self.listening.clear()
            await asyncio.sleep(delay)
            # At most 2 s: a restarted database is back within seconds, and every second the
            # listener waits is a second of delay for every message.
            delay = min(delay * 2, 2)


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, EventHub]" = (
    weakref.WeakKeyDictionary()
)


def get_hub() -> EventHub:
    """One hub per event loop (a server process has one loop; tests may make several)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = EventHub()
    return hub


async def stop_hubs() -> None:
    """Close this event loop's LISTEN connection and read pool (server shutdown)."""
    hub = _hubs.pop(asyncio.get_running_loop(), None)
    if hub is not None:
        await hub.stop()


async def _query(conn: psycopg.AsyncConnection, sql: str, params: dict | list) -> list[tuple]:
    async with conn.cursor() as cursor:
        await cursor.execute(sql, params)
        return await cursor.fetchall()


class Stream:
    """One open tab's stream: its cursor, and reads through the hub's shared pool."""

    def __init__(
        self, *, user_id: int, last_event_id: int | None, rendered_at: datetime | None = None
    ) -> None:
        self.user_id = user_id
        self.cursor = last_event_id
        self.rendered_at = rendered_at
        self.hub: EventHub | None = None
        self._started = False
        self._known: set[int] = set()

    async def _read(self, sql: str, params: dict | list) -> list[tuple]:
        try:
            return await self.hub.read(sql, params)
        except (psycopg.OperationalError, PoolTimeout):
            # The database is away: read nothing now; once it is back the listener wakes every
            # stream that is behind, and the cursor makes sure nothing is skipped.
            logger.warning("Live events: could not read events for user %s", self.user_id)
            return []

    async def _ensure_started(self) -> None:
        if not self._started:
            self._started = True
            await self._start()

    async def _start(self) -> None:
        """Set the cursor (the tab's Last-Event-ID, or "now") and remember which of the
        person's events just before it the tab already has, so the overlap below never
        repeats them."""
        if self.cursor is None and self.rendered_at is not None:
            # A fresh tab starts from when its page was rendered, not from when the stream
            # connected: an edit made in between would otherwise never reach it.
            rows = await self._read(
                _LATEST_BEFORE_SQL, {"user": self.user_id, "before": self.rendered_at}
            )
            self.cursor = rows[0][0] if rows else 0
        elif self.cursor is None:  # a tab that doesn't say starts from now
            rows = await self._read(_LATEST_SQL, {"user": self.user_id})
            self.cursor = rows[0][0] if rows else 0
        rows = await self._read(
            _KNOWN_SQL,
            {"user": self.user_id, "after": self.cursor - OVERLAP_IDS, "upto": self.cursor},
        )
        self._known.update(event_id for (event_id,) in rows)

    async def new_event_batches(self) -> AsyncIterator[list[LiveEvent]]:
        """The person's events the tab hasn't had, oldest first, a batch at a time: a tab
        catching up on 10,000 missed events gets them page by page, each sent (at the pace the
        tab reads) before the next is read, never as one giant response held in memory.

        Ids are handed out when a transaction inserts, not when it commits, so a concurrent
        write can commit an event *below* the cursor after a higher one was read. Each read
        therefore looks OVERLAP_IDS back and skips the events already sent.
        """
        await self._ensure_started()
        after = max(0, self.cursor - OVERLAP_IDS)
        while True:
            rows = await self._read(*EVENTS.bind(user=self.user_id, after=after))
            batch = []
            for event_id, kind, conversation_id, message_id, is_request, declined, visible in rows:
                after = event_id
                if not visible or event_id in self._known:
                    continue
                self._remember(event_id)
                self.cursor = max(self.cursor, event_id)
                data = {"conversation": conversation_id, "message": message_id}
                if declined:
                    data["declined"] = True
                elif is_request:
                    data["request"] = True
                batch.append(LiveEvent(event_id, kind, data))
            if batch:
                yield batch
            if len(rows) < BATCH:
                return

    def _remember(self, event_id: int) -> None:
        self._known.add(event_id)
        if len(self._known) > 4 * BATCH:  # keep only what the overlap can still reach
            floor = self.cursor - OVERLAP_IDS
            self._known = {known for known in self._known if known > floor}

    def _is_news(self, item) -> bool:
        """A wake-up, or (after the listener reconnected) the person's newest event id when the
        tab is behind it."""
        if item is WAKE:
            return True
        return isinstance(item, int) and (self.cursor is None or item > self.cursor)

    async def typing_notice(self, notice: dict) -> LiveEvent | None:
        try:
            typist, conversation = int(notice["user"]), int(notice["conversation"])
        except (KeyError, TypeError, ValueError):
            return None
        rows = await self._read(
            *TYPIST.bind(typist=typist, viewer=self.user_id, conversation=conversation)
        )
        if not rows:
            return None
        return LiveEvent(
            None, "typing", {"conversation": notice["conversation"], "name": rows[0][0]}
        )

    async def chunks(self) -> AsyncIterator[str]:
        """The stream's text, chunk by chunk: an opening id line, what the tab missed, then
        events as they come and a heartbeat whenever nothing has been sent for a while. The
        caller sends each chunk before asking for the next, so a tab that stops reading stops
        the reading too (see messaging/stream.py)."""
        hub = self.hub = get_hub()
        queue = hub.subscribe(self.user_id)
        try:
            # Set the cursor before the first byte goes out, so "from now" means from when the
            # tab opened. The id line (no data) sets the tab's Last-Event-ID to that starting
            # point at once: a tab that drops before or during its catch-up reconnects from
            # there and misses nothing.
            await self._ensure_started()
            yield f"id: {self.cursor}\nretry: {RETRY_MILLISECONDS}\n\n"
            async for batch in self.new_event_batches():
                yield _encode(batch)
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                # Take everything already waiting: many wake-ups make one read.
                items = [item]
                while not queue.empty():
                    items.append(queue.get_nowait())
                if any(self._is_news(waiting) for waiting in items):
                    async for batch in self.new_event_batches():
                        yield _encode(batch)
                for notice in (waiting for waiting in items if isinstance(waiting, dict)):
                    if (typing := await self.typing_notice(notice)) is not None:
                        yield typing.encode()
        finally:
            hub.unsubscribe(self.user_id, queue)


def _encode(events: list[LiveEvent]) -> str:
    return "".join(event.encode() for event in events)
