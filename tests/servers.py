"""Real server processes against the pytest-django test database, and raw-socket clients that
can die without a goodbye.

For tests that must see what a server keeps after its clients are gone: they talk to the servers
only over HTTP (and look at them only from outside: /proc and pg_stat_activity), so they hold
whatever the server side is rebuilt into. Tests using these need
`@pytest.mark.django_db(transaction=True)`, so the rows they make are committed and the server
processes can see them.
"""

import http.client
import os
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path

from django.db import connection
from django.test import Client

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
EVENTS_PATH = "/messages/events/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    """The test database, as a DATABASE_URL for a server process."""
    settings = connection.settings_dict
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    return (
        f"postgres://{settings['USER']}{password}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )


def server_env(*, media_root: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(media_root),
        "DEBUG": "true",
        "PYTHONUNBUFFERED": "1",
        "TASKS_IMMEDIATE": "true",
        **extra,
    }
    # The browser tests' conftest sets this in the test process; a server must not inherit it.
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def database_connections() -> int:
    """Connections to the test database now, from anyone but this test process's own one."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def wait_for(condition: Callable[[], bool], *, timeout: float, interval: float = 0.1) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)


# --- Server processes --------------------------------------------------------------------------


@dataclass
class Server:
    """One server (its master process and any workers) listening on 127.0.0.1:`port`."""

    name: str
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def pids(self) -> list[int]:
        """The server's process and all its descendants (gunicorn's workers)."""
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            found.append(pid)
            try:
                for task in Path(f"/proc/{pid}/task").iterdir():
                    todo.extend(int(c) for c in (task / "children").read_text().split())
            except FileNotFoundError:  # a worker that just exited
                continue
        return found

    def _status_total(self, key: str) -> int:
        total = 0
        for pid in self.pids():
            try:
                lines = Path(f"/proc/{pid}/status").read_text().splitlines()
            except FileNotFoundError:
                continue
            for line in lines:
                if line.startswith(f"{key}:"):
                    total += int(line.split()[1])
        return total

    def threads(self) -> int:
        """Threads across the server's processes."""
        return self._status_total("Threads")

    def rss_kib(self) -> int:
        """Resident memory across the server's processes, in KiB."""
        return self._status_total("VmRSS")

    def log_tail(self, lines: int = 15) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """Terminate; kill if it has not exited within 5 s (a server whose request threads
        are stuck would otherwise wait for them to give up)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def launch(name: str, argv: list[str], *, port: int, env: dict, log_dir: Path) -> Server:
    """Start a server process (see `wait_until_ready`); its output goes to a log file."""
    log = log_dir / f"{name}-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, cwd=PROJECT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Server(name=name, process=process, port=port, log=log)


def wait_until_ready(*started: Server, timeout: float = 30) -> None:
    """Wait until each server answers a page (the sign-in page needs no data); stop them all and
    raise if one exits or stays silent."""

    def answers(server: Server) -> bool:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.name} exited ({server.process.returncode}):\n{server.log_tail()}"
            )
        try:
            status, _, _ = request(server.address, "GET", "/accounts/login/", timeout=2)
        except OSError:
            return False
        return status == 200

    try:
        for server in started:
            if not wait_for(lambda server=server: answers(server), timeout=timeout):
                raise RuntimeError(
                    f"{server.name} did not answer in {timeout} s:\n{server.log_tail()}"
                )
    except BaseException:
        for server in started:
            server.stop()
        raise


def launch_uvicorn(*, env: dict, log_dir: Path, production: bool = False) -> Server:
    """uvicorn as `make run` starts it (without --reload, whose file watcher only adds noise), or
    with the README's production flags for the event server."""
    port = free_port()
    argv = [str(BIN / "uvicorn"), "pinboard.asgi:application", "--host", "127.0.0.1",
            "--port", str(port), "--no-access-log"]  # fmt: skip
    if production:
        argv += ["--workers", "1", "--timeout-keep-alive", "75",
                 "--timeout-graceful-shutdown", "10"]  # fmt: skip
    return launch("uvicorn", argv, port=port, env=env, log_dir=log_dir)


def launch_gunicorn(*, env: dict, log_dir: Path) -> Server:
    """gunicorn as the README's production section starts it: 2 sync workers."""
    port = free_port()
    argv = [str(BIN / "gunicorn"), "pinboard.wsgi:application", "--bind", f"127.0.0.1:{port}",
            "--workers", "2", "--timeout", "30", "--graceful-timeout", "5",
            "--no-control-socket"]  # fmt: skip
    return launch("gunicorn", argv, port=port, env=env, log_dir=log_dir)


@dataclass
class Site:
    """What a browser sees as one site: every request goes to the server that nginx would send
    it to (the event stream to `events`, everything else to `pages`)."""

    pages: Server
    events: Server
    shape: str = ""

    @property
    def servers(self) -> list[Server]:
        return [self.pages] if self.pages is self.events else [self.pages, self.events]

    def address_for(self, path: str) -> tuple[str, int]:
        server = self.events if path.startswith(EVENTS_PATH) else self.pages
        return server.address

    def threads(self) -> int:
        return sum(server.threads() for server in self.servers)

    def rss_kib(self) -> int:
        return sum(server.rss_kib() for server in self.servers)

    def log_tail(self) -> str:
        return "\n".join(f"--- {s.name} ---\n{s.log_tail()}" for s in self.servers)

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


# --- Clients -----------------------------------------------------------------------------------


@dataclass
class Visitor:
    """A signed-in person's cookies, as their browser would send them."""

    sessionid: str
    csrftoken: str = ""

    @classmethod
    def signed_in(cls, user, *, csrftoken: str = "") -> "Visitor":
        """A session for `user` in the test database (so the servers see it)."""
        client = Client()
        client.force_login(user)
        return cls(sessionid=client.cookies["sessionid"].value, csrftoken=csrftoken)

    def headers(self, *, post: bool = False) -> dict[str, str]:
        cookies = {"sessionid": self.sessionid}
        if self.csrftoken:
            cookies["csrftoken"] = self.csrftoken
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        if post:
            # As htmx sends it: the token in a header (base.html's hx-headers).
            headers["X-CSRFToken"] = self.csrftoken
            headers["HX-Request"] = "true"
        return headers


def request(
    address: tuple[str, int],
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    timeout: float = 5,
) -> tuple[int, dict[str, str], bytes]:
    """A polite client: send, read the whole answer, close. Raises TimeoutError on a hang."""
    conn = http.client.HTTPConnection(*address, timeout=timeout)
    try:
        conn.request(method, path, body=body or None, headers=headers or {})
        response = conn.getresponse()
        content = response.read()
        cookies = SimpleCookie()
        for value in response.headers.get_all("Set-Cookie") or []:
            cookies.load(value)
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
        answer_headers.update({f"cookie:{k}": m.value for k, m in cookies.items()})
        return response.status, answer_headers, content
    finally:
        conn.close()


def csrf_token_for(address: tuple[str, int], visitor: Visitor, path: str = "/messages/") -> str:
    """The CSRF cookie a signed-in page hands out (the value htmx would send back)."""
    status, headers, _ = request(address, "GET", path, headers=visitor.headers())
    if status != 200 or "cookie:csrftoken" not in headers:
        raise AssertionError(f"GET {path} gave {status} without a CSRF cookie")
    return headers["cookie:csrftoken"]


@dataclass(frozen=True)
class Call:
    """One HTTP request, to send politely (`request`) or as raw bytes to a client that dies."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""

    def raw(self, *, sent: int | None = None) -> bytes:
        """The request's bytes; with `sent`, only that much of the body, while the headers
        still declare all of it (an upload that will never finish)."""
        lines = [f"{self.method} {self.path} HTTP/1.1", "Host: 127.0.0.1"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        if self.method != "GET" or self.body:
            lines.append(f"Content-Length: {len(self.body)}")
        body = self.body if sent is None else self.body[:sent]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _reset(sock: socket.socket) -> None:
    # SO_LINGER on with a zero timeout: close() sends RST at once, no FIN handshake, like a
    # crashed tab or a phone that lost its signal as far as the server can tell.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def die_after_sending(address: tuple[str, int], data: bytes, *, after: float = 0.0) -> None:
    """Send `data`, wait `after` seconds without reading a byte, then vanish (RST)."""
    sock = socket.create_connection(address, timeout=5)
    try:
        sock.sendall(data)
        if after:
            time.sleep(after)  # the point in the server's work where the client dies
    finally:
        _reset(sock)


def die_after_headers(address: tuple[str, int], data: bytes) -> bytes:
    """Send `data`, read until the response's headers have arrived, then vanish (RST).
    Returns what was read (the status line and headers, maybe a first chunk)."""
    sock = socket.create_connection(address, timeout=5)
    received = b""
    try:
        sock.sendall(data)
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    finally:
        _reset(sock)
    return received


def open_and_close(address: tuple[str, int], data: bytes) -> bytes:
    """Like `die_after_headers`, but the polite way: a normal close (FIN), as a tab that
    navigates away closes its stream."""
    with socket.create_connection(address, timeout=5) as sock:
        sock.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return received


def run_all(
    jobs: list[Callable[[], object]], *, workers: int, give_up_after: int = 5
) -> tuple[int, list[BaseException]]:
    """Run the jobs on `workers` threads: (how many ran, the exceptions they raised).

    A client's own failure (a refused connection, no answer within its timeout) is evidence
    for the test, not a crash of the runner. After `give_up_after` failures the jobs not yet
    started are skipped: a server that stopped answering would otherwise cost every remaining
    client its whole timeout.
    """
    errors: list[BaseException] = []
    ran = 0
    lock = threading.Lock()

    def run(job: Callable[[], object]) -> None:
        nonlocal ran
        with lock:
            if len(errors) >= give_up_after:
                return
            ran += 1
        try:
            job()
        except Exception as exc:
            with lock:
                errors.append(exc)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(run, jobs))
    return ran, errors


class EventSourceClient:
    """A browser's EventSource over a raw socket: reads events, remembers the last id, and can
    reconnect with Last-Event-ID (to another server, as a load balancer would route it)."""

    def __init__(self, visitor: "Visitor", *, receive_buffer: int | None = None) -> None:
        self.visitor = visitor
        self.receive_buffer = receive_buffer
        self.last_event_id = ""
        self.sock: socket.socket | None = None
        self._buffer = b""
        self._events: list[dict] = []

    def connect(self, address: tuple[str, int]) -> "EventSourceClient":
        host, port = address
        self.sock = socket.socket()
        if self.receive_buffer:  # before connecting, so the window starts small
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receive_buffer)
        self.sock.settimeout(10)
        self.sock.connect((host, int(port)))
        headers = [
            f"GET {EVENTS_PATH} HTTP/1.1",
            f"Host: {host}:{port}",
            f"Cookie: {self.visitor.headers()['Cookie']}",
            "Accept: text/event-stream",
        ]
        if self.last_event_id:
            headers.append(f"Last-Event-ID: {self.last_event_id}")
        self.sock.sendall(("\r\n".join(headers) + "\r\n\r\n").encode())
        self._buffer = b""
        head = self._read_until(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head[:200]
        self._parse(self._read_chunk().decode())  # the opening `id: N / retry:` lines
        return self

    def _read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the server closed the stream")
            self._buffer += data
        head, _, self._buffer = self._buffer.partition(marker)
        return head

    def _read_chunk(self) -> bytes:
        """One HTTP/1.1 chunk of the response body."""
        size = int(self._read_until(b"\r\n"), 16)
        if size == 0:
            raise ConnectionError("the stream ended")
        while len(self._buffer) < size + 2:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the server closed the stream")
            self._buffer += data
        chunk, self._buffer = self._buffer[:size], self._buffer[size + 2 :]
        return chunk

    def _parse(self, text: str) -> None:
        for block in text.split("\n\n"):
            fields = {}
            for line in block.splitlines():
                name, _, value = line.partition(": ")
                if name and not name.startswith(":"):
                    fields[name] = value
            if "id" in fields:
                self.last_event_id = fields["id"]
            if "event" in fields:
                self._events.append(fields)

    def next_event(self, timeout: float = 10) -> dict:
        self.sock.settimeout(timeout)
        while not self._events:
            self._parse(self._read_chunk().decode())
        return self._events.pop(0)

    def read_all_until_closed(self) -> list[dict]:
        """Every event still on the way, until the server closes the connection."""
        try:
            while True:
                self._parse(self._read_chunk().decode())
        except (ConnectionError, TimeoutError, ValueError):
            pass
        events, self._events = self._events, []
        return events

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
