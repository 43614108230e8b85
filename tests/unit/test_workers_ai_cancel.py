"""The Workers AI client under cancel scopes: nothing is sent for an abandoned request, a blocked
call ends at once when its scope is cancelled, and pooled connections belong to one scope at a time."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from openai_cf import cancel
from openai_cf.workers_ai.client import WorkersAIClient

from .test_workers_ai_client import FakeSession, client, ok


def test_an_abandoned_request_is_never_sent() -> None:
    session = FakeSession(ok({"response": "x"}))
    scope = cancel.CancelScope()
    scope.cancel()
    with pytest.raises(cancel.Cancelled):
        cancel.run_in(scope, client(session, []).run, "@cf/m", {})
    assert session.calls == []


def test_a_connection_failure_after_cancel_is_not_retried() -> None:
    scope = cancel.CancelScope()

    class Failing(FakeSession):
        def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
            scope.cancel()
            return super().request(method, url, **kwargs)

    session = Failing(requests.ConnectionError("Connection refused"), ok({"response": "x"}))
    sleeps: list[float] = []
    with pytest.raises(cancel.Cancelled):
        cancel.run_in(scope, client(session, sleeps).run, "@cf/m", {})
    assert len(session.calls) == 1
    assert sleeps == []


class _Server:
    """A loopback HTTP/1.1 server: `/fast` answers at once (keep-alive), `/slow` never answers."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        body = b'{"success": true, "result": {"response": "x"}, "errors": [], "messages": []}'
        reader = conn.makefile("rb")
        with conn, reader:
            while request_line := reader.readline():
                length = 0
                while (line := reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                reader.read(length)
                if b"/slow" in request_line:
                    reader.read()  # until the client hangs up
                    return
                head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                conn.sendall(head.encode() + body)


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    yield srv
    srv.sock.close()


def _client(server: _Server) -> WorkersAIClient:
    return WorkersAIClient(
        base_url=f"http://127.0.0.1:{server.port}/client/v4", account_id="a", api_token="t", max_retries=0
    )


def test_cancel_ends_a_call_blocked_waiting_for_its_answer(server: _Server) -> None:
    # Given a call waiting for an answer that will never come
    workers_ai = _client(server)
    scope = cancel.CancelScope()
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            cancel.run_in(scope, workers_ai.run, "slow", {})
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    thread.join(0.3)
    assert thread.is_alive(), outcome
    # When its scope is cancelled
    started = time.monotonic()
    scope.cancel()
    thread.join(5)
    # Then it ends at once, as cancelled (not as an upstream failure)
    assert not thread.is_alive()
    assert time.monotonic() - started < 2
    assert isinstance(outcome[0], cancel.Cancelled)


def test_a_pooled_connection_leaves_its_scope_when_given_back(server: _Server) -> None:
    # Given a finished call under scope A whose connection went back to the pool
    workers_ai = _client(server)
    first = cancel.CancelScope()
    assert cancel.run_in(first, workers_ai.run, "fast", {}) == {"response": "x"}
    # When A is cancelled later (its client left after the answer), and B reuses the connection
    first.cancel()
    second = cancel.CancelScope()
    assert cancel.run_in(second, workers_ai.run, "fast", {}) == {"response": "x"}
    # Then B's call was unaffected and reused the same connection
    assert server.connections == 1
