"""`manage.py bench_pages`: server time and SQL queries per page, measured in-process."""

import html
import os
import platform
import re
import statistics
import time
from dataclasses import dataclass

import django
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse

from messaging.management import demo
from messaging.models import Conversation, Message
from messaging.views.conversation import PAGE_SIZE as MESSAGES_PAGE_SIZE
from pinboard.models import Board, Comment, Like, Pin

# The "More pins" link of the pin grid (pinboard/components.html#pin_items).
NEXT_PAGE_LINK = re.compile(r'<a class="btn" href="(\?[^"]*)">More pins</a>')
# The inbox's "More conversations" link (messaging/inbox.html#rows).
NEXT_INBOX_PAGE_LINK = re.compile(r'<a class="btn" href="([^"]*)">More conversations</a>')
# What the "Items" column counts on each kind of page.
CARD = 'class="pin-card"'
INBOX_ROW = '<li class="inbox-row'
MESSAGE = 'data-message-id="'
# How deep in the long conversation "Load older" is measured (at most half of it).
OLDER_DEPTH = 50_000


@dataclass
class Page:
    name: str
    url: str
    client: Client
    headers: dict[str, str]
    item: str = CARD


@dataclass
class Measurement:
    page: Page
    queries: int
    items: int
    median_ms: float
    p95_ms: float
    slowest_sql: str


class Command(BaseCommand):
    help = (
        "Measure the server time of the main pages in-process, with django.test.Client (no "
        "network, no web server): each page is requested --warmup times, then --requests "
        "times; prints the median and 95th percentile in milliseconds and the number of SQL "
        "queries per page as a Markdown table. Run it on a seeded database (`manage.py "
        "seed_demo --users 200 --pins 100000 --conversations 2000 --messages 120000 "
        "--big-conversation-messages 100000`). The messaging pages are the inbox and the "
        "signed-in user's longest conversation (the big thread), its newest messages and a "
        "'Load older' page deep inside it. DEBUG is turned off for the measurement."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--requests",
            type=int,
            default=50,
            metavar="N",
            help="Timed requests per page (default: %(default)s).",
        )
        parser.add_argument(
            "--warmup",
            type=int,
            default=5,
            metavar="N",
            help="Untimed requests per page first (default: %(default)s).",
        )
        parser.add_argument(
            "--user",
            default="demo1",
            metavar="USERNAME",
            help="Who is signed in for the signed-in pages (default: "
            "%(default)s, who follows 20 people and 10 boards in a seeded "
            "database).",
        )
        parser.add_argument(
            "--query",
            default="velvet sofa",
            metavar="WORDS",
            help="What the search page searches for (default: %(default)r).",
        )
        parser.add_argument(
            "--explain",
            action="store_true",
            help="Also print EXPLAIN (ANALYZE, BUFFERS) of each page's slowest SELECT.",
        )

    def handle(self, *args, requests, warmup, user, query, explain, **options) -> None:
        if requests < 2:
            raise CommandError(f"--requests must be at least 2 (for a percentile), not {requests}.")
        if warmup < 0:
            raise CommandError(f"--warmup cannot be negative, got {warmup}.")
        viewer = get_user_model().objects.filter(username=user).first()
        if viewer is None:
            raise CommandError(
                f"There is no user {user!r}. Seed a database first: "
                "manage.py seed_demo --users 200 --pins 100000"
            )
        # Production-like: no query logging or template debugging. The test client's host name
        # ("testserver") is allowed for the duration.
        hosts = [*settings.ALLOWED_HOSTS, "testserver"]
        with override_settings(DEBUG=False, ALLOWED_HOSTS=hosts):
            pages = self._pages(viewer, query)
            results = [self._measure(page, warmup=warmup, requests=requests) for page in pages]
        self.stdout.write(self._environment(requests, warmup, viewer.username))
        self.stdout.write("")
        self.stdout.write("| Page | URL | Queries | Items | Median (ms) | p95 (ms) |")
        self.stdout.write("| --- | --- | ---: | ---: | ---: | ---: |")
        for result in results:
            self.stdout.write(
                f"| {result.page.name} | `{result.page.url}` | {result.queries} | "
                f"{result.items} | {result.median_ms:.1f} | {result.p95_ms:.1f} |"
            )
        if explain:
            for result in results:
                self._explain(result)

    # --- What to request ----------------------------------------------------------------------

    def _pages(self, viewer, query: str) -> list[Page]:
        anonymous = Client()
        signed_in = Client()
        signed_in.force_login(viewer)
        pages = [
            Page("Home, signed out", reverse("home"), anonymous, {}),
            Page("Home, signed in", reverse("home"), signed_in, {}),
        ]
        # The second page, as the grid's infinite scroll asks for it (an htmx request).
        first = signed_in.get(reverse("home"), secure=True)
        match = NEXT_PAGE_LINK.search(first.text)
        if match:
            url = reverse("home") + html.unescape(match.group(1))
            pages.append(Page("Home page 2 (cursor, htmx)", url, signed_in, {"HX-Request": "true"}))

        boards = Board.objects.visible_to(viewer).filter(is_secret=False)
        board = (
            boards.filter(owner=viewer).with_pin_count().order_by("-pin_count").first()
            or boards.with_pin_count().order_by("-pin_count").first()
        )
        if board is not None:
            pages.append(Page("Board", board.get_absolute_url(), signed_in, {}))
        busiest = (
            get_user_model()
            .objects.active()
            .annotate(pin_count=Count("pins"))
            .order_by("-pin_count")
            .first()
        )
        pages.append(Page("Profile (most pins)", busiest.get_absolute_url(), signed_in, {}))
        pin = Pin.objects.filter(board=board).order_by("-id").first() if board else None
        if pin is not None:
            pages.append(Page("Pin", pin.get_absolute_url(), signed_in, {}))
        search = f"{reverse('search')}?q={query.replace(' ', '+')}"
        pages.append(Page("Search", search, signed_in, {}))
        return pages + self._messaging_pages(viewer, signed_in)

    @staticmethod
    def _messaging_pages(viewer, signed_in: Client) -> list[Page]:
        """The inbox (and its second page), and the viewer's longest conversation: the big
        thread of a seeded database, else the one with the most messages."""
        inbox = reverse("inbox")
        pages = [Page("Inbox", inbox, signed_in, {}, INBOX_ROW)]
        first = signed_in.get(inbox, secure=True)
        match = NEXT_INBOX_PAGE_LINK.search(first.text)
        if match:
            url = html.unescape(match.group(1))
            htmx = {"HX-Request": "true"}
            pages.append(Page("Inbox page 2 (cursor, htmx)", url, signed_in, htmx, INBOX_ROW))
        mine = Conversation.objects.readable_by(viewer)
        conversation = (
            mine.filter(name=demo.BIG_THREAD_NAME).order_by("id").first()
            or mine.annotate(size=Count("messages")).order_by("-size", "-id").first()
        )
        if conversation is None:
            return pages
        size = Message.objects.filter(conversation=conversation).count()
        url = reverse("conversation", kwargs={"pk": conversation.pk})
        name = f"Conversation ({size:,} messages)"
        pages.append(Page(name, url, signed_in, {}, MESSAGE))
        if size > MESSAGES_PAGE_SIZE:
            # "Load older" deep inside: the page of messages before the one DEPTH back.
            depth = min(OLDER_DEPTH, size // 2)
            before = (
                Message.objects.filter(conversation=conversation)
                .order_by("-id")
                .values_list("pk", flat=True)[depth]
            )
            pages.append(
                Page(
                    f"Load older ({depth:,} back, htmx)",
                    f"{url}?before={before}",
                    signed_in,
                    {"HX-Request": "true"},
                    MESSAGE,
                )
            )
        return pages

    # --- Measuring ----------------------------------------------------------------------------

    def _measure(self, page: Page, *, warmup: int, requests: int) -> Measurement:
        for _ in range(warmup):
            self._get(page)
        with CaptureQueriesContext(connection) as captured:
            response = self._get(page)
        # A copy: the next request clears the connection's query log that captured_queries reads.
        queries = list(captured.captured_queries)
        # Only a SELECT is explained: EXPLAIN ANALYZE runs the statement (a page may write,
        # e.g. the conversation page marks it read).
        selects = [query for query in queries if query["sql"].lstrip().upper().startswith("SELECT")]
        slowest = max(selects, key=lambda query: float(query["time"]), default=None)
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            self._get(page)
            samples.append((time.perf_counter() - started) * 1000)
        return Measurement(
            page=page,
            queries=len(queries),
            items=response.text.count(page.item),
            median_ms=statistics.median(samples),
            p95_ms=statistics.quantiles(samples, n=20, method="inclusive")[18],
            slowest_sql=slowest["sql"] if slowest else "",
        )

    @staticmethod
    def _get(page: Page):
        # secure=True: the same response whether or not HTTPS redirects are configured.
        response = page.client.get(page.url, headers=page.headers, secure=True)
        if response.status_code != 200:
            raise CommandError(f"{page.name}: {page.url} answered {response.status_code}.")
        return response

    def _environment(self, requests: int, warmup: int, username: str) -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            postgres = cursor.fetchone()[0].split()[0]
        users = get_user_model().objects.count()
        return (
            f"{Pin.objects.count():,} pins, {users:,} users, {Like.objects.count():,} likes, "
            f"{Comment.objects.count():,} comments, {Conversation.objects.count():,} "
            f"conversations, {Message.objects.count():,} messages. Signed in as {username}. "
            f"{warmup} warm-up + {requests} timed requests per page, in-process "
            f"(django.test.Client), DEBUG off. {os.cpu_count()} CPUs (load average "
            f"{os.getloadavg()[0]:.1f} at the end), Python {platform.python_version()}, Django "
            f"{django.get_version()}, PostgreSQL {postgres}."
        )

    def _explain(self, result: Measurement) -> None:
        self.stdout.write(f"\n## {result.page.name}: {result.page.url}\n")
        self.stdout.write(result.slowest_sql)
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {result.slowest_sql}")
            for (line,) in cursor.fetchall():
                self.stdout.write(line)
