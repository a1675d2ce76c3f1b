"""Demo conversations: the showcase, sent through the services, and generated ones in bulk.

The showcase (content.SHOWCASE_CONVERSATIONS) is sent like a person's clicks would be, through
`conversation_send` / `message_send`, each message with a fixed idempotency key: a second run
finds them and sends nothing. It comes last in a run, so on a fresh database it is the newest
activity in demo1's inbox.

Generated conversations are written in bulk, like the generated pins: `bulk_create` in batches
with explicit times in chronological order, then a few UPDATE statements that set what the
services would have kept up to date (each conversation's last message, each participant's read
marker and unread count). Message ids are taken from the table's sequence in chronological order
before each batch, so ids grow with time (the conversation page's keyset and the read markers
rely on it) and a reply can point at a card of the same batch. No `Event` rows: those are only
for open tabs.

One generated conversation can be "Big thread" between demo1 and demo2, holding as many
messages as asked (`--big-conversation-messages`): the benchmark's long conversation.
"""

import bisect
import itertools
import math
import random
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef

from accounts.models import User
from messaging import services
from messaging.management.demo import content
from messaging.models import Conversation, Message, NotifyLevel, Participant
from pinboard.models import Board, Pin

BIG_THREAD_NAME = "Big thread"
BIG_THREAD_PEOPLE = ("demo1", "demo2")
FEED_USER = "demo1"  # the benchmark's signed-in person: in a share of the generated conversations

SHOWCASE_CONVERSATIONS = len(content.SHOWCASE_CONVERSATIONS)
SHOWCASE_MESSAGES = sum(len(spec.messages) for spec in content.SHOWCASE_CONVERSATIONS)

BATCH_SIZE = 5_000
LARGE_RUN = 10_000  # generated messages after which the planner statistics are refreshed
HISTORY = timedelta(days=365)
CARD_SOURCES = 5_000  # how many public pins (a sample over time) generated pin cards show

FEED_USER_SHARE = 0.25  # of generated conversations
GROUP_NAME_SHARE = 0.4  # of generated conversations of three people or more
MUTED_SHARE = 0.03  # of generated participants
# (people, weight): most conversations are between two people.
GROUP_SIZES = ((2, 70), (3, 15), (4, 6), (5, 4), (6, 2), (8, 2), (10, 1))
SAME_SENDER_AGAIN = 0.4  # someone sends two messages in a row
PIN_SHARE, BOARD_SHARE, PROFILE_SHARE = 0.10, 0.03, 0.02  # of generated messages
REPLY_SHARE = 0.3  # of the messages that follow a card closely, which reply to it
REPLY_DISTANCE = 6  # messages after a card during which it may still get a reply
EDITED_SHARE = 0.02  # of text messages
DELETED_SHARE = 0.01

# The idempotency keys of showcase messages: the same on every database.
KEY_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://pinboard.invalid/demo/conversations")

Progress = Callable[[str, int, int], None]


class SeedError(Exception):
    """The numbers asked for cannot be met (the message says why and what to change)."""


def showcase_key(conversation: content.ShowcaseConversation, message: content.ShowcaseMessage):
    return uuid.uuid5(KEY_NAMESPACE, f"{conversation.key}/{message.key}")


def group_capacity(users: int) -> int:
    """How many conversations with different people `users` people can have (2 to the
    participant cap in each): conversations are never duplicated for the same people."""
    largest = min(services.max_participants(), users)
    return sum(math.comb(users, size) for size in range(2, largest + 1))


@contextmanager
def _explicit_times() -> Iterator[None]:
    """Let generated rows carry their own times, which auto_now_add would overwrite."""
    fields = [
        Conversation._meta.get_field("created_at"),
        Participant._meta.get_field("joined_at"),
        Message._meta.get_field("created_at"),
    ]
    for time_field in fields:
        time_field.auto_now_add = False
    try:
        yield
    finally:
        for time_field in fields:
            time_field.auto_now_add = True


@dataclass
class _Send:
    """A showcase message still to send, with what it refers to."""

    spec: content.ShowcaseMessage
    key: uuid.UUID
    attachment: services.Attachment


@dataclass
class _Thread:
    """A generated conversation that gets messages in this run."""

    people: list[int]
    times: list[datetime]  # of the messages to add, oldest first
    pk: int | None = None  # None until a new conversation is created
    name: str = ""
    created_by: int | None = None
    last_sender: int | None = None
    last_card: int | None = None  # the newest card message that has no reply yet
    since_card: int = REPLY_DISTANCE + 1
    extra: int = 0  # messages to add in this run
    big: bool = False
    start: datetime | None = None  # an existing conversation's last activity

    @property
    def is_new(self) -> bool:
        return self.pk is None


@dataclass
class _Pools:
    """What generated cards show: things every demo user may see."""

    pins: list[int]  # oldest first
    pin_times: list[datetime]  # when each was pinned: a card never shows a pin from its future
    boards: list[int]
    people: list[int]

    def pin_before(self, rng: random.Random, moment: datetime) -> int | None:
        count = bisect.bisect_right(self.pin_times, moment)
        return self.pins[rng.randrange(count)] if count else None


class ConversationSeeder:
    def __init__(
        self,
        *,
        seed: int,
        now: datetime,
        users,
        people: dict[str, User],
        boards: dict[str, Board],
        result,
        progress: Progress | None,
    ) -> None:
        self.seed = seed
        self.rng = random.Random(f"{seed}:conversations")
        self.users = users  # every demo user
        self.now = now
        self.people = people
        self.boards = boards
        self.result = result
        self.progress = progress

    def run(self, *, conversations: int, messages: int, big: int) -> None:
        """Top the demo conversations up to `conversations`, holding `messages` messages, of
        which `big` are in the big thread (0: no big thread). The showcase is always made;
        every new conversation gets at least one message, even past the total."""
        users = self.users
        user_ids = list(users.order_by("id").values_list("pk", flat=True))
        plan = self._showcase_plan()
        showcase_openers = sum(1 for sends in plan.values() if sends and sends[0].spec.to)
        showcase_sends = sum(len(sends) for sends in plan.values())

        existing = Conversation.objects.filter(created_by__in=users)
        existing_conversations = existing.count()
        existing_messages = Message.objects.filter(conversation__in=existing).count()
        big_thread = self._big_thread() if big else None
        new_big = bool(big) and big_thread is None
        new_count = max(0, conversations - existing_conversations - showcase_openers - int(new_big))
        spare = max(0, messages - existing_messages - showcase_sends - new_count - int(new_big))
        big_more = 0
        if big:
            in_big = 1 if new_big else Message.objects.filter(conversation=big_thread).count()
            big_more = min(spare, max(0, big - in_big))
            spare -= big_more

        threads: list[_Thread] = []
        if new_big or big_more:
            threads.append(self._big(big_thread, 1 + big_more if new_big else big_more))
        taken = self._taken_groups(existing, user_ids)
        threads += [self._new_thread(group) for group in self._groups(new_count, user_ids, taken)]
        if spare:
            threads += self._spread(spare, [t for t in threads if not t.big], existing)
        for thread in threads:
            self._plan_times(thread)
        if threads:
            self._write(threads, user_ids)
        if sum(len(t.times) for t in threads) >= LARGE_RUN:
            self._refresh_statistics()
        self._send_showcase(plan)

    # --- The showcase -----------------------------------------------------------------------

    def _showcase_plan(self) -> dict[str, list[_Send]]:
        """The showcase messages not sent yet, with their cards, per conversation. A message
        whose card is gone (say `--pins` left that pin out) is left out, and so is a reply to a
        message that is neither there nor about to be sent."""
        specs = {
            showcase_key(conversation, message): message
            for conversation in content.SHOWCASE_CONVERSATIONS
            for message in conversation.messages
        }
        present = set(
            Message.objects.filter(idempotency_key__in=specs).values_list(
                "idempotency_key", flat=True
            )
        )
        plan = {}
        for conversation in content.SHOWCASE_CONVERSATIONS:
            sends = []
            available = {
                m.key for m in conversation.messages if showcase_key(conversation, m) in present
            }
            for message in conversation.messages:
                key = showcase_key(conversation, message)
                if key in present:
                    continue
                opener = message is conversation.messages[0]
                if not opener and conversation.messages[0].key not in available:
                    break  # the conversation could not be started
                attachment = self._showcase_attachment(message)
                if attachment is None or (message.reply_to and message.reply_to not in available):
                    if opener:
                        break
                    continue
                sends.append(_Send(spec=message, key=key, attachment=attachment))
                available.add(message.key)
            plan[conversation.key] = sends
        return plan

    def _showcase_attachment(self, message: content.ShowcaseMessage) -> services.Attachment | None:
        if message.pin:
            board_name, title = message.pin
            pin = (
                Pin.objects.filter(board=self.boards[board_name], title=title, saved_from=None)
                .order_by("id")
                .first()
            )
            return services.Attachment(pin=pin) if pin else None
        if message.board:
            return services.Attachment(board=self.boards[message.board])
        if message.profile:
            return services.Attachment(profile=self.people[message.profile])
        return services.NO_ATTACHMENT

    def _send_showcase(self, plan: dict[str, list[_Send]]) -> None:
        for spec in content.SHOWCASE_CONVERSATIONS:
            sends = plan[spec.key]
            if not sends:
                continue
            keys = {showcase_key(spec, message): message.key for message in spec.messages}
            sent = {
                keys[message.idempotency_key]: message
                for message in Message.objects.filter(idempotency_key__in=keys).select_related(
                    "conversation"
                )
            }
            for send in sends:
                sender = self.people[send.spec.sender]
                try:
                    if send.spec.to:
                        message = services.conversation_send(
                            sender=sender,
                            recipients=[self.people[name] for name in send.spec.to],
                            text=send.spec.text,
                            attachment=send.attachment,
                            idempotency_key=send.key,
                        )
                        if Message.objects.filter(conversation=message.conversation).count() == 1:
                            self.result.conversations += 1
                        if spec.name:
                            services.conversation_rename(
                                conversation=message.conversation, by=sender, name=spec.name
                            )
                    else:
                        opener = sent[spec.messages[0].key]
                        message = services.message_send(
                            sender=sender,
                            conversation=opener.conversation,
                            text=send.spec.text,
                            attachment=send.attachment,
                            reply_to=sent.get(send.spec.reply_to),
                            idempotency_key=send.key,
                        )
                except (ValidationError, PermissionDenied):
                    # Changed by hand since an earlier run (someone left, a pin went secret):
                    # leave the rest of this conversation alone.
                    break
                sent[send.spec.key] = message
                self.result.messages += 1

    # --- Generated conversations: who talks to whom -----------------------------------------

    def _big_thread(self) -> Conversation | None:
        first, second = (self.people[name] for name in BIG_THREAD_PEOPLE)
        return (
            Conversation.objects.filter(name=BIG_THREAD_NAME, created_by=first)
            .filter(participants__user=second)
            .order_by("id")
            .first()
        )

    def _big(self, conversation: Conversation | None, count: int) -> _Thread:
        people = [self.people[name].pk for name in BIG_THREAD_PEOPLE]
        thread = _Thread(
            people=people, times=[], name=BIG_THREAD_NAME, created_by=people[0], big=True
        )
        thread.extra = count
        if conversation is not None:
            thread.pk = conversation.pk
            thread.start = conversation.last_message_at or conversation.created_at
        return thread

    def _taken_groups(self, existing, user_ids: list[int]) -> set[frozenset[int]]:
        """The groups of people that already have a conversation, or will (the showcase and the
        big thread): a generated conversation never repeats one, as the services never do."""
        members = defaultdict(set)
        for conversation_id, user_id in Participant.objects.filter(
            conversation__in=existing, left_at__isnull=True
        ).values_list("conversation_id", "user_id"):
            members[conversation_id].add(user_id)
        taken = {frozenset(group) for group in members.values()}
        ids = {username: user.pk for username, user in self.people.items()}
        taken.update(
            frozenset(ids[name] for name in spec.people) for spec in content.SHOWCASE_CONVERSATIONS
        )
        taken.add(frozenset(ids[name] for name in BIG_THREAD_PEOPLE))
        return taken

    def _groups(self, count: int, user_ids: list[int], taken: set) -> list[list[int]]:
        """`count` groups of people that have no conversation yet; FEED_USER is in a quarter."""
        feed_user = self.people[FEED_USER].pk
        others = [pk for pk in user_ids if pk != feed_user]
        sizes, weights = zip(*GROUP_SIZES, strict=True)
        largest = min(services.max_participants(), len(user_ids))
        groups = []
        for _ in range(count):
            for _attempt in range(100):
                size = min(self.rng.choices(sizes, weights)[0], largest)
                if self.rng.random() < FEED_USER_SHARE:
                    group = [feed_user, *self.rng.sample(others, size - 1)]
                else:
                    group = self.rng.sample(user_ids, size)
                if frozenset(group) not in taken:
                    break
            else:  # nearly every group is taken (few people): look for one that isn't
                group = next(
                    (
                        list(candidate)
                        for size in range(2, largest + 1)
                        for candidate in itertools.combinations(user_ids, size)
                        if frozenset(candidate) not in taken
                    ),
                    None,
                )
                if group is None:
                    raise SeedError(
                        f"{len(user_ids)} demo users have no group of people left without a "
                        "conversation: ask for more --users or fewer --conversations."
                    )
            taken.add(frozenset(group))
            groups.append(group)
        return groups

    def _new_thread(self, group: list[int]) -> _Thread:
        name = ""
        if len(group) >= 3 and self.rng.random() < GROUP_NAME_SHARE:
            name = self.rng.choice(content.GROUP_NAMES)
        creator = self.rng.choice(group)
        return _Thread(people=group, times=[], name=name, created_by=creator, extra=1)

    def _spread(self, count: int, new: list[_Thread], existing) -> list[_Thread]:
        """Spread `count` messages over the generated conversations, new and old: a few
        conversations are busy, most are quiet (a capped Pareto weight each). Returns the older
        conversations that got some (the new ones are already in the run)."""
        older = self._existing_threads(existing)
        pool = new + older
        if not pool:
            return []
        weights = [min(self.rng.paretovariate(1.0), 200.0) for _ in pool]
        for thread in self.rng.choices(pool, weights, k=count):
            thread.extra += 1
        return [thread for thread in older if thread.extra]

    def _existing_threads(self, existing) -> list[_Thread]:
        """Generated conversations from earlier runs (no message in them came through the
        services, which always carry an idempotency key), to top up with newer messages."""
        from_services = Message.objects.filter(
            conversation=OuterRef("pk"), idempotency_key__isnull=False
        )
        rows = (
            existing.exclude(name=BIG_THREAD_NAME)
            .exclude(Exists(from_services))
            .order_by("id")
            .values_list("pk", "last_message_at", "created_at")
        )
        people = defaultdict(list)
        for conversation_id, user_id in (
            Participant.objects.filter(conversation__in=existing, left_at__isnull=True)
            .order_by("id")
            .values_list("conversation_id", "user_id")
        ):
            people[conversation_id].append(user_id)
        threads = []
        for pk, last_message_at, created_at in rows:
            if len(people[pk]) < 2:
                continue
            thread = _Thread(
                people=people[pk], times=[], pk=pk, start=last_message_at or created_at
            )
            threads.append(thread)
        return threads

    # --- When -------------------------------------------------------------------------------

    def _plan_times(self, thread: _Thread) -> None:
        """The times of the thread's new messages, oldest first. A new conversation is active
        for a while somewhere in the past year (most only briefly); the big thread spans the
        whole year; an older conversation carries on after its last message."""
        rng = random.Random(f"{self.seed}:times:{thread.pk}:{thread.people}:{thread.extra}")
        end = self.now - timedelta(minutes=5)
        if not thread.is_new:
            start = thread.start
            end = max(end, start)  # never before what the conversation already holds
        elif thread.big:
            start = self.now - HISTORY
        else:
            start = self.now - HISTORY * rng.random()
            end = start + (end - start) * rng.random() ** 3
        span = (end - start).total_seconds()
        offsets = sorted(rng.random() * span for _ in range(thread.extra))
        if thread.is_new:
            offsets[0] = 0.0  # the conversation starts with its first message
        thread.times = [start + timedelta(seconds=offset) for offset in offsets]

    # --- Writing ----------------------------------------------------------------------------

    def _write(self, threads: list[_Thread], user_ids: list[int]) -> None:
        pools = self._pools(user_ids)
        timeline = sorted(
            (at, index, n)
            for index, thread in enumerate(threads)
            for n, at in enumerate(thread.times)
        )
        with transaction.atomic(), _explicit_times():
            self._create_conversations([t for t in threads if t.is_new])
            done = 0
            while done < len(timeline):
                batch = timeline[done : done + BATCH_SIZE]
                ids = self._next_message_ids(len(batch))
                Message.objects.bulk_create(
                    [
                        self._message(threads[index], pk, at, pools)
                        for pk, (at, index, _) in zip(ids, batch, strict=True)
                    ]
                )
                done += len(batch)
                self.result.messages += len(batch)
                if self.progress:
                    self.progress("messages", done, len(timeline))
            self._update_denormalised([thread.pk for thread in threads])

    def _pools(self, user_ids: list[int]) -> _Pools:
        public = list(
            Pin.objects.visible_to(None)
            .filter(owner__in=self.users)
            .order_by("created_at", "id")
            .values_list("pk", "created_at")
        )
        if len(public) > CARD_SOURCES:
            public = sorted(self.rng.sample(public, CARD_SOURCES), key=lambda row: row[1])
        boards = list(
            Board.objects.visible_to(None)
            .filter(owner__in=self.users)
            .order_by("id")
            .values_list("pk", flat=True)
        )
        return _Pools(
            pins=[pk for pk, _ in public],
            pin_times=[at for _, at in public],
            boards=boards,
            people=user_ids,
        )

    def _create_conversations(self, threads: list[_Thread]) -> None:
        if not threads:
            return
        conversations = [
            Conversation(name=t.name, created_by_id=t.created_by, created_at=t.times[0])
            for t in threads
        ]
        Conversation.objects.bulk_create(conversations, batch_size=BATCH_SIZE)
        participants = []
        for thread, conversation in zip(threads, conversations, strict=True):
            thread.pk = conversation.pk
            for user_id in thread.people:
                muted = not thread.big and self.rng.random() < MUTED_SHARE
                level = NotifyLevel.NONE if muted else NotifyLevel.ALL
                participants.append(
                    Participant(
                        conversation_id=conversation.pk,
                        user_id=user_id,
                        joined_at=conversation.created_at,
                        level=level,
                    )
                )
        Participant.objects.bulk_create(participants, batch_size=BATCH_SIZE)
        self.result.conversations += len(conversations)
        if self.progress:
            self.progress("conversations", len(conversations), len(conversations))

    @staticmethod
    def _next_message_ids(count: int) -> list[int]:
        """`count` ids from the messages' own sequence, ascending: taken in chronological
        order, they make ids grow with time, and a reply can name a card of the same batch."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [Message._meta.db_table, count],
            )
            return sorted(row[0] for row in cursor.fetchall())

    def _message(self, thread: _Thread, pk: int, at: datetime, pools: _Pools) -> Message:
        rng = self.rng
        sender = self._sender(thread)
        message = Message(pk=pk, conversation_id=thread.pk, sender_id=sender, created_at=at)
        roll = rng.random()
        replying = (
            thread.last_card is not None
            and thread.since_card <= REPLY_DISTANCE
            and rng.random() < REPLY_SHARE
        )
        if replying:
            message.reply_to_id = thread.last_card
            message.text = rng.choice(content.CARD_REPLIES)
            thread.last_card = None
        elif roll < PIN_SHARE:
            # None before the first pin (then it's a text message).
            message.pin_id = pools.pin_before(rng, at)
            if message.pin_id is not None:
                message.kind = Message.Kind.PIN
        elif roll < PIN_SHARE + BOARD_SHARE and pools.boards:
            message.kind = Message.Kind.BOARD
            message.board_id = rng.choice(pools.boards)
        elif roll < PIN_SHARE + BOARD_SHARE + PROFILE_SHARE:
            message.kind = Message.Kind.PROFILE
            # Someone worth following: anyone but the sender.
            profile = rng.choice(pools.people)
            if profile == sender:
                profile = next(pk for pk in thread.people if pk != sender)
            message.profile_id = profile
        if message.kind != Message.Kind.TEXT:
            message.text = rng.choice(content.CARD_NOTES)
            thread.last_card, thread.since_card = pk, 0
        else:
            message.text = message.text or rng.choice(content.CHAT_LINES)
            thread.since_card += 1
        roll = rng.random()
        if roll < DELETED_SHARE:  # as message_delete leaves it: no text, no card
            message.text = ""
            message.pin_id = message.board_id = message.profile_id = None
            message.deleted_at = min(at + timedelta(minutes=rng.randint(1, 30)), self.now)
        elif roll < DELETED_SHARE + EDITED_SHARE and message.kind == Message.Kind.TEXT:
            message.edited_at = min(at + timedelta(minutes=rng.randint(1, 14)), self.now)
        return message

    def _sender(self, thread: _Thread) -> int:
        if thread.last_sender is None:
            sender = thread.created_by or self.rng.choice(thread.people)
        elif self.rng.random() < SAME_SENDER_AGAIN:
            sender = thread.last_sender
        else:
            sender = self.rng.choice([pk for pk in thread.people if pk != thread.last_sender])
        thread.last_sender = sender
        return sender

    def _update_denormalised(self, conversation_ids: list[int]) -> None:
        """What the services keep up to date on every send, set once for the conversations
        that got messages: their last message, and each participant's read marker and unread
        count. A participant has read up to their own last message at least (sending marks
        read) and, most often, everything; unread counts the messages after the marker."""
        participant_ids, unread = [], []
        for pk, conversation_id, user_id in (
            Participant.objects.filter(conversation_id__in=conversation_ids)
            .order_by("id")
            .values_list("pk", "conversation_id", "user_id")
        ):
            rng = random.Random(f"{self.seed}:read:{conversation_id}:{user_id}")
            roll = rng.random()
            participant_ids.append(pk)
            unread.append(
                0 if roll < 0.75 else rng.randint(1, 3) if roll < 0.95 else rng.randint(4, 20)
            )
        quote = connection.ops.quote_name
        conversations = quote(Conversation._meta.db_table)
        participants = quote(Participant._meta.db_table)
        messages = quote(Message._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                UPDATE {conversations} AS c
                SET last_message_id = latest.id, last_message_at = latest.created_at
                FROM (
                    SELECT DISTINCT ON (conversation_id) conversation_id, id, created_at
                    FROM {messages} WHERE conversation_id = ANY(%s)
                    ORDER BY conversation_id, id DESC
                ) AS latest
                WHERE c.id = latest.conversation_id
                """,
                [conversation_ids],
            )
            cursor.execute(
                f"""
                UPDATE {participants} AS p
                SET last_read_message_id = GREATEST(
                    COALESCE((
                        SELECT m.id FROM {messages} AS m
                        WHERE m.conversation_id = p.conversation_id
                        ORDER BY m.id DESC OFFSET t.unread LIMIT 1
                    ), 0),
                    COALESCE((
                        SELECT max(m.id) FROM {messages} AS m
                        WHERE m.conversation_id = p.conversation_id AND m.sender_id = p.user_id
                    ), 0)
                )
                FROM unnest(%s::bigint[], %s::integer[]) AS t(id, unread)
                WHERE p.id = t.id
                """,
                [participant_ids, unread],
            )
            cursor.execute(
                f"""
                UPDATE {participants} AS p
                SET unread_count = (
                    SELECT count(*) FROM {messages} AS m
                    WHERE m.conversation_id = p.conversation_id
                      AND m.id > p.last_read_message_id
                )
                WHERE p.conversation_id = ANY(%s)
                """,
                [conversation_ids],
            )

    @staticmethod
    def _refresh_statistics() -> None:
        """Fresh planner statistics after a large load (see seeding._refresh_statistics)."""
        verb = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            for model in (Conversation, Participant, Message):
                cursor.execute(f"{verb} {connection.ops.quote_name(model._meta.db_table)}")
