"""A minimal HTTP/1.1 client on one keep-alive `http.client` connection per target.

`http.client` sends headers and a bytes body in one write and sets TCP_NODELAY on connect
(checked here), so the client adds neither Nagle nor delayed-ACK stalls of its own. Reconnects
are counted: a benchmark that silently reconnected per request would measure connection setup.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bench.procs import HOST


@dataclass
class Target:
    """One endpoint with one persistent connection."""

    name: str
    port: int
    path: str
    body: bytes
    token: str
    connects: int = 0
    _conn: http.client.HTTPConnection | None = field(default=None, repr=False)
    _sock: socket.socket | None = field(default=None, repr=False)

    @classmethod
    def json(cls, name: str, port: int, path: str, payload: dict[str, Any], token: str) -> Target:
        return cls(name, port, path, json.dumps(payload, separators=(",", ":")).encode(), token)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            self._conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        return self._conn

    def _note_socket(self, conn: http.client.HTTPConnection) -> None:
        sock = conn.sock
        if sock is not None and sock is not self._sock:
            self._sock = sock
            self.connects += 1
            if not sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY):
                raise RuntimeError("http.client did not set TCP_NODELAY on its socket")

    def request(self) -> float:
        """Send the request once, read the whole response; seconds taken."""
        conn = self._connection()
        started = time.perf_counter()
        conn.request("POST", self.path, self.body, self.headers)
        response = conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        self._note_socket(conn)
        if response.status != 200:
            raise RuntimeError(f"{self.name}: HTTP {response.status}: {data[:300]!r}")
        return elapsed

    def stream(self, content_of: Callable[[dict[str, Any]], str | None]) -> tuple[float, list[float]]:
        """Send a streaming request; return (start, arrival time of each SSE event with content).

        Bytes are taken with `read1`, i.e. as soon as the socket has them (no client-side
        buffering); a read that holds several events gives them all the same arrival time.
        """
        conn = self._connection()
        arrivals: list[float] = []
        started = time.perf_counter()
        conn.request("POST", self.path, self.body, self.headers)
        response = conn.getresponse()
        if response.status != 200:
            raise RuntimeError(f"{self.name}: HTTP {response.status}: {response.read()[:300]!r}")
        buffer = b""
        done = False
        while not done:
            chunk = response.read1(65536)
            now = time.perf_counter()
            if not chunk:
                break
            buffer += chunk
            *events, buffer = buffer.split(b"\n\n")
            for event in events:
                data = _data_of(event)
                if data is None:
                    continue
                if data == b"[DONE]":
                    done = True
                    continue
                if content_of(json.loads(data)):
                    arrivals.append(now)
        response.read()  # drain the chunked terminator so the connection can be reused
        self._note_socket(conn)
        return started, arrivals

    @property
    def local_port(self) -> int | None:
        if self._sock is None:
            return None
        port: int = self._sock.getsockname()[1]
        return port

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None
        self._sock = None


def _data_of(event: bytes) -> bytes | None:
    for line in event.split(b"\n"):
        if line.startswith(b"data:"):
            return line[5:].strip()
    return None


def warm(targets: list[Target], count: int) -> None:
    for _ in range(count):
        for target in targets:
            target.request()


def interleaved(targets: list[Target], rounds: int) -> Iterator[list[float]]:
    """`rounds` latencies per target (in `targets` order); the order of sending rotates each round."""
    count = len(targets)
    for i in range(rounds):
        latencies = [0.0] * count
        for k in range(count):
            j = (i + k) % count
            latencies[j] = targets[j].request()
        yield latencies
