"""A loopback server that misbehaves byte by byte, for fault-injection tests of adapters.

Each answer is a script of steps run on the raw socket once a request was read::

    with FaultServer() as server:
        server.add("/v1/chat/completions", Send(head(200, chunked=True)), Send(chunk(b"data: {")),
                   Reset())
        ...

Steps: ``Send(bytes)``, ``Drip(bytes, every, size)`` (a few bytes at a time), ``Flood(total)``
(that many bytes of ``x`` in chunked framing, written lazily), ``Stall(seconds)`` (silence until
the client leaves or the time is up), ``Close()`` (FIN) and ``Reset()`` (RST). A script that ends
without ``Close`` / ``Reset`` keeps the connection alive for the next request. Scripts for one
path are used in the order added; the last one repeats. ``head``, ``chunk`` and ``last_chunk``
build the HTTP bytes.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

__all__ = [
    "Close",
    "Drip",
    "FaultServer",
    "Flood",
    "Received",
    "Reset",
    "Send",
    "Stall",
    "Step",
    "chunk",
    "head",
    "last_chunk",
]

_REASONS = {200: "OK", 400: "Bad Request", 429: "Too Many Requests", 500: "Internal Server Error"}


def head(
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    *,
    chunked: bool = False,
    length: int | None = None,
) -> bytes:
    """A status line and headers (``transfer-encoding: chunked`` or a ``content-length``)."""
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if chunked:
        lines.append("transfer-encoding: chunked")
    if length is not None:
        lines.append(f"content-length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunk(data: bytes) -> bytes:
    """``data`` as one chunk of a chunked body."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def last_chunk() -> bytes:
    """The end of a chunked body."""
    return b"0\r\n\r\n"


class Step:
    """One thing the server does on the socket; ``run`` returns False once the socket is gone."""

    def run(self, sock: socket.socket) -> bool:  # pragma: no cover - every step overrides
        raise NotImplementedError


@dataclass(frozen=True)
class Send(Step):
    """Write ``data`` at once."""

    data: bytes

    def run(self, sock: socket.socket) -> bool:
        try:
            sock.sendall(self.data)
        except OSError:
            return False
        return True


@dataclass(frozen=True)
class Drip(Step):
    """Write ``data`` ``size`` bytes at a time, waiting ``every`` seconds before each piece."""

    data: bytes
    every: float = 0.01
    size: int = 1

    def run(self, sock: socket.socket) -> bool:
        for start in range(0, len(self.data), self.size):
            time.sleep(self.every)
            if not Send(self.data[start : start + self.size]).run(sock):
                return False
        return True


@dataclass(frozen=True)
class Flood(Step):
    """``total`` bytes of ``x`` as chunks of ``piece`` bytes (never held in memory at once)."""

    total: int
    piece: int = 1 << 20

    def run(self, sock: socket.socket) -> bool:
        frame = chunk(b"x" * self.piece)
        sent = 0
        while sent < self.total:
            if not Send(frame).run(sock):
                return False
            sent += self.piece
        return True


@dataclass(frozen=True)
class Stall(Step):
    """Say nothing for ``seconds``, or until the client closes its end."""

    seconds: float = 10.0

    def run(self, sock: socket.socket) -> bool:
        readable, _, _ = select.select([sock], [], [], self.seconds)
        if readable:
            try:
                return sock.recv(1, socket.MSG_PEEK) != b""
            except OSError:
                return False
        return True


@dataclass(frozen=True)
class Close(Step):
    """Close the connection (FIN)."""

    def run(self, sock: socket.socket) -> bool:
        sock.close()
        return False


@dataclass(frozen=True)
class Reset(Step):
    """Abort the connection (RST): the client sees ``connection reset by peer``."""

    def run(self, sock: socket.socket) -> bool:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        return False


@dataclass(frozen=True)
class Received:
    """A request the server read: method, path, lower-case headers, body, and the connection's
    ordinal (requests on one keep-alive connection share it)."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    connection: int


@dataclass
class _Book:
    scripts: dict[str, deque[Sequence[Step]]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    connections: int = 0
    live: set[socket.socket] = field(default_factory=set)


class FaultServer:
    """A threaded raw-socket HTTP/1.1 server on 127.0.0.1 (an ephemeral port unless ``port``)."""

    def __init__(self, port: int = 0) -> None:
        self._book = _Book()
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen(64)
        self._stopped = threading.Event()
        self._threads: list[threading.Thread] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    @property
    def requests(self) -> list[Received]:
        """Every request read so far, in order."""
        with self._lock:
            return list(self._book.received)

    def add(self, path: str, *steps: Step) -> None:
        """Queue a script for requests to ``path`` (the query string is ignored)."""
        with self._lock:
            self._book.scripts.setdefault(path, deque()).append(tuple(steps))

    def clear(self) -> None:
        """Forget every queued script."""
        with self._lock:
            self._book.scripts.clear()

    def _script(self, path: str) -> Sequence[Step] | None:
        with self._lock:
            queue = self._book.scripts.get(path)
            if not queue:
                return None
            return queue.popleft() if len(queue) > 1 else queue[0]

    def _accept(self) -> None:
        self._listener.settimeout(0.05)
        while not self._stopped.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self._book.connections += 1
                number = self._book.connections
                self._book.live.add(sock)
            thread = threading.Thread(target=self._serve, args=(sock, number), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, sock: socket.socket, number: int) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        try:
            while not self._stopped.is_set():
                request, buffer = _read_request(sock, buffer)
                if request is None:
                    return
                method, path, headers, body = request
                with self._lock:
                    self._book.received.append(Received(method, path, headers, body, number))
                script = self._script(path.split("?", 1)[0])
                if script is None:
                    script = (Send(head(404, length=0)),)
                if not all(step.run(sock) for step in script):
                    return
        finally:
            with self._lock:
                self._book.live.discard(sock)
            sock.close()

    def start(self) -> FaultServer:
        """Start accepting connections."""
        self._acceptor.start()
        return self

    def stop(self) -> None:
        """Stop: close the listener and every connection still open."""
        self._stopped.set()
        self._acceptor.join()
        self._listener.close()
        with self._lock:
            live = list(self._book.live)
        for sock in live:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _read_request(
    sock: socket.socket, buffer: bytes
) -> tuple[tuple[str, str, dict[str, str], bytes] | None, bytes]:
    """One request from the socket (``None`` when the client closed), and the bytes after it."""
    while b"\r\n\r\n" not in buffer:
        data = _recv(sock)
        if not data:
            return None, b""
        buffer += data
    raw_head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = raw_head.decode("latin-1").split("\r\n")
    method, path, _ = [*lines[0].split(" "), "", ""][:3]
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(rest) < length:
        data = _recv(sock)
        if not data:
            return None, b""
        rest += data
    return (method, path, headers, rest[:length]), rest[length:]


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""
