"""What happened to tagged requests: how far the emulator got before it finished or its client left.

This is part of a development and test double, not Workers AI. Tests tag a request with
`emulate:tag=NAME` and then read `journal.wait(NAME)` to prove that the bridge stopped an upstream
call early (the client it served had gone) rather than reading a generation nobody wanted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Visit:
    events_sent: int = 0
    completed: bool = False
    abandoned: bool = False
    ended: threading.Event = field(default_factory=threading.Event)

    def finish(self, *, abandoned: bool) -> None:
        self.abandoned = abandoned
        self.completed = not abandoned
        self.ended.set()


class Journal:
    def __init__(self) -> None:
        self._visits: dict[str, Visit] = {}
        self._lock = threading.Lock()
        self._opened = threading.Condition(self._lock)

    def open(self, tag: str | None) -> Visit | None:
        if not tag:
            return None
        with self._lock:
            visit = self._visits[tag] = Visit()
            self._opened.notify_all()
        return visit

    def wait_opened(self, tag: str, timeout: float = 10.0) -> Visit:
        """The visit of `tag` once its request has reached the emulator."""
        with self._lock:
            if not self._opened.wait_for(lambda: tag in self._visits, timeout):
                raise TimeoutError(f"no request tagged {tag!r} reached the emulator")
            return self._visits[tag]

    def ended(self, tag: str) -> bool:
        with self._lock:
            visit = self._visits.get(tag)
        return visit is not None and visit.ended.is_set()

    def wait(self, tag: str, timeout: float = 10.0) -> Visit:
        """The visit of `tag` once it has ended (raises TimeoutError if it does not in time)."""
        visit = self.wait_opened(tag, timeout)
        if not visit.ended.wait(timeout):
            raise TimeoutError(f"the request tagged {tag!r} did not end within {timeout} s")
        return visit
