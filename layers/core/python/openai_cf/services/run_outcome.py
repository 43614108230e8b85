"""What a step's chat completion becomes: the run's next status and the records written with it.

    the model called tools  → a `tool_calls` step (in progress) and `requires_action`
    the model answered      → an assistant message, its `message_creation` step, and `completed`
                              (`incomplete` when a budget of the run ran out)

Ids are derived from the run and its version, and the step's start time, never drawn at random:
the message and step of one step of work always get the same ids, and they are written
`only_if_new` in the transaction that moves the run, so a step repeated after a crash or a
redelivery can never write them twice. The start time (kept on the run when the step began) puts
them in their collections' time order. A streaming run announces them (in progress) before the
answer is complete, built by the same functions (`step_record`, `message_record`), so that what it
announced and what it writes are alike.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from openai_cf import errors as e
from openai_cf.schemas.chat import ChatCompletion, Choice
from openai_cf.services.run_context import used
from openai_cf.storage.messages import MessageRecord, MessageRepository
from openai_cf.storage.run_steps import StepRecord, StepRepository
from openai_cf.storage.runs import RunRecord
from openai_cf.storage.table import Operation
from openai_cf.storage.threads import thread_exists


@dataclass(frozen=True)
class Move:
    """A transition for `RunLedger.move`: the status, the run's other changes, the writes with it."""

    status: str
    changes: dict[str, Any] = field(default_factory=dict)
    also: list[Operation] = field(default_factory=list)
    # The records `also` stores, as a streaming run tells its client once they are written.
    message: MessageRecord | None = None
    step: StepRecord | None = None


def derived_id(prefix: str, run: RunRecord) -> str:
    """`<prefix><ms of the step's start><12 hex of a hash of (run, version, prefix)>`: an id of the
    usual shape (`openai_cf.ids`) that every attempt at this step computes alike."""
    digest = hashlib.sha256(f"{run.id}#{run.version}#{prefix}".encode()).hexdigest()[:12]
    return f"{prefix}{run.step_started_ms or 0:012x}{digest}"


def step_record(run: RunRecord, step_type: str, status: str, details: dict[str, Any], **values: Any) -> StepRecord:
    """The step this step of `run` writes (or, in progress, announces to a stream before it is written)."""
    return StepRecord(
        id=derived_id("step_", run), owner=run.owner, thread_id=run.thread_id, run_id=run.id,
        assistant_id=run.assistant_id, created_at=(run.step_started_ms or 0) // 1000, type=step_type,
        status=status, step_details=details, **values,
    )  # fmt: skip


def message_creation(run: RunRecord) -> dict[str, Any]:
    """A `message_creation` step's details: the message this step of `run` writes."""
    return {"type": "message_creation", "message_creation": {"message_id": derived_id("msg_", run)}}


def message_record(run: RunRecord, content: list[dict[str, Any]], status: str, **values: Any) -> MessageRecord:
    """The assistant message this step of `run` writes (or announces, in progress and empty)."""
    return MessageRecord(
        id=derived_id("msg_", run), owner=run.owner, thread_id=run.thread_id,
        created_at=(run.step_started_ms or 0) // 1000, role="assistant", content=content, status=status,
        assistant_id=run.assistant_id, run_id=run.id, **values,
    )  # fmt: skip


def last_error(error: e.OpenAICFError) -> dict[str, str]:
    """A failure as the run's `last_error`: OpenAI knows three codes."""
    if isinstance(error, e.RateLimitError):
        code = "rate_limit_exceeded"
    elif 400 <= error.status < 500:
        code = "invalid_prompt"
    else:
        code = "server_error"
    return {"code": code, "message": error.message}


def over_budget(run: RunRecord) -> str | None:
    """The budget a run has spent already (`incomplete_details.reason`), before it asks for more."""
    if run.max_completion_tokens is not None and used(run, "completion_tokens") >= run.max_completion_tokens:
        return "max_completion_tokens"
    if run.max_prompt_tokens is not None and used(run, "prompt_tokens") >= run.max_prompt_tokens:
        return "max_prompt_tokens"
    return None


class Outcomes:
    def __init__(self, messages: MessageRepository, steps: StepRepository) -> None:
        self._messages = messages
        self._steps = steps

    def of(self, run: RunRecord, completion: ChatCompletion, *, now: float) -> Move:
        choice = completion.choices[0]
        usage = _usage(completion)
        total = {k: used(run, k) + usage[k] for k in usage}
        if choice.message.tool_calls:
            return self._tool_calls(run, choice, usage, total)
        return self._answer(run, choice, usage, total, int(now))

    def _tool_calls(self, run: RunRecord, choice: Choice, usage: dict[str, int], total: dict[str, int]) -> Move:
        calls: list[dict[str, Any]] = [
            {"id": call.id, "type": "function", "function": {"name": call.function.name,
                                                              "arguments": call.function.arguments}}
            for call in choice.message.tool_calls or ()
        ]  # fmt: skip
        details = {"type": "tool_calls", "tool_calls": [{**c, "function": {**c["function"], "output": None}}
                                                        for c in calls]}  # fmt: skip
        step = step_record(run, "tool_calls", "in_progress", details, usage=usage)
        action = {"type": "submit_tool_outputs", "submit_tool_outputs": {"tool_calls": calls}}
        return Move("requires_action", {"required_action": action, "pending_step_id": step.id, "usage": total},
                    [thread_exists(run.thread_id), self._steps.put(step)], step=step)  # fmt: skip

    def _answer(
        self, run: RunRecord, choice: Choice, usage: dict[str, int], total: dict[str, int], now: int
    ) -> Move:  # fmt: skip
        cut = choice.finish_reason == "length"
        reason = _incomplete_reason(run, total, cut)
        message = message_record(
            run, [{"type": "text", "text": {"value": choice.message.content or "", "annotations": []}}],
            "incomplete" if cut else "completed", completed_at=None if cut else now,
            incomplete_at=now if cut else None, incomplete_details={"reason": "max_tokens"} if cut else None,
        )  # fmt: skip
        if not MessageRepository.fits(message):
            raise e.InternalServerError("The model's answer is too large to store (350 KB).")
        step = step_record(run, "message_creation", "completed", message_creation(run), completed_at=now, usage=usage)
        changes: dict[str, Any] = {"usage": total, "incomplete_details": {"reason": reason} if reason else None}
        writes: list[Operation] = [
            thread_exists(run.thread_id),
            *self._messages.puts(message, only_if_new=True),
            self._steps.put(step),
        ]
        return Move("incomplete" if reason else "completed", changes, writes, message=message, step=step)


def _usage(completion: ChatCompletion) -> dict[str, int]:
    usage = completion.usage
    return {"prompt_tokens": usage.prompt_tokens if usage else 0,
            "completion_tokens": usage.completion_tokens if usage else 0}  # fmt: skip


def _incomplete_reason(run: RunRecord, total: dict[str, int], cut: bool) -> str | None:
    if cut and run.max_completion_tokens is not None:
        return "max_completion_tokens"
    if run.max_prompt_tokens is not None and total["prompt_tokens"] > run.max_prompt_tokens:
        return "max_prompt_tokens"
    return None
