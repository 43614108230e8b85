"""Thread messages: create, list (also by run), retrieve, update metadata, delete.

Every operation first reads the thread: a deleted thread answers 404 at once, even while its
messages are still being removed. Files a message refers to (attachments, `image_file` parts)
must exist when it is created. `MessageBuilder` turns request messages into records for this
service, for a new thread's first messages, and for a run's `additional_messages`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from openai_cf import errors as e
from openai_cf.ids import new_ids
from openai_cf.schemas import limits as lim
from openai_cf.schemas import messages as m
from openai_cf.schemas.pagination import CursorPage
from openai_cf.services.pages import cursor_page, page_request
from openai_cf.storage.messages import MessageRecord, MessageRepository
from openai_cf.storage.threads import ThreadRepository


class FileLookup(Protocol):
    """The files service, as far as messages need it: `retrieve` raises a 404 for unknown files."""

    def retrieve(self, file_id: str) -> object: ...


def thread_not_found(thread_id: str) -> e.NotFoundError:
    return e.NotFoundError(f"No thread found with id '{thread_id}'.", param="thread_id")


def message_not_found(message_id: str) -> e.NotFoundError:
    return e.NotFoundError(f"No message found with id '{message_id}'.", param="message_id")


def _block(part: m.MessageContentPartParam) -> dict[str, Any]:
    """A request content part as the content block a message shows."""
    if isinstance(part, m.TextContentBlockParam):
        return {"type": "text", "text": {"value": part.text, "annotations": []}}
    if isinstance(part, m.ImageURLContentBlockParam):
        return {
            "type": "image_url",
            "image_url": {"url": part.image_url.url, "detail": part.image_url.detail or "auto"},
        }
    return {"type": "image_file",
            "image_file": {"file_id": part.image_file.file_id, "detail": part.image_file.detail or "auto"}}  # fmt: skip


def content_blocks(content: str | Sequence[m.MessageContentPartParam]) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": {"value": content, "annotations": []}}]
    return [_block(part) for part in content]


def _file_references(params: m.MessageCreateParams, prefix: str) -> list[tuple[str, str]]:
    """(file id, param) for every file a message refers to."""
    found = [(a.file_id, f"{prefix}attachments[{i}].file_id") for i, a in enumerate(params.attachments or ())]
    if not isinstance(params.content, str):
        found += [
            (part.image_file.file_id, f"{prefix}content[{i}].image_file.file_id")
            for i, part in enumerate(params.content)
            if isinstance(part, m.ImageFileContentBlockParam)
        ]
    return found


class MessageBuilder:
    """Request messages → records, after checking the files they name and that each fits."""

    def __init__(self, files: FileLookup, clock: Callable[[], float] = time.time) -> None:
        self._files = files
        self._clock = clock

    def records(
        self, thread_id: str, messages: Sequence[m.MessageCreateParams], *, owner: str, param: str | None = None
    ) -> list[MessageRecord]:
        """`param` names the list in the request (`messages`), or None for a single message."""
        prefixes = [f"{param}[{i}]." if param else "" for i in range(len(messages))]
        self._check_files(
            [ref for p, prefix in zip(messages, prefixes, strict=True) for ref in _file_references(p, prefix)]
        )
        now = self._clock()
        ids = new_ids("msg_", len(messages), now_ms=int(now * 1000))
        records = [self._record(i, thread_id, p, owner, int(now)) for i, p in zip(ids, messages, strict=True)]
        for record, prefix in zip(records, prefixes, strict=True):
            if not MessageRepository.fits(record):
                raise e.InvalidRequestError(
                    "The message is too large to store: its content, attachments and metadata together must fit "
                    "in 350 KB.", param=f"{prefix}content", code="string_above_max_length",
                )  # fmt: skip
        return records

    @staticmethod
    def _record(message_id: str, thread_id: str, p: m.MessageCreateParams, owner: str, now: int) -> MessageRecord:
        return MessageRecord(
            id=message_id, owner=owner, thread_id=thread_id, created_at=now, role=p.role,
            content=content_blocks(p.content), attachments=[a.model_dump(mode="json") for a in p.attachments or ()],
            metadata=p.metadata or {}, status="completed", completed_at=now,
        )  # fmt: skip

    def _check_files(self, references: list[tuple[str, str]]) -> None:
        first_param: dict[str, str] = {}
        for file_id, param in references:
            first_param.setdefault(file_id, param)
            if len(first_param) > lim.MAX_FILES_PER_REQUEST:
                raise e.InvalidRequestError(
                    f"A request may refer to at most {lim.MAX_FILES_PER_REQUEST} distinct files.",
                    param=param, code="array_above_max_length",
                )  # fmt: skip
        for file_id, param in first_param.items():
            try:
                self._files.retrieve(file_id)
            except e.NotFoundError:
                raise e.NotFoundError(f"No such File object: {file_id}", param=param, code="file_not_found") from None


class MessagesService:
    def __init__(self, threads: ThreadRepository, messages: MessageRepository, builder: MessageBuilder) -> None:
        self._threads = threads
        self._messages = messages
        self._builder = builder

    def create(self, thread_id: str, params: m.MessageCreateParams, *, owner: str) -> m.Message:
        self._thread(thread_id)
        (record,) = self._builder.records(thread_id, [params], owner=owner)
        # The thread may have been deleted since it was read: the write checks it again.
        if not self._messages.add(record):
            raise thread_not_found(thread_id)
        return record.to_wire()

    def list(self, thread_id: str, params: m.MessageListParams) -> CursorPage[m.Message]:
        self._thread(thread_id)
        page = self._messages.page(thread_id, page_request(params), run_id=params.run_id)
        return cursor_page(page, MessageRecord.to_wire)

    def retrieve(self, thread_id: str, message_id: str) -> m.Message:
        return self._record(thread_id, message_id).to_wire()

    def update(self, thread_id: str, message_id: str, params: m.MessageUpdateParams) -> m.Message:
        record = self._record(thread_id, message_id)
        if "metadata" not in params.model_fields_set:
            return record.to_wire()
        updated = self._messages.update(record, {"metadata": params.metadata or {}})
        if updated is None:
            raise message_not_found(message_id)
        return updated.to_wire()

    def delete(self, thread_id: str, message_id: str) -> m.MessageDeleted:
        self._messages.remove(self._record(thread_id, message_id))
        return m.MessageDeleted(id=message_id)

    def _thread(self, thread_id: str) -> None:
        if self._threads.get(thread_id) is None:
            raise thread_not_found(thread_id)

    def _record(self, thread_id: str, message_id: str) -> MessageRecord:
        self._thread(thread_id)
        record = self._messages.get(thread_id, message_id)
        if record is None:
            raise message_not_found(message_id)
        return record
