"""`manage.py seed_demo`: demo data for development and benchmarks (messaging/management/demo/)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from messaging.management import demo


class Command(BaseCommand):
    help = (
        "Create demo data. With no options: the showcase, five verified people demo1 … demo5 "
        "(password from DEMO_PASSWORD, default 'pinboard-demo') with boards (one secret, one "
        "shared with a collaborator), about 60 pins with real images, follows, likes, comments "
        "and saves, and three conversations between them (pin, board and profile cards, "
        "replies, a named group, unread messages for demo1); it takes a few seconds. With "
        "larger numbers it also generates people (demo6, demo7, ...), boards, pins, "
        "conversations and messages in bulk, e.g. `--users 200 --pins 100000 --conversations "
        "2000 --messages 120000 --big-conversation-messages 100000` for a benchmark database. "
        "The numbers are totals: each run tops the demo data up to them and never deletes "
        "anything, so running it again with the same numbers (or smaller ones) creates nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--users",
            type=int,
            default=demo.SHOWCASE_USERS,
            metavar="N",
            help=f"Demo users in total, demo1 … demoN (default and minimum: "
            f"{demo.SHOWCASE_USERS}, the showcase people).",
        )
        parser.add_argument(
            "--boards-per-user",
            type=int,
            default=demo.DEFAULT_BOARDS_PER_USER,
            metavar="N",
            help="Boards each generated user (demo6 and up) has at least (default: "
            "%(default)s). The showcase people keep their own 2 or 3 boards.",
        )
        parser.add_argument(
            "--pins",
            type=int,
            default=demo.SHOWCASE_PINS,
            metavar="N",
            help="Pins of demo users in total (default: %(default)s, the showcase pins). "
            "Pins beyond the showcase are generated, spread over every demo user's boards.",
        )
        parser.add_argument(
            "--conversations",
            type=int,
            default=demo.SHOWCASE_CONVERSATIONS,
            metavar="N",
            help=f"Conversations of demo users in total (default and minimum: "
            f"{demo.SHOWCASE_CONVERSATIONS}, the showcase ones). The others are generated "
            "between 2 and 10 demo users (demo1 is in a quarter of them), each group of people "
            "once.",
        )
        parser.add_argument(
            "--messages",
            type=int,
            default=demo.SHOWCASE_MESSAGES,
            metavar="N",
            help=f"Messages in those conversations in total (default: {demo.SHOWCASE_MESSAGES}, "
            "the showcase's). Generated conversations get at least one each; the rest goes to "
            "the big conversation up to --big-conversation-messages, then is spread over the "
            "generated conversations (a few busy, most quiet), with pin, board and profile "
            "cards and replies.",
        )
        parser.add_argument(
            "--big-conversation-messages",
            type=int,
            default=0,
            metavar="N",
            help=f"Of --messages, how many go into one conversation, "
            f"“{demo.BIG_THREAD_NAME}” between {' and '.join(demo.BIG_THREAD_PEOPLE)} "
            "(counted in --conversations): a long conversation for the benchmark. Default: "
            "%(default)s, no big conversation.",
        )
        parser.add_argument(
            "--images",
            type=int,
            metavar="N",
            help=f"Distinct pictures to draw and store for new pins, shared between them "
            f"(default: 24, or 48 when generating {demo.LARGE_RUN:,} pins or more).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=1,
            metavar="S",
            help="Random seed: the same seed on an empty database gives the same data "
            "(default: %(default)s).",
        )

    def handle(
        self,
        *args,
        users,
        boards_per_user,
        pins,
        conversations,
        messages,
        big_conversation_messages,
        images,
        seed,
        **options,
    ) -> None:
        self._check(users=users, boards_per_user=boards_per_user, pins=pins, images=images)
        self._check_conversations(
            users=users,
            conversations=conversations,
            messages=messages,
            big=big_conversation_messages,
        )
        self.verbosity = options["verbosity"]
        self._shown: dict[str, int] = {}  # the last 10% step of each stage printed
        started = time.perf_counter()
        try:
            result = demo.seed(
                users=users,
                boards_per_user=boards_per_user,
                pins=pins,
                conversations=conversations,
                messages=messages,
                big_conversation_messages=big_conversation_messages,
                images=images,
                seed=seed,
                progress=self._progress if self.verbosity >= 1 else None,
            )
        except demo.SeedError as exc:
            raise CommandError(str(exc)) from exc
        elapsed = time.perf_counter() - started
        if result.created_anything:
            summary = (
                f"Created {result.users:,} users, {result.boards:,} boards, {result.pins:,} "
                f"pins ({result.images} images), {result.likes:,} likes, {result.comments:,} "
                f"comments, {result.follows:,} follows, {result.conversations:,} "
                f"conversations and {result.messages:,} messages in {elapsed:.1f} s."
            )
        else:
            summary = "Nothing to create: the demo data is already there."
        self.stdout.write(summary)
        last = f"demo{result.demo_users}" if result.demo_users > 1 else "demo1"
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo users demo1 … {last} ready. Password: {settings.DEMO_PASSWORD}"
            )
        )
        self.stdout.write(
            f"Staff account for /admin/: {demo.seeding.MODERATOR_USERNAME}"
            " (same password; demo data only)."
        )

    @staticmethod
    def _check(*, users: int, boards_per_user: int, pins: int, images: int | None) -> None:
        if users < demo.SHOWCASE_USERS:
            raise CommandError(
                f"--users must be at least {demo.SHOWCASE_USERS} (demo1 … demo5 are always "
                f"created), not {users}."
            )
        if boards_per_user < 1:
            raise CommandError(
                f"--boards-per-user must be at least 1: pins need boards. Got {boards_per_user}."
            )
        if pins < 0:
            raise CommandError(f"--pins cannot be negative, got {pins}.")
        if images is not None and images < 1:
            raise CommandError(f"--images must be at least 1, got {images}.")

    @staticmethod
    def _check_conversations(*, users: int, conversations: int, messages: int, big: int) -> None:
        showcase = demo.SHOWCASE_CONVERSATIONS
        if conversations < showcase:
            raise CommandError(
                f"--conversations must be at least {showcase} (the showcase conversations are "
                f"always created), not {conversations}."
            )
        if big < 0:
            raise CommandError(f"--big-conversation-messages cannot be negative, got {big}.")
        if big and conversations == showcase:
            raise CommandError(
                f"--big-conversation-messages needs a conversation of its own: ask for "
                f"--conversations {showcase + 1} or more."
            )
        capacity = demo.group_capacity(users)
        if conversations > capacity:
            raise CommandError(
                f"--conversations {conversations:,} is more than {users} demo users can have: "
                f"{capacity:,} (each group of people has one conversation). Raise --users."
            )
        generated = conversations - showcase - (1 if big else 0)
        least = demo.SHOWCASE_MESSAGES + big + generated
        if messages < least:
            raise CommandError(
                f"--messages must be at least {least:,} for {conversations:,} conversations "
                f"(the showcase's {demo.SHOWCASE_MESSAGES}"
                + (f", {big:,} in the big conversation" if big else "")
                + f" and one in each of the {generated:,} others), not {messages:,}."
            )
        if messages > least and not generated:
            raise CommandError(
                f"--messages {messages:,} leaves {messages - least:,} messages without a "
                "conversation to go in: ask for more --conversations."
            )

    def _progress(self, stage: str, done: int, total: int) -> None:
        """A progress line that rewrites itself on a terminal, or a line per 10% otherwise
        (batches can step over a multiple of 10%: the line comes at the first step past it)."""
        percent = 100 * done // total
        line = f"{stage}: {done:,} / {total:,} ({percent}%)"
        if self.stdout.isatty():
            self.stdout.write(f"\r{line}", ending="\n" if done == total else "")
            self.stdout.flush()
            return
        if done == total:
            self._shown.pop(stage, None)  # a stage can run again (images: twice)
            self.stdout.write(line)
        elif percent // 10 > self._shown.get(stage, 0):
            self._shown[stage] = percent // 10
            self.stdout.write(line)
