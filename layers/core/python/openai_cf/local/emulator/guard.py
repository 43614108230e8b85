"""Llama Guard verdicts: the safety classifiers share the Text Generation task but answer a verdict.

This is part of a development and test double, not Workers AI: it classifies nothing. Every
conversation is `safe` unless its last user message says `emulate:unsafe=S1,S10` (codes S1-S14;
a bare `emulate:unsafe` means S1). The answer is Llama Guard's text (`"unsafe\\nS1,S10"`), or in
JSON mode (`response_format: {"type": "json_object"}`, or `emulate:json`) the object Workers AI
parses it into (`{"safe": false, "categories": ["S1", "S10"]}`).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import Response

from openai_cf.tokens import estimate_tokens

from .context import RunContext, TaskHandler
from .directives import strip_directives
from .errors import not_implemented, success_response
from .generation import last_user_text, messages_of

GUARD_FAMILY = "llama-guard"
_UNSAFE = re.compile(r"^emulate:unsafe(?:=(\S*))?$")
_CODE = re.compile(r"^S(?:[1-9]|1[0-4])$")


def is_guard(model: str) -> bool:
    return GUARD_FAMILY in model


def hazard_codes(text: str) -> list[str] | None:
    """The codes `emulate:unsafe` asks for (the last such word wins); None when the text is safe."""
    codes: list[str] | None = None
    for word in text.split():
        match = _UNSAFE.match(word)
        if match:
            asked = [code for code in (match.group(1) or "").split(",") if _CODE.match(code)]
            codes = list(dict.fromkeys(asked)) or ["S1"]
    return codes


def _json_mode(ctx: RunContext) -> bool:
    response_format = ctx.body.get("response_format")
    asked = isinstance(response_format, dict) and response_format.get("type") == "json_object"
    return asked or ctx.directives.json


async def run_guard(ctx: RunContext) -> Response:
    if "messages" not in ctx.body:
        raise not_implemented(f"this input for {ctx.info.name}")
    codes = hazard_codes(last_user_text(ctx.body))
    text = "safe" if codes is None else "unsafe\n" + ",".join(codes)
    response: Any = {"safe": codes is None, "categories": codes or []} if _json_mode(ctx) else text
    prompt = sum(estimate_tokens(strip_directives(str(m.get("content") or ""))) for m in messages_of(ctx.body))
    completion = len(text.split()) + (len(codes) if codes else 0)
    usage = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}
    return success_response({"response": response, "usage": usage})


GUARD_HANDLER = TaskHandler(directive_text=last_user_text, run=run_guard)
