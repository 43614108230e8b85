"""Threads: create (with first messages), retrieve, update, delete (with every message, run and step).

The thread item is the commit point both ways. A new thread's messages are written first and its
item last, so a thread is never seen without the messages it was created with; a failure in
between leaves only messages nothing can reach. Deleting removes the item first, so the thread
answers 404 at once, then its messages, runs and run steps a page at a time; if that cleanup fails
part-way what remains is unreachable (every message and run operation reads the thread first) and
the delete still succeeded for the client.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from openai_cf import errors as e
from openai_cf.ids import new_id
from openai_cf.schemas.threads import Thread, ThreadCreateParams, ThreadDeleted, ThreadUpdateParams
from openai_cf.services.assistant_tools import stored_tool_resources
from openai_cf.services.messages import MessageBuilder, thread_not_found
from openai_cf.storage.messages import MessageRepository
from openai_cf.storage.threads import ThreadRecord, ThreadRepository

logger = logging.getLogger(__name__)


class ThreadRuns(Protocol):
    """The runs repository, as far as deleting a thread needs it (`storage.runs.RunRepository`)."""

    def remove_all(self, thread_id: str) -> int: ...


def _changes(params: ThreadUpdateParams) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if "tool_resources" in params.model_fields_set:
        changes["tool_resources"] = stored_tool_resources(params.tool_resources)
    if "metadata" in params.model_fields_set:
        changes["metadata"] = params.metadata or {}
    return changes


class ThreadsService:
    def __init__(
        self, threads: ThreadRepository, messages: MessageRepository, builder: MessageBuilder,
        clock: Callable[[], float] = time.time, *, runs: ThreadRuns | None = None,
    ) -> None:  # fmt: skip
        self._threads = threads
        self._messages = messages
        self._builder = builder
        self._clock = clock
        self._runs = runs

    def create(self, params: ThreadCreateParams, *, owner: str) -> Thread:
        now = self._clock()
        record = ThreadRecord(
            id=new_id("thread_", now_ms=int(now * 1000)), owner=owner, created_at=int(now),
            tool_resources=stored_tool_resources(params.tool_resources), metadata=params.metadata or {},
        )  # fmt: skip
        messages = self._builder.records(record.id, params.messages, owner=owner, param="messages")
        self._messages.add_all(messages)
        self._threads.add(record)
        return record.to_wire()

    def retrieve(self, thread_id: str) -> Thread:
        record = self._threads.get(thread_id)
        if record is None:
            raise thread_not_found(thread_id)
        return record.to_wire()

    def update(self, thread_id: str, params: ThreadUpdateParams) -> Thread:
        record = self._threads.update(thread_id, _changes(params))
        if record is None:
            raise thread_not_found(thread_id)
        return record.to_wire()

    def delete(self, thread_id: str) -> ThreadDeleted:
        if not self._threads.remove(thread_id):
            raise thread_not_found(thread_id)
        try:
            self._messages.remove_all(thread_id)
            if self._runs is not None:
                self._runs.remove_all(thread_id)
        except e.OpenAICFError as exc:
            # The thread is gone for the client already; what is left can never be reached.
            logger.warning("thread contents left behind", extra={"thread_id": thread_id, "error": exc.code})
        return ThreadDeleted(id=thread_id)
