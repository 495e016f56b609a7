"""A real HTTP server on 127.0.0.1 that replays canned answers: for end-to-end tests of adapters
(sockets, chunked streaming, timeouts, cut connections) without any network.

    with LoopbackServer() as server:
        server.add("POST", "/v1/chat/completions", body=sse_bytes,
                   headers={"content-type": "text/event-stream"}, chunks=[120, 400])
        engine = allm.Engine(adapter=OpenAI(base_url=server.url + "/v1"), ...)

Answers for one path are served in the order they were added (a 429 then a 200, say); the last
one repeats. ``server.route(method, path, fn)`` answers every request on that path with
``fn(received) -> Answer`` instead (an echo, say). Every received request is kept in
``server.requests``; ``server.max_in_flight`` is the most requests it was serving at once.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Answer", "LoopbackServer", "ReceivedRequest"]


@dataclass(frozen=True, slots=True)
class Answer:
    """One canned answer. ``chunks`` are byte offsets where the body is split into separate
    writes; ``cut_after`` closes the connection after that many body bytes; ``delay`` waits
    before each write (seconds); ``gate`` (a ``threading.Event``) holds the rest of the body
    after the first write until it is set (at most ``gate_timeout`` seconds), so a test can see
    what a client does while a body is still open."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunks: Sequence[int] = ()
    cut_after: int | None = None
    delay: float = 0.0
    gate: Any = None
    gate_timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """A request the server received."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        import json

        return json.loads(self.body)


class LoopbackServer:
    """A threaded HTTP/1.1 server on an ephemeral loopback port."""

    def __init__(self) -> None:
        self._answers: dict[tuple[str, str], deque[Answer]] = {}
        self._routes: dict[tuple[str, str], Callable[[ReceivedRequest], Answer]] = {}
        self.requests: list[ReceivedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        # (path, whether the whole body was written) per answer, once it is over.
        self.finished: list[tuple[str, bool]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out as separate writes: without this, Nagle's algorithm
                # and delayed ACKs add ~40 ms to every small response.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                return  # keep test output quiet

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path
                received = server._record(self.command, path, dict(self.headers.items()), body)
                self._counted = True
                try:
                    answer = server._next(self.command, path.split("?", 1)[0], received)
                    self._write(answer)
                finally:
                    self._uncount()

            def _uncount(self) -> None:
                # Before the last write: once the client has it, it may send its next request.
                if self._counted:
                    self._counted = False
                    server._done()

            def _write(self, answer: Answer | None) -> None:
                if answer is None:
                    self.send_response(404)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding"):
                        self.send_header(name, value)
                if answer.cut_after is not None:
                    self.send_header("content-length", str(len(answer.body)))
                    self.send_header("connection", "close")
                else:
                    self.send_header("transfer-encoding", "chunked")
                self.end_headers()
                payload = answer.body
                if answer.cut_after is not None:
                    payload = payload[: answer.cut_after]
                pieces = _split(payload, answer.chunks)
                try:
                    for index, piece in enumerate(pieces):
                        if index == 1 and answer.gate is not None:
                            answer.gate.wait(answer.gate_timeout)
                        if answer.delay:
                            time.sleep(answer.delay)
                        if answer.cut_after is not None:
                            self.wfile.write(piece)
                        elif piece:
                            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
                        self.wfile.flush()
                    self._uncount()
                    if answer.cut_after is None:
                        self.wfile.write(b"0\r\n\r\n")
                        self.wfile.flush()
                    else:
                        self.close_connection = True
                    server._finished(self.path, True)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True
                    server._finished(self.path, False)

            do_POST = _serve
            do_GET = _serve

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def add(self, method: str, path: str, answer: Answer | None = None, **fields: Any) -> None:
        """Queue an answer for ``method`` on ``path`` (an ``Answer`` or its fields)."""
        with self._lock:
            queue = self._answers.setdefault((method.upper(), path), deque())
            queue.append(answer if answer is not None else Answer(**fields))

    def route(self, method: str, path: str, fn: Callable[[ReceivedRequest], Answer]) -> None:
        """Answer every ``method`` request on ``path`` with ``fn(received)``."""
        with self._lock:
            self._routes[(method.upper(), path)] = fn

    def _next(self, method: str, path: str, received: ReceivedRequest) -> Answer | None:
        route = self._routes.get((method, path))
        if route is not None:
            return route(received)
        with self._lock:
            queue = self._answers.get((method, path))
            if not queue:
                return None
            return queue.popleft() if len(queue) > 1 else queue[0]

    def _record(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> ReceivedRequest:
        received = ReceivedRequest(method, path, headers, body)
        with self._lock:
            self.requests.append(received)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        return received

    def _done(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _finished(self, path: str, whole: bool) -> None:
        with self._lock:
            self.finished.append((path, whole))

    def start(self) -> LoopbackServer:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    # The default backlog of 5 resets connections under a burst of concurrent clients.
    request_queue_size = 1024


def _split(payload: bytes, offsets: Sequence[int]) -> list[bytes]:
    pieces, start = [], 0
    for offset in sorted(set(offsets)):
        if 0 < offset < len(payload):
            pieces.append(payload[start:offset])
            start = offset
    pieces.append(payload[start:])
    return pieces
