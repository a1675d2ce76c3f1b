"""Real server processes for tests that need them (event streams can't run in pytest-django's
WSGI live_server): uvicorn and gunicorn against the test database, plus a small raw-socket
event-stream reader that behaves like a browser's EventSource."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import urlopen

from django.conf import settings
from django.db import connection
from django.test import Client

PROJECT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


class ServerProcess:
    """uvicorn (`pinboard.asgi`, as `make run` and the production event server start it) or
    gunicorn (`pinboard.wsgi`, the production page server) on a free loopback port."""

    def __init__(self, kind: str, *, media_root: Path, log_path: Path, **env: str) -> None:
        self.kind = kind
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "MEDIA_ROOT": str(media_root),
            "DEBUG": "true",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        if self.kind == "gunicorn":
            return [str(BIN / "gunicorn"), "pinboard.wsgi:application", "--bind",
                    f"127.0.0.1:{self.port}", "--workers", "1", "--no-control-socket"]  # fmt: skip
        return [str(BIN / "uvicorn"), "pinboard.asgi:application", "--host", "127.0.0.1",
                "--port", str(self.port), "--no-access-log"]  # fmt: skip

    def start(self) -> "ServerProcess":
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(), cwd=PROJECT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 30
        while True:
            try:
                urlopen(self.url + "/accounts/login/", timeout=2).read()
                return self
            except HTTPError:
                return self
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"{self.kind} did not start:\n{self.log()}") from None
                time.sleep(0.2)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def status(self) -> dict[str, int]:
        """VmRSS (KiB) and Threads of the process."""
        values = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "Threads"):
                values[name] = int(value.split()[0])
        return values

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def signed_in_cookies(user) -> dict[str, str]:
    """A session for `user` (in the test database, so the servers see it) and a CSRF token."""
    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value,
            settings.CSRF_COOKIE_NAME: "k" * 32}  # fmt: skip


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


class EventSourceClient:
    """A browser's EventSource over a raw socket: reads events, remembers the last id, and can
    reconnect with Last-Event-ID (to another server, as a load balancer would route it)."""

    def __init__(self, cookies: dict[str, str], *, receive_buffer: int | None = None) -> None:
        self.cookies = cookies
        self.receive_buffer = receive_buffer
        self.last_event_id = ""
        self.sock: socket.socket | None = None
        self._buffer = b""
        self._events: list[dict] = []

    def connect(self, base_url: str) -> "EventSourceClient":
        host, port = base_url.removeprefix("http://").split(":")
        self.sock = socket.socket()
        if self.receive_buffer:  # before connecting, so the window starts small
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receive_buffer)
        self.sock.settimeout(10)
        self.sock.connect((host, int(port)))
        headers = [
            "GET /messages/events/ HTTP/1.1",
            f"Host: {host}:{port}",
            f"Cookie: {cookie_header(self.cookies)}",
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
