"""What one step of a run asks the model: a chat completion request built from the thread.

The request is an ordinary `ChatCompletionCreateParams`, so the chat service treats it exactly as a
`/v1/chat/completions` request (aliases, tool shapes, JSON modes, stop rules, image fetching):

    system: the run's instructions
    the thread's messages, oldest first, after the truncation strategy
    for each tool-calls step of this run so far: the assistant's calls, then one `tool` message per output

Truncation: `last_messages: N` keeps the newest N messages; `auto` keeps the newest messages whose
estimated tokens fit the budget (`max_prompt_tokens`, else three quarters of the model's context
window, else `DEFAULT_BUDGET`), and always at least the newest one. Messages are read newest first
a page at a time, so a long thread costs what the budget holds, not what the thread holds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from openai_cf.schemas import limits as lim
from openai_cf.schemas.chat import ChatCompletionCreateParams
from openai_cf.storage.messages import MessageRecord, MessageRepository
from openai_cf.storage.pages import PageRequest
from openai_cf.storage.run_steps import StepRecord, StepRepository
from openai_cf.storage.runs import RunRecord
from openai_cf.tokens import estimate_tokens

# Prompt tokens a thread may fill when neither the run nor the model's profile says how many.
DEFAULT_BUDGET = 24_000
# What an image costs in the estimate (models tile images into a few hundred to ~1,500 tokens).
IMAGE_TOKENS = 800
_PAGE = 100
# Chat takes these reasoning efforts; the Assistants API's `max` is the highest chat knows.
_EFFORTS = {"none": "none", "minimal": "minimal", "low": "low", "medium": "medium", "high": "high",
            "xhigh": "xhigh", "max": "xhigh"}  # fmt: skip


class FileImages(Protocol):
    """`image_file` parts as the data URLs chat takes (`services.file_images.StoredImages`)."""

    def data_url(self, file_id: str) -> str: ...


@dataclass(frozen=True)
class History:
    """What a step's request is built from: the thread's messages after truncation, and this run's
    tool-calls steps whose outputs have arrived."""

    messages: list[MessageRecord]
    tool_steps: list[StepRecord]


def _message_tokens(record: MessageRecord) -> int:
    return sum(
        estimate_tokens(block["text"]["value"]) if block["type"] == "text" else IMAGE_TOKENS for block in record.content
    )


class RunContext:
    def __init__(
        self, messages: MessageRepository, steps: StepRepository, images: FileImages,
        context_window: Callable[[str], int | None] = lambda model: None,
    ) -> None:  # fmt: skip
        self._messages = messages
        self._steps = steps
        self._images = images
        self._context_window = context_window

    # -- reading (storage failures propagate: the queue delivers the step again) ----------------
    def history(self, run: RunRecord) -> History:
        truncation = run.truncation_strategy
        count = lim.MAX_MESSAGES
        budget: int | None = None
        if truncation.get("type") == "last_messages" and truncation.get("last_messages"):
            count = min(count, int(truncation["last_messages"]))
        else:
            budget = self._budget(run)
        steps = [s for s in self._steps.all(run.id) if s.type == "tool_calls" and s.status == "completed"]
        return History(self._newest(run.thread_id, count, budget), steps)

    def _budget(self, run: RunRecord) -> int:
        window = self._context_window(run.model)
        total = run.max_prompt_tokens or (window * 3 // 4 if window else DEFAULT_BUDGET)
        fixed = estimate_tokens(run.instructions) + (estimate_tokens(json.dumps(run.tools)) if run.tools else 0)
        return total - fixed

    def _newest(self, thread_id: str, count: int, budget: int | None) -> list[MessageRecord]:
        kept: list[MessageRecord] = []
        spent = 0
        for record in self._newest_first(thread_id):
            spent += _message_tokens(record)
            if len(kept) >= count or (budget is not None and kept and spent > budget):
                break
            kept.append(record)
        kept.reverse()
        return kept

    def _newest_first(self, thread_id: str) -> Iterator[MessageRecord]:
        after: str | None = None
        while True:
            page = self._messages.page(thread_id, PageRequest(_PAGE, "desc", after))
            yield from page.items
            if not page.has_more:
                return
            after = page.items[-1].id

    # -- building (a failure here is the run's: `invalid_prompt`) --------------------------------
    def chat_params(self, run: RunRecord, history: History) -> ChatCompletionCreateParams:
        messages: list[dict[str, Any]] = [{"role": "system", "content": run.instructions}] if run.instructions else []
        messages += [self._chat_message(record) for record in history.messages]
        for step in history.tool_steps:
            messages += _tool_round(step)
        body: dict[str, Any] = {
            "model": run.model, "messages": messages, "temperature": run.temperature, "top_p": run.top_p,
            "reasoning_effort": _EFFORTS.get(run.reasoning_effort or ""),
            "max_completion_tokens": _completion_budget(run),
            "response_format": run.response_format if isinstance(run.response_format, dict) else None,
        }  # fmt: skip
        if run.tools:
            body |= {"tools": run.tools, "tool_choice": run.tool_choice, "parallel_tool_calls": run.parallel_tool_calls}
        return ChatCompletionCreateParams.model_validate(body)

    def _chat_message(self, record: MessageRecord) -> dict[str, Any]:
        if record.role == "assistant":
            texts = [block["text"]["value"] for block in record.content if block["type"] == "text"]
            return {"role": "assistant", "content": "\n".join(texts)}
        parts = [self._part(block) for block in record.content]
        if len(parts) == 1 and parts[0]["type"] == "text":
            return {"role": "user", "content": parts[0]["text"]}
        return {"role": "user", "content": parts}

    def _part(self, block: dict[str, Any]) -> dict[str, Any]:
        if block["type"] == "text":
            return {"type": "text", "text": block["text"]["value"]}
        if block["type"] == "image_url":
            return {"type": "image_url", "image_url": block["image_url"]}
        image = block["image_file"]
        return {"type": "image_url", "image_url": {"url": self._images.data_url(image["file_id"]),
                                                   "detail": image.get("detail", "auto")}}  # fmt: skip


def used(run: RunRecord, kind: str) -> int:
    """Tokens of `kind` (`prompt_tokens`, `completion_tokens`) the run has spent so far."""
    return (run.usage or {}).get(kind, 0)


def _completion_budget(run: RunRecord) -> int | None:
    if run.max_completion_tokens is None:
        return None
    return max(1, run.max_completion_tokens - used(run, "completion_tokens"))


def _tool_round(step: StepRecord) -> list[dict[str, Any]]:
    calls = step.step_details["tool_calls"]
    asked = {
        "role": "assistant", "content": None,
        "tool_calls": [{"id": c["id"], "type": "function",
                        "function": {"name": c["function"]["name"], "arguments": c["function"]["arguments"]}}
                       for c in calls],
    }  # fmt: skip
    answers = [{"role": "tool", "tool_call_id": c["id"], "content": c["function"]["output"] or ""} for c in calls]
    return [asked, *answers]
