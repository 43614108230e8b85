"""Cancel scopes: a thread blocked on a socket wakes as soon as its scope is cancelled."""

from __future__ import annotations

import socket
import threading

import pytest

from openai_cf.cancel import Cancelled, CancelScope, bound, current, run_in, sleep


def _blocked_reader(sock: socket.socket, out: list[bytes]) -> threading.Thread:
    thread = threading.Thread(target=lambda: out.append(sock.recv(10)), daemon=True)
    thread.start()
    return thread


def test_cancel_wakes_a_thread_blocked_in_recv() -> None:
    # Given a thread waiting for bytes that will never come, on an attached socket
    ours, theirs = socket.socketpair()
    scope = CancelScope()
    scope.attach(ours)
    out: list[bytes] = []
    reader = _blocked_reader(ours, out)
    reader.join(0.1)
    assert reader.is_alive()
    # When the scope is cancelled
    scope.cancel()
    # Then the read returns at once with end-of-stream
    reader.join(5)
    assert not reader.is_alive()
    assert out == [b""]
    ours.close()
    theirs.close()


def test_attaching_to_a_cancelled_scope_shuts_down_at_once() -> None:
    ours, theirs = socket.socketpair()
    scope = CancelScope()
    scope.cancel()
    scope.attach(ours)
    assert ours.recv(10) == b""
    ours.close()
    theirs.close()


def test_detached_sockets_are_left_alone() -> None:
    ours, theirs = socket.socketpair()
    scope = CancelScope()
    scope.attach(ours)
    scope.detach(ours)
    scope.cancel()
    theirs.sendall(b"still here")
    assert ours.recv(10) == b"still here"
    ours.close()
    theirs.close()


def test_children_are_cancelled_with_their_parent_but_not_the_reverse() -> None:
    parent = CancelScope()
    child = parent.child()
    child.cancel()
    assert not parent.cancelled
    other = parent.child()
    parent.cancel()
    assert other.cancelled
    assert parent.child().cancelled


def test_the_scope_is_bound_per_thread() -> None:
    scope = CancelScope()
    seen: list[CancelScope | None] = []
    with bound(scope):
        assert current() is scope
        thread = threading.Thread(target=lambda: seen.append(current()))
        thread.start()
        thread.join()
        assert run_in(None, current) is None
        assert current() is scope
    assert current() is None
    assert seen == [None]


def test_raise_if_cancelled() -> None:
    scope = CancelScope()
    scope.raise_if_cancelled()
    scope.cancel()
    with pytest.raises(Cancelled):
        scope.raise_if_cancelled()


def test_sleep_is_cut_short_by_cancel() -> None:
    # Given a thread backing off for a minute under a scope
    scope = CancelScope()
    outcome: list[str] = []

    def back_off() -> None:
        try:
            run_in(scope, sleep, 60)
            outcome.append("slept")
        except Cancelled:
            outcome.append("cancelled")

    thread = threading.Thread(target=back_off)
    thread.start()
    thread.join(0.1)
    # When the scope is cancelled, the sleep ends at once
    scope.cancel()
    thread.join(5)
    assert outcome == ["cancelled"]
    # And without a scope it is a plain sleep
    sleep(0)
