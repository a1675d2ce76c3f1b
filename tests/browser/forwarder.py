"""A TCP forwarder between the browser and a server process (tests/servers.py) that can cut the
network: refuse connections for a while, or answer them with a proxy's 502."""

import contextlib
import selectors
import socket
import struct
import threading
import time

from tests.servers import free_port


class Forwarder:
    """A TCP forwarder on 127.0.0.1 in front of `target_port`, in a thread of the test process.

    `cut()` resets every open connection (what a dropped network looks like to the browser);
    then, for `refuse_for` seconds, new connections are refused (the listening socket is closed,
    then listens again on the same port), or for `bad_gateway_for` seconds each is answered
    "502 Bad Gateway", as a reverse proxy does while the server behind it is down.
    """

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener: socket.socket | None = None
        self._closed = False
        self._bad_gateway_until = 0.0
        self._listen()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _listen(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed: a cut, or the end
            if time.monotonic() < self._bad_gateway_until:
                threading.Thread(target=self._bad_gateway, args=(client,), daemon=True).start()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        other = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            selector.register(client, selectors.EVENT_READ)
            selector.register(upstream, selectors.EVENT_READ)
            try:
                while True:
                    for key, _ in selector.select(timeout=1):
                        data = key.fileobj.recv(65536)
                        if not data:
                            raise OSError("closed")
                        other[key.fileobj].sendall(data)
            except (OSError, ValueError):
                pass
        self._drop(client, upstream)

    def _drop(self, client: socket.socket, upstream: socket.socket) -> None:
        with self._lock:
            if (client, upstream) in self._pairs:
                self._pairs.remove((client, upstream))
        for sock in (client, upstream):
            try:
                # SO_LINGER 0: close with a reset, like a network that went away mid-stream.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
            except OSError:
                pass

    def _bad_gateway(self, client: socket.socket) -> None:
        with contextlib.suppress(OSError), client:
            client.settimeout(5)
            client.recv(65536)  # the request's head
            client.sendall(
                b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\n"
                b"Content-Length: 11\r\nConnection: close\r\n\r\nBad Gateway"
            )

    def cut(self, *, refuse_for: float = 0, bad_gateway_for: float = 0) -> None:
        if refuse_for:
            self._stop_listening()
        if bad_gateway_for:
            self._bad_gateway_until = time.monotonic() + bad_gateway_for
        with self._lock:
            pairs = list(self._pairs)
        for client, upstream in pairs:
            self._drop(client, upstream)
        if refuse_for:
            timer = threading.Timer(refuse_for, self._restore)
            timer.daemon = True
            timer.start()

    def _stop_listening(self) -> None:
        # shutdown() first: close() alone leaves a listener that a thread blocked in accept()
        # still holds, and the kernel would go on accepting connections.
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()

    def _restore(self) -> None:
        if not self._closed:
            self._listen()

    def close(self) -> None:
        self._closed = True
        self._stop_listening()
        self.cut()
