"""Abandoning blocking network I/O when nobody waits for its answer any more.

The services are blocking code running in worker threads (`requests`, raw sockets). A thread
blocked in `recv` cannot be interrupted, but its socket can be shut down from another thread,
which makes the `recv` return at once. A `CancelScope` is the set of connections that one piece
of work (an API request, an image download) has open; `cancel()` shuts them all down and makes
every later attempt fail fast.

    scope = CancelScope()
    run_in(scope, service.create, params)      # in a worker thread: I/O attaches to `scope`
    scope.cancel()                             # from the event loop: the client has gone

Code that opens connections attaches them to `current()`, the scope bound to its thread
(`workers_ai.transport` does it for the Workers AI session). Threads a service starts itself
re-bind the scope (`run_in`), since thread-locals do not cross threads. A child scope
(`scope.child()`) is cancelled with its parent and can be cancelled alone (a deadline).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

_local = threading.local()


class Cancelled(Exception):
    """The work was cancelled; its caller has already gone, so nobody sees this as an answer."""


def _shutdown(resource: Any) -> None:
    sock = resource if isinstance(resource, socket.socket) else getattr(resource, "sock", None)
    if not isinstance(sock, socket.socket):
        return
    # The plain socket's shutdown, also for TLS sockets: `SSLSocket.shutdown` would drop its TLS
    # state under the feet of the thread that is reading from it. OSError: never connected, or closed.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


class CancelScope:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._resources: set[Any] = set()
        self._children: list[CancelScope] = []
        self._cancelled = False
        # Made only when someone sleeps under the scope: an Event costs ~2 µs, most scopes never need one.
        self._event: threading.Event | None = None

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            resources = list(self._resources)
            children = list(self._children)
            event = self._event
        if event is not None:
            event.set()
        for resource in resources:
            _shutdown(resource)
        for child in children:
            child.cancel()

    def child(self) -> CancelScope:
        scope = CancelScope()
        with self._lock:
            self._children.append(scope)
            cancelled = self._cancelled
        if cancelled:
            scope.cancel()
        return scope

    def attach(self, resource: Any) -> None:
        """Track a socket (or an object with a `.sock`); shut it down now if already cancelled."""
        with self._lock:
            self._resources.add(resource)
            cancelled = self._cancelled
        if cancelled:
            _shutdown(resource)

    def detach(self, resource: Any) -> None:
        with self._lock:
            self._resources.discard(resource)

    def raise_if_cancelled(self) -> None:
        if self._cancelled:
            raise Cancelled

    def sleep(self, seconds: float) -> None:
        """Sleep, or raise `Cancelled` as soon as the scope is cancelled."""
        with self._lock:
            if self._event is None:
                self._event = threading.Event()
            event = self._event
        if self._cancelled or event.wait(seconds):
            raise Cancelled


def current() -> CancelScope | None:
    """The scope bound to this thread, if any."""
    scope: CancelScope | None = getattr(_local, "scope", None)
    return scope


@contextmanager
def bound(scope: CancelScope | None) -> Iterator[None]:
    previous = current()
    _local.scope = scope
    try:
        yield
    finally:
        _local.scope = previous


def run_in(scope: CancelScope | None, function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` with `scope` bound to this thread (`bound` without a generator's cost:
    this runs on every request)."""
    previous = getattr(_local, "scope", None)
    _local.scope = scope
    try:
        return function(*args)
    finally:
        _local.scope = previous


def raise_if_cancelled() -> None:
    scope = current()
    if scope is not None:
        scope.raise_if_cancelled()


def sleep(seconds: float) -> None:
    """`time.sleep` that a cancel of the thread's scope interrupts (with `Cancelled`)."""
    scope = current()
    if scope is None:
        time.sleep(seconds)
    else:
        scope.sleep(seconds)
