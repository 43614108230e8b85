"""Stop a step's model call when its run no longer wants the answer.

While the model generates, a background thread reads the run every `interval` seconds; once the
run is asked to cancel (`cancelling`), has expired, is gone, or was moved by someone else (its
version changed), it cancels the call's cancel scope (`openai_cf.cancel`): the upstream connection
is shut and the call raises `Cancelled` at once, instead of finishing an answer nobody will keep.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType

from openai_cf import cancel
from openai_cf.errors import OpenAICFError
from openai_cf.storage.runs import RunRecord, RunRepository

logger = logging.getLogger(__name__)


class CancelWatch:
    def __init__(
        self, runs: RunRepository, run: RunRecord, scope: cancel.CancelScope, *, interval: float,
        clock: Callable[[], float],
    ) -> None:  # fmt: skip
        self._runs = runs
        self._run = run
        self._scope = scope
        self._interval = interval
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name=f"watch-{run.id}", daemon=True)

    def __enter__(self) -> CancelWatch:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval + 5)

    def _watch(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                if self._unwanted():
                    self._scope.cancel()
                    return
            except OpenAICFError:
                # Storage hiccup: look again at the next tick; the step itself is unaffected.
                logger.warning("run check failed", extra={"error": "storage"})

    def _unwanted(self) -> bool:
        current = self._runs.get(self._run.thread_id, self._run.id)
        return current is None or current.version != self._run.version or current.status_at(self._clock()) == "expired"
