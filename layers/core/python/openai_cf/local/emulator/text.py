"""The Text Generation task: prompt or messages in, native or OpenAI dialect out, JSON or SSE.

This is part of a development and test double, not Workers AI.
"""

from __future__ import annotations

import uuid

from starlette.responses import Response

from .context import RunContext, TaskHandler
from .errors import EmulatorError, not_implemented, success_response
from .generation import last_user_text, plan_completion
from .native import native_events, native_result
from .openai_dialect import Stamp, openai_events, openai_result
from .sse import sse_response


async def run_text_generation(ctx: RunContext) -> Response:
    body = ctx.body
    if "messages" not in body and "prompt" not in body:
        what = "the Responses `input` format" if "input" in body else "this input (async batch?)"
        raise not_implemented(f"{what} for {ctx.info.name}")
    completion = plan_completion(ctx.info, body, ctx.directives)
    stream = body.get("stream") is True and not ctx.directives.stream_json
    if stream and completion.json_mode and completion.dialect == "native":
        raise EmulatorError(5006, "AiError: JSON mode currently doesn't support streaming")
    stamp = Stamp(id=f"chatcmpl-{uuid.uuid4().hex}", created=int(ctx.now()))
    if completion.dialect == "openai":
        if stream:
            return sse_response(openai_events(completion, stamp), ctx.directives, ctx.visit)
        return success_response(openai_result(completion, stamp))
    if stream:
        return sse_response(native_events(completion), ctx.directives, ctx.visit)
    return success_response(native_result(completion))


TEXT_GENERATION_HANDLER = TaskHandler(directive_text=last_user_text, run=run_text_generation)
