"""`submit_tool_outputs`: the outputs checked against the calls the run waits for, onto their step.

Every output must name a pending call, once, and every pending call must get an output (OpenAI
answers 400 otherwise, naming the ids); the outputs are kept on the tool-calls step, which the
next step of the run reads back as the `tool` messages of its chat request.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openai_cf.errors import InvalidRequestError
from openai_cf.schemas.runs import ToolOutputParam
from openai_cf.storage.run_steps import StepRecord, StepRepository
from openai_cf.storage.table import Update


def _outputs(pending: list[str], outputs: Sequence[ToolOutputParam]) -> dict[str, str]:
    given: dict[str, str] = {}
    for index, output in enumerate(outputs):
        param = f"tool_outputs[{index}].tool_call_id"
        if output.tool_call_id is None:
            raise InvalidRequestError(f"Missing required parameter: '{param}'.", param=param)
        if output.tool_call_id not in pending:
            raise InvalidRequestError(
                f"Invalid value for '{param}': no tool call with id '{output.tool_call_id}' awaits an output "
                f"(pending: {', '.join(pending)}).", param=param, code="invalid_value",
            )  # fmt: skip
        if output.tool_call_id in given:
            raise InvalidRequestError(
                f"Invalid value for '{param}': the output of '{output.tool_call_id}' was given twice.",
                param=param, code="invalid_value",
            )  # fmt: skip
        given[output.tool_call_id] = output.output or ""
    missing = [call_id for call_id in pending if call_id not in given]
    if missing:
        raise InvalidRequestError(
            f"Expected tool outputs for call_ids {pending}, got {list(given)}.", param="tool_outputs",
            code="invalid_value",
        )  # fmt: skip
    return given


def answered_step(
    steps: StepRepository, step: StepRecord, outputs: Sequence[ToolOutputParam], *, now: int
) -> tuple[Update, StepRecord]:
    """The write that completes `step` with `outputs` (for the run's transaction back to `queued`),
    and the step as it will be."""
    calls: list[dict[str, Any]] = step.step_details["tool_calls"]
    given = _outputs([call["id"] for call in calls], outputs)
    answered = [{**call, "function": {**call["function"], "output": given[call["id"]]}} for call in calls]
    update, completed = steps.update(
        step, {"step_details": {"type": "tool_calls", "tool_calls": answered}, "status": "completed",
               "completed_at": now},
    )  # fmt: skip
    if not steps.fits(completed):
        raise InvalidRequestError(
            "The tool outputs are too large to store: together they must fit in 350 KB.", param="tool_outputs",
            code="string_above_max_length",
        )  # fmt: skip
    return update, completed
