"""The live-updates benchmark behind `manage.py bench_live` (issue 5, DESIGN.md §5).

One uvicorn process serves the app on loopback (with `pages="gunicorn"`, gunicorn serves the
send requests beside it: the production shape). N benchmark users each hold one server-sent
event stream (`/messages/events/`), signed in with a session made directly in the database.
People are paired in two-person conversations; messages go through the normal HTTP endpoint
(`POST /messages/<id>/send/`, as htmx sends it, CSRF token and session cookie included) at a
fixed rate, open loop (a slow answer does not slow the schedule down). For every message we
measure the time from the start of the send request to the moment the recipient's stream
delivers the `message.new` event carrying that message id, and we count messages never
delivered (lost) or delivered twice (duplicated).

The client is deliberately small: raw asyncio streams speaking HTTP/1.1, an EventSource-like
reader that reconnects after the server's `retry:` delay with `Last-Event-ID` (and keeps
retrying after an error status, where a browser's EventSource gives up and a page script has to
open a new one).

Everything is bounded: the number of streams and messages, every wait, and the server process,
which is stopped however the run ends.
"""

import asyncio
import contextlib
import csv
import json
import os
import pwd
import random
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from allauth.account.models import EmailAddress
from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.hashers import make_password
from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection, transaction
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.utils import timezone
from django.utils.crypto import get_random_string

from accounts.models import User
from messaging.models import Conversation, Message, Participant

HOST = "127.0.0.1"
USERNAME_PREFIX = "livebench"
PASSWORD = "pinboard-bench"  # every benchmark user's password (the hash is made once)
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
CONNECT_CONCURRENCY = 200  # streams being opened at the same time
SEND_TIMEOUT = 10.0  # seconds before a send request counts as failed
STARTUP_TIMEOUT = 60.0
LIMITS = {"streams": 20_000, "rate": 500.0, "duration": 3_600.0}

Log = Callable[[str], None]


# --- Benchmark data: users, conversations, sessions (the ORM, before the event loop runs) ------


@dataclass
class Person:
    user_id: int
    username: str
    session_key: str = ""
    csrf_token: str = ""

    @property
    def cookie(self) -> str:
        return (
            f"{settings.SESSION_COOKIE_NAME}={self.session_key}; "
            f"{settings.CSRF_COOKIE_NAME}={self.csrf_token}"
        )


@dataclass(frozen=True)
class Pair:
    conversation_id: int
    people: tuple[Person, Person]


def prepare_people(count: int) -> list[Pair]:
    """`count` benchmark users (made in bulk if missing: active, verified, one known password
    hash) paired into count // 2 two-person conversations (reused when they exist)."""
    usernames = [f"{USERNAME_PREFIX}{n}" for n in range(1, count + 1)]
    with transaction.atomic():
        existing = set(
            User.objects.filter(username__in=usernames).values_list("username", flat=True)
        )
        missing = [name for name in usernames if name not in existing]
        if missing:
            password = make_password(PASSWORD)
            User.objects.bulk_create(
                [
                    User(username=name, email=f"{name}@bench.invalid", password=password)
                    for name in missing
                ],
                batch_size=2_000,
            )
        ids = dict(User.objects.filter(username__in=usernames).values_list("username", "pk"))
        verified = set(
            EmailAddress.objects.filter(user_id__in=ids.values()).values_list("user_id", flat=True)
        )
        EmailAddress.objects.bulk_create(
            [
                EmailAddress(user_id=pk, email=f"{name}@bench.invalid", verified=True, primary=True)
                for name, pk in ids.items()
                if pk not in verified
            ],
            batch_size=2_000,
        )
        people = [Person(ids[name], name) for name in usernames]
        wanted = [(people[i], people[i + 1]) for i in range(0, count - 1, 2)]
        conversations = _existing_pairs([person.user_id for person in people])
        new = [(a, b) for a, b in wanted if frozenset((a.user_id, b.user_id)) not in conversations]
        if new:
            made = Conversation.objects.bulk_create(
                [Conversation(created_by_id=a.user_id) for a, _ in new], batch_size=2_000
            )
            Participant.objects.bulk_create(
                [
                    Participant(conversation=conversation, user_id=person.user_id)
                    for conversation, pair in zip(made, new, strict=True)
                    for person in pair
                ],
                batch_size=4_000,
            )
            for conversation, (a, b) in zip(made, new, strict=True):
                conversations[frozenset((a.user_id, b.user_id))] = conversation.pk
    return [Pair(conversations[frozenset((a.user_id, b.user_id))], (a, b)) for a, b in wanted]


def _existing_pairs(user_ids: list[int]) -> dict[frozenset, int]:
    """Two-person conversations among these users: {frozenset of the two ids: conversation id}."""
    members = defaultdict(set)
    rows = Participant.objects.filter(
        conversation__in=Participant.objects.filter(user_id__in=user_ids).values("conversation")
    ).values_list("conversation_id", "user_id", "left_at")
    left = set()
    for conversation_id, user_id, left_at in rows:
        members[conversation_id].add(user_id)
        if left_at is not None:
            left.add(conversation_id)
    return {frozenset(ids): pk for pk, ids in members.items() if len(ids) == 2 and pk not in left}


def sign_in(people: list[Person]) -> None:
    """A session row per person, as logging in would make it, and a CSRF cookie value."""
    store_class = SessionStore
    model = store_class.get_model_class()
    hashes = dict(
        User.objects.filter(pk__in=[p.user_id for p in people]).values_list("pk", "password")
    )
    expires = timezone.now() + timedelta(days=1)
    rows = []
    for person in people:
        user = User(pk=person.user_id, password=hashes[person.user_id])
        data = {
            SESSION_KEY: str(person.user_id),
            BACKEND_SESSION_KEY: MODEL_BACKEND,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        person.session_key = get_random_string(32, VALID_KEY_CHARS)
        person.csrf_token = get_random_string(CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS)
        rows.append(
            model(
                session_key=person.session_key,
                session_data=store_class().encode(data),
                expire_date=expires,
            )
        )
    model.objects.bulk_create(rows, batch_size=2_000)


def sign_out(people: list[Person]) -> None:
    SessionStore.get_model_class().objects.filter(
        session_key__in=[p.session_key for p in people if p.session_key]
    ).delete()


def find_messages(keys: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    """{idempotency key: (message id, sender id)} for the sends that were committed."""
    connection.close_if_unusable_or_obsolete()  # the database may have restarted meanwhile
    try:
        rows = Message.objects.filter(idempotency_key__in=keys).values_list(
            "idempotency_key", "pk", "sender_id"
        )
        return {key: (pk, sender) for key, pk, sender in rows}
    finally:
        connection.close()


# --- The server under test ---------------------------------------------------------------------


def raise_open_file_limit(wanted: int = 0) -> int:
    """As many open files as this process may have (the servers inherit it): the hard limit,
    raised first to `wanted` where the process is allowed to (root, up to fs.nr_open)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, wanted))
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    ticks = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / ticks, sum(fields) / ticks


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


class Server:
    """One server process for the app on loopback, with production settings (DEBUG off): the
    event server (uvicorn, pinboard.asgi) or a page server (gunicorn, pinboard.wsgi)."""

    def __init__(self, *, kind: str, port: int, log: Log, secret_key: str, workdir: Path) -> None:
        self.kind = kind
        self.port = port
        self.log = log
        self.secret_key = secret_key  # the benchmark's sessions are signed with it
        self.workdir = workdir
        self.process: subprocess.Popen | None = None
        self.logfile = workdir / f"{kind}.log"

    @staticmethod
    def environment(*, secret_key: str, workdir: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DEBUG="false",
            SECRET_KEY=secret_key,
            ALLOWED_HOSTS=HOST,
            HTTPS="false",
            STATIC_ROOT=str(workdir / "static"),
            LOG_LEVEL="WARNING",
            DJANGO_SETTINGS_MODULE="pinboard.settings",
        )
        # A few benchmark users send hundreds of messages a minute: far over the per-person
        # limit that protects a real site (unless the environment already says otherwise).
        env.setdefault("RATE_LIMIT_MESSAGES_PER_MINUTE", "1000000")
        return env

    @classmethod
    def collect_static(cls, *, secret_key: str, workdir: Path) -> None:
        """DEBUG off renders static URLs from the manifest: collect the files once, quietly."""
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=settings.BASE_DIR,
            env=cls.environment(secret_key=secret_key, workdir=workdir),
            check=True,
        )

    def command(self) -> list[str]:
        bin_dir = Path(sys.executable).parent
        if self.kind == "gunicorn":
            return [
                str(bin_dir / "gunicorn"),
                "pinboard.wsgi:application",
                "--bind",
                f"{HOST}:{self.port}",
                "--workers",
                "2",
                "--timeout",
                "30",
                "--no-control-socket",  # one per user by default: would clash with others
            ]
        return [
            str(bin_dir / "uvicorn"),
            "pinboard.asgi:application",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--no-access-log",
            "--backlog",
            "4096",
            "--timeout-graceful-shutdown",
            "5",
            "--lifespan",
            "off",
        ]

    def start(self) -> None:
        command = self.command()
        self.log(f"Starting: {Path(command[0]).name} {' '.join(command[1:])}")
        env = self.environment(secret_key=self.secret_key, workdir=self.workdir)
        with self.logfile.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited early:\n{self.log_tail()}")
            with contextlib.suppress(OSError, asyncio.IncompleteReadError, ValueError):
                status, _, _ = await request(self.port, "GET", "/messages/events/", timeout=5)
                if status == 204:  # the stream answers a signed-out tab with 204
                    return
            await asyncio.sleep(0.2)
        raise RuntimeError(f"{self.kind} did not answer within {STARTUP_TIMEOUT:.0f}s")

    def status(self) -> dict[str, int]:
        """VmRSS, VmHWM (KiB) and threads of the server process."""
        values = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM", "Threads"):
                values[name] = int(value.split()[0])
        return values

    def cpu_seconds(self) -> float:
        """CPU time of the server process and its direct children (gunicorn's workers)."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if stat.parent.name == str(self.process.pid) or fields[1] == str(self.process.pid):
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# --- Restarting PostgreSQL ---------------------------------------------------------------------


def restart_command() -> list[str]:
    """How to restart the PostgreSQL server that DATABASE_URL points at: the machine's cluster
    through pg_ctlcluster, or a server started with pg_ctl (the project-local `.pgdata/`)."""
    host = settings.DATABASES["default"].get("HOST") or "localhost"
    if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("/"):
        raise RuntimeError(f"PostgreSQL at {host} is not on this machine; cannot restart it.")
    with connection.cursor() as cursor:
        cursor.execute("SHOW data_directory")
        data_dir = cursor.fetchone()[0]
        cursor.execute("SHOW server_version_num")
        major = int(cursor.fetchone()[0]) // 10_000
    if shutil.which("pg_lsclusters"):
        listed = subprocess.run(
            ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False
        ).stdout
        for line in listed.splitlines():
            version, name, _port, _status, _owner, directory, *_ = line.split()
            if os.path.realpath(directory) == os.path.realpath(data_dir):
                return ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart"]
    pg_ctl = shutil.which("pg_ctl") or f"/usr/lib/postgresql/{major}/bin/pg_ctl"
    command = [pg_ctl, "-D", data_dir, "-m", "fast", "-w", "-t", "60"]
    server_log = Path(data_dir).parent / "server.log"  # the project-local layout
    if server_log.exists():
        command += ["-l", str(server_log)]
    command.append("restart")
    owner = pwd.getpwuid(os.stat(data_dir).st_uid).pw_name
    if os.geteuid() == 0 and owner != "root":
        command = ["runuser", "-u", owner, "--", *command]
    return command


# --- A minimal HTTP/1.1 client on asyncio streams -------------------------------------------


async def _head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return status, headers


async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> AsyncIterator[bytes]:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readline()).split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                await reader.readline()
                return
            chunk = await reader.readexactly(size + 2)
            yield chunk[:-2]
    elif "content-length" in headers:
        yield await reader.readexactly(int(headers["content-length"]))
    else:
        while chunk := await reader.read(65_536):
            yield chunk


def _request_bytes(method: str, path: str, port: int, headers: dict[str, str], body=b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def request(
    port: int, method: str, path: str, *, headers=None, body=b"", timeout: float
) -> tuple[int, dict[str, str], bytes]:
    """One request on its own connection (`Connection: close`): status, headers, body."""

    async def exchange():
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            all_headers = {"Connection": "close", **(headers or {})}
            writer.write(_request_bytes(method, path, port, all_headers, body))
            status, response_headers = await _head(reader)
            content = b"".join([chunk async for chunk in _body(reader, response_headers)])
            return status, response_headers, content
        finally:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    return await asyncio.wait_for(exchange(), timeout)


# --- One tab's event stream --------------------------------------------------------------------


class EventStream:
    """An EventSource for one person: parses the stream, remembers the last event id, and
    reconnects after the server's retry delay with Last-Event-ID."""

    def __init__(
        self, person: Person, ports: list[int], deliveries: dict, clock: Callable, first: int = 0
    ) -> None:
        self.person = person
        # The event servers, tried in turn from `first`: a stream that can't connect or is
        # dropped goes to the next, as a load balancer routes around a dead backend.
        self.ports = ports
        self._port_index = first % len(ports)
        self.deliveries = deliveries  # (user id, message id) -> [arrival times]
        self.clock = clock
        self.last_event_id = ""
        self.retry = 2.0
        self.connected = asyncio.Event()  # the first stream is open
        self.is_open = False
        self.opened = 0  # streams answered with 200 and their first line
        self.refused = 0  # connection errors and non-200 answers
        self.dropped = 0  # open streams that ended without being asked to
        self.last_error = ""
        self._stopping = False
        self._gate: asyncio.Semaphore | None = None

    def stop(self) -> None:
        self._stopping = True

    async def run(self, gate: asyncio.Semaphore) -> None:
        """Open the stream (the first time through `gate`, which limits how many streams are
        being opened at once) and keep it open until stopped."""
        await gate.acquire()
        self._gate = gate
        while not self._stopping:
            try:
                await self._connect_and_read()
            except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError) as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
            self._release_gate()
            if self.is_open:
                self.is_open = False
                if not self._stopping:
                    self.dropped += 1
            self._port_index = (self._port_index + 1) % len(self.ports)
            if not self._stopping:
                await asyncio.sleep(self.retry)

    @property
    def port(self) -> int:
        return self.ports[self._port_index]

    def _release_gate(self) -> None:
        if self._gate is not None:
            self._gate.release()
            self._gate = None

    async def _connect_and_read(self) -> None:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, self.port), 30)
        try:
            headers = {"Accept": "text/event-stream", "Cookie": self.person.cookie}
            if self.last_event_id:
                headers["Last-Event-ID"] = self.last_event_id
            writer.write(_request_bytes("GET", "/messages/events/", self.port, headers))
            status, response_headers = await asyncio.wait_for(_head(reader), 60)
            if status != 200:
                self.refused += 1
                self.last_error = f"HTTP {status}"
                return
            buffer = ""
            async for chunk in _body(reader, response_headers):
                buffer += chunk.decode()
                *blocks, buffer = buffer.replace("\r\n", "\n").split("\n\n")
                for block in blocks:
                    self._handle(block)
        except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError):
            if not self.is_open:
                self.refused += 1
            raise
        finally:
            writer.close()
            with contextlib.suppress(OSError, RuntimeError):
                await writer.wait_closed()

    def _handle(self, block: str) -> None:
        now = self.clock()
        if not self.is_open:
            self.is_open = True
            self.opened += 1
            self.connected.set()
            self._release_gate()
        kind, data = "message", []
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "id":
                self.last_event_id = value
            elif name == "event":
                kind = value
            elif name == "data":
                data.append(value)
            elif name == "retry" and value.isdigit():
                self.retry = int(value) / 1000
        if kind == "message.new" and data:
            message_id = json.loads("\n".join(data)).get("message")
            self.deliveries[(self.person.user_id, message_id)].append(now)


# --- The run -----------------------------------------------------------------------------------


@dataclass
class Send:
    key: uuid.UUID
    pair: Pair
    sender: Person
    recipient: Person
    started: float
    finished: float = 0.0
    status: int = 0
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class Result:
    streams_wanted: int
    streams_held: int
    streams_held_at_end: int
    connect_seconds: float
    rate: float
    duration: float
    sends: int
    delivered: int
    lost: int
    duplicated: int
    send_failed: int
    latencies_ms: list[float]
    send_ms: list[float]
    rss_before_kib: int
    rss_streams_kib: int
    rss_end_kib: int
    hwm_kib: int
    threads: int
    cpu: dict[str, float]  # server, pages, client: share of one core; machine: of all cores
    pages: str  # which server the messages were sent through
    reconnects: int
    refused: int
    open_file_limit: int
    restart: str = ""
    event_servers: int = 1
    echo_lost: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    lost_examples: list[str] = field(default_factory=list)
    # One row per message: seconds into the run, message id (None: not saved), HTTP status or
    # error, send request ms, delivery ms (None: lost), deliveries to the recipient.
    samples: list[tuple] = field(default_factory=list)

    def write_samples(self, path: str) -> None:
        with open(path, "w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["t_s", "message", "send_status", "send_ms", "delivery_ms", "copies"])
            for row in self.samples:
                writer.writerow(["" if value is None else value for value in row])

    def percentile(self, values: list[float], p: int) -> float:
        if len(values) < 2:
            return values[0] if values else float("nan")
        return statistics.quantiles(values, n=100, method="inclusive")[p - 1]

    @property
    def per_stream_kib(self) -> float:
        held = max(self.streams_held, 1)
        return (self.rss_streams_kib - self.rss_before_kib) / held


class LiveBenchmark:
    def __init__(
        self,
        *,
        pairs: list[Pair],
        servers: list[Server],
        pages: Server | None,
        rate: float,
        duration: float,
        restart_at: float | None,
        restart: list[str] | None,
        kill_at: float | None = None,
        grace: float,
        log: Log,
        open_file_limit: int,
        seed: int = 1,
    ) -> None:
        self.pairs = pairs
        self.servers = servers  # the event servers (uvicorn), streams spread over them
        # Where messages are sent: a separate page server (the production shape), or uvicorn.
        self.pages = pages or servers[0]
        self.kill_at = kill_at  # SIGKILL the first event server this long into the sending
        self.kill_report = ""
        self.rate = rate
        self.duration = duration
        self.restart_at = restart_at
        self.restart = restart
        self.grace = grace
        self.log = log
        self.open_file_limit = open_file_limit
        self.random = random.Random(seed)
        self.clock = time.perf_counter
        self.deliveries: dict[tuple[int, int], list[float]] = defaultdict(list)
        self.sends: list[Send] = []
        self.restart_report = ""

    async def run(self) -> Result:
        people = [person for pair in self.pairs for person in pair.people]
        ports = [server.port for server in self.servers]
        streams = [
            EventStream(person, ports, self.deliveries, self.clock, first=n)
            for n, person in enumerate(people)
        ]
        for server in {*self.servers, self.pages}:
            await server.wait_ready()
        before = self._event_status()
        pids = ", ".join(str(server.process.pid) for server in self.servers)
        self.log(f"Event servers ready (pid {pids}, RSS {before['VmRSS']:,} KiB in all).")

        gate = asyncio.Semaphore(CONNECT_CONCURRENCY)
        tasks = [asyncio.create_task(stream.run(gate)) for stream in streams]
        try:
            connect_seconds = await self._wait_connected(streams)
            held = sum(stream.is_open for stream in streams)
            await asyncio.sleep(2)  # let the servers settle before reading their memory
            with_streams = self._event_status()
            self.log(
                f"{held:,} of {len(streams):,} streams open after {connect_seconds:.1f}s; "
                f"event servers' RSS {with_streams['VmRSS']:,} KiB, "
                f"{with_streams['Threads']} threads."
            )
            cpu_before = {server: server.cpu_seconds() for server in self.servers}
            wall_before = time.monotonic()
            pages_before = self.pages.cpu_seconds()
            client_before, machine_before = time.process_time(), machine_cpu()
            await self._send_all()
            wall = time.monotonic() - wall_before
            machine_after = machine_cpu()
            cpu = {
                # Event servers still running at the end (a killed one took its figures along).
                "server": sum(server.cpu_seconds() - cpu_before[server] for server in self._alive())
                / wall,
                "pages": (self.pages.cpu_seconds() - pages_before) / wall,
                "client": (time.process_time() - client_before) / wall,
                # Busy share of all cores: the servers, this client, PostgreSQL, anything else.
                "machine": (machine_after[0] - machine_before[0])
                / (machine_after[1] - machine_before[1]),
            }
            found = await sync_to_async(find_messages)([send.key for send in self.sends])
            await self._wait_delivered(found)
            held_at_end = sum(stream.is_open for stream in streams)
            end = self._event_status()
        finally:
            for stream in streams:
                stream.stop()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return self._result(
            streams=streams,
            held=held,
            held_at_end=held_at_end,
            connect_seconds=connect_seconds,
            found=found,
            status=(before, with_streams, end),
            cpu=cpu,
        )

    def _alive(self) -> list[Server]:
        return [server for server in self.servers if server.process.poll() is None]

    def _event_status(self) -> dict[str, int]:
        """Memory and threads of the event servers still running, added up."""
        total = defaultdict(int)
        for server in self._alive():
            for name, value in server.status().items():
                total[name] += value
        return total

    async def _kill_event_server(self, start: float) -> None:
        victim = self.servers[0]
        victim.process.kill()
        self.kill_report = (
            f"event server on port {victim.port} (pid {victim.process.pid}) killed with "
            f"SIGKILL at t={self.clock() - start:.1f}s; its streams reconnected to the others"
        )
        self.log(self.kill_report)

    async def _wait_connected(self, streams: list[EventStream]) -> float:
        started = time.monotonic()
        limit = 60 + len(streams) / 50  # generous: 5,000 streams get 160 s
        last_report = started
        while time.monotonic() - started < limit:
            opened = sum(stream.connected.is_set() for stream in streams)
            if opened == len(streams):
                break
            if time.monotonic() - last_report >= 10:
                last_report = time.monotonic()
                self.log(f"  {opened:,} of {len(streams):,} streams open ...")
            await asyncio.sleep(0.1)
        return time.monotonic() - started

    async def _send_all(self) -> None:
        total = round(self.rate * self.duration)
        self.log(f"Sending {total:,} messages at {self.rate:g}/s for {self.duration:g}s ...")
        start = self.clock()
        tasks = []
        restart_task = None
        for n in range(total):
            due = start + n / self.rate
            if (wait := due - self.clock()) > 0:
                await asyncio.sleep(wait)
            restart_due = self.restart_at is not None and due - start >= self.restart_at
            if restart_task is None and restart_due:
                restart_task = asyncio.create_task(self._restart_database(start))
            if self.kill_at is not None and not self.kill_report and due - start >= self.kill_at:
                await self._kill_event_server(start)
            pair = self.pairs[n % len(self.pairs)]
            sender, recipient = pair.people if self.random.random() < 0.5 else pair.people[::-1]
            send = Send(uuid.uuid4(), pair, sender, recipient, started=self.clock())
            self.sends.append(send)
            tasks.append(asyncio.create_task(self._send(send)))
        await asyncio.gather(*tasks)
        if restart_task is not None:
            await restart_task

    async def _send(self, send: Send) -> None:
        body = urlencode(
            {
                "text": f"Benchmark message {send.key.hex[:8]}",
                "idempotency_key": str(send.key),
                "csrfmiddlewaretoken": send.sender.csrf_token,
            }
        ).encode()
        headers = {
            "Cookie": send.sender.cookie,
            "Content-Type": "application/x-www-form-urlencoded",
            "HX-Request": "true",
        }
        path = f"/messages/{send.pair.conversation_id}/send/"
        try:
            send.status, _, _ = await request(
                self.pages.port, "POST", path, headers=headers, body=body, timeout=SEND_TIMEOUT
            )
            if not send.ok:
                send.error = f"HTTP {send.status}"
        except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError) as exc:
            send.error = type(exc).__name__
        send.finished = self.clock()

    async def _restart_database(self, start: float) -> None:
        began = self.clock()
        self.log(f"Restarting PostgreSQL at t={began - start:.1f}s: {' '.join(self.restart)}")
        process = await asyncio.create_subprocess_exec(
            *self.restart, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        output, _ = await asyncio.wait_for(process.communicate(), 120)
        took = self.clock() - began
        outcome = "ok" if process.returncode == 0 else f"exit {process.returncode}"
        self.restart_report = (
            f"PostgreSQL restarted at t={began - start:.1f}s, took {took:.1f}s ({outcome})"
        )
        self.log(self.restart_report)
        if process.returncode != 0:
            self.log(output.decode(errors="replace")[-2000:])

    async def _wait_delivered(self, found: dict[uuid.UUID, tuple[int, int]]) -> None:
        """Until every committed message reached its recipient, or `grace` seconds after the
        last send ended; then one more second, so late duplicates are seen too."""
        expected = {
            (send.recipient.user_id, found[send.key][0]) for send in self.sends if send.key in found
        }
        deadline = self.clock() + self.grace
        while self.clock() < deadline:
            if all(key in self.deliveries for key in expected):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1)

    def _result(self, *, streams, held, held_at_end, connect_seconds, found, status, cpu) -> Result:
        before, with_streams, end = status
        latencies, send_ms, failures = [], [], defaultdict(int)
        lost = duplicated = echo_lost = failed = 0
        lost_examples, samples = [], []
        first = self.sends[0].started if self.sends else 0.0
        for send in self.sends:
            took = (send.finished - send.started) * 1000
            if send.ok:
                send_ms.append(took)
            message_id, _sender = found.get(send.key, (None, None))
            arrivals = self.deliveries.get((send.recipient.user_id, message_id), [])
            samples.append(
                (
                    round(send.started - first, 3),
                    message_id,
                    send.status or send.error,
                    round(took, 1),
                    round((arrivals[0] - send.started) * 1000, 1) if arrivals else None,
                    len(arrivals),
                )
            )
            if message_id is None:
                failed += 1
                failures[send.error or "not saved"] += 1
                continue
            if not arrivals:
                lost += 1
                if len(lost_examples) < 5:
                    at = send.started - first
                    lost_examples.append(
                        f"message {message_id} to user {send.recipient.user_id} "
                        f"(sent at +{at:.2f}s, {send.error or 'answered 200'})"
                    )
                continue
            if len(arrivals) > 1:
                duplicated += 1
            latencies.append((arrivals[0] - send.started) * 1000)
            if not self.deliveries.get((send.sender.user_id, message_id)):
                echo_lost += 1
        return Result(
            streams_wanted=len(streams),
            streams_held=held,
            streams_held_at_end=held_at_end,
            connect_seconds=connect_seconds,
            rate=self.rate,
            duration=self.duration,
            sends=len(self.sends),
            delivered=len(latencies),
            lost=lost,
            duplicated=duplicated,
            send_failed=failed,
            latencies_ms=latencies,
            send_ms=send_ms,
            rss_before_kib=before["VmRSS"],
            rss_streams_kib=with_streams["VmRSS"],
            rss_end_kib=end["VmRSS"],
            hwm_kib=end["VmHWM"],
            threads=end["Threads"],
            cpu=cpu,
            pages=self.pages.kind,
            reconnects=sum(max(stream.opened - 1, 0) for stream in streams),
            refused=sum(stream.refused for stream in streams),
            open_file_limit=self.open_file_limit,
            restart="; ".join(filter(None, [self.restart_report, self.kill_report])),
            event_servers=len(self.servers),
            echo_lost=echo_lost,
            failures=dict(failures),
            lost_examples=lost_examples,
            samples=samples,
        )


def database_label() -> str:
    parts = urlsplit(os.environ.get("DATABASE_URL", ""))
    return f"{parts.hostname or '127.0.0.1'}:{parts.port or 5432}"
