"""Every bound a request body is held to, in one place (the README's "Limits" table lists them).

Most are OpenAI's own, from its OpenAPI spec (`maxItems`, `maxLength`, `minimum`/`maximum`) or the
spec's descriptions. Where OpenAI states none but an unbounded value costs us CPU, memory or
upstream calls, the bound is ours, chosen far above what real clients send. All of them are
pydantic constraints on the wire models, so a refusal is a 400 naming the parameter, decided
before anything proportional to the input is built.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# -- OpenAI's -----------------------------------------------------------------------------------
MAX_STOP_SEQUENCES = 4  # `stop`: maxItems 4 (StopConfiguration)

# -- ours ----------------------------------------------------------------------------------------
# Every stop sequence is looked for on every streamed token; real ones are a few characters.
MAX_STOP_LENGTH = 1000
# Legacy completions: every prompt times `n` is one upstream generation. OpenAI allows `n` up to 128
# for one prompt; holding the product to the same 128 keeps every request OpenAI allows for a
# single prompt working, and keeps a 325-byte body from planning 6,400 upstream generations.
MAX_GENERATIONS = 128

StopSequence = Annotated[str, Field(max_length=MAX_STOP_LENGTH)]
Stop = StopSequence | Annotated[list[StopSequence], Field(max_length=MAX_STOP_SEQUENCES)] | None
