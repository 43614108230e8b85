"""Every bound a request body is held to, in one place (the README's "Limits" table lists them).

Most are OpenAI's own, from its OpenAPI spec (`maxItems`, `maxLength`, `minimum`/`maximum`) or the
spec's descriptions. Where OpenAI states none but an unbounded value costs us CPU, memory or
upstream calls, the bound is ours, chosen far above what real clients send. All of them are
pydantic constraints on the wire models, so a refusal is a 400 naming the parameter, decided
before anything proportional to the input is built. (The body itself is capped by
`Settings.max_request_bytes`, a 413.)
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field
from pydantic_core import PydanticCustomError

# -- OpenAI's -----------------------------------------------------------------------------------
MAX_STOP_SEQUENCES = 4  # `stop`: maxItems 4 (StopConfiguration)
MAX_N = 128  # `n`: maximum 128
MAX_TOOLS = 128  # `tools`: "a max of 128 functions"; `functions`: maxItems 128
# More calls than this in one assistant message is OpenAI's 400 `array_above_max_length`.
MAX_TOOL_CALLS = 128
MAX_NAME = 64  # function and json_schema `name`: "a-z, A-Z, 0-9, underscores and dashes, at most 64"
NAME_PATTERN = r"^[a-zA-Z0-9_-]+$"
MAX_METADATA_PAIRS = 16  # `metadata`: 16 pairs, keys at most 64 characters, values at most 512
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 512
MAX_SAFETY_IDENTIFIER = 64  # `safety_identifier`: maxLength 64
MAX_TOP_LOGPROBS = 20  # `top_logprobs`: 0 to 20
MAX_LOGIT_BIAS = 100  # `logit_bias` values: "from -100 to 100"
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # `seed`: int64
MAX_EMBEDDING_INPUTS = 2048  # embeddings `input`: maxItems 2048
# Assistants: `name` 256, `description` 512, `instructions` 256,000 characters; tool resources hold
# at most 20 code interpreter files and 1 vector store.
MAX_ASSISTANT_NAME = 256
MAX_ASSISTANT_DESCRIPTION = 512
MAX_INSTRUCTIONS = 256_000
MAX_CODE_INTERPRETER_FILES = 20
MAX_VECTOR_STORES = 1
# Message text: OpenAI's API answers longer text with `string_above_max_length`.
MAX_MESSAGE_TEXT = 256_000
# Runs: `tools` maxItems 20; `max_prompt_tokens` and `max_completion_tokens` minimum 256.
MAX_RUN_TOOLS = 20
MIN_RUN_TOKEN_BUDGET = 256

# -- ours ----------------------------------------------------------------------------------------
# Every stop sequence is looked for on every streamed token; real ones are a few characters.
MAX_STOP_LENGTH = 1000
# Legacy completions: every prompt times `n` is one upstream generation. OpenAI allows `n` up to 128
# for one prompt; holding the product to the same 128 keeps every request OpenAI allows for a
# single prompt working, and keeps a 325-byte body from planning 6,400 upstream generations.
MAX_GENERATIONS = 128
# Every choice (`n`) and every completions prompt is its own upstream request carrying its whole
# prompt: 128 choices of a 6 MB prompt (or of 20 MB of inlined images) would be 128 full encodes
# and uploads from one request. The bytes a request may plan to send upstream in all.
MAX_FAN_OUT_BYTES = 64 * 1024 * 1024
# OpenAI's longest ids (fine-tunes: base, organisation, a 64-character suffix, an id) stay far below.
MAX_MODEL_NAME = 256
# Long agent loops reach hundreds of messages; every message is built into the upstream payload.
MAX_MESSAGES = 10_000
# Free-form strings we ignore, or (`prompt_cache_key`) forward upstream as a header.
MAX_IDENTIFIER = 256
# `logit_bias` is refused anyway (Workers AI has none); this bounds the map built before that.
MAX_LOGIT_BIAS_ENTRIES = 300
# Thread messages. OpenAI states no bounds here; every file a message names is looked up and every
# message of a new thread is a write, so the counts are bounded, far above real messages (the v1
# API allowed 10 files per message). A `data:` image URL is kept whole in its message.
MAX_CONTENT_PARTS = 100
MAX_ATTACHMENTS = 20
MAX_FILES_PER_REQUEST = 100  # distinct files named by one request (attachments, `image_file` parts)
MAX_INITIAL_MESSAGES = 100  # a new thread's `messages`
MAX_IMAGE_URL = 300_000
MAX_OBJECT_ID = 128  # file ids and run ids in requests; ours are 28 characters
# A run's `additional_messages` (OpenAI's spec states no bound): as many as a new thread's `messages`.
MAX_ADDITIONAL_MESSAGES = MAX_INITIAL_MESSAGES
# One tool output (`submit_tool_outputs`): kept on its run step, whose outputs together must fit one
# item (350 KB); as long as a message's text.
MAX_TOOL_OUTPUT = MAX_MESSAGE_TEXT
# Moderations (OpenAI states no bounds): every input is its own Llama Guard call, so the count is
# bounded as embeddings' upstream batch is; one input's text is one Llama Guard message, whose
# schema caps `content` at 131,072 characters.
MAX_MODERATION_INPUTS = 100
MAX_MODERATION_TEXT = 131_072

ModelName = Annotated[str, Field(min_length=1, max_length=MAX_MODEL_NAME)]
StopSequence = Annotated[str, Field(max_length=MAX_STOP_LENGTH)]
Stop = StopSequence | Annotated[list[StopSequence], Field(max_length=MAX_STOP_SEQUENCES)] | None
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME, pattern=NAME_PATTERN)]
Metadata = Annotated[
    dict[Annotated[str, Field(max_length=MAX_METADATA_KEY)], Annotated[str, Field(max_length=MAX_METADATA_VALUE)]],
    Field(max_length=MAX_METADATA_PAIRS),
]
LogitBias = Annotated[
    dict[str, Annotated[int, Field(ge=-MAX_LOGIT_BIAS, le=MAX_LOGIT_BIAS)]], Field(max_length=MAX_LOGIT_BIAS_ENTRIES)
]
Seed = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX)]
Identifier = Annotated[str, Field(max_length=MAX_IDENTIFIER)]
SafetyIdentifier = Annotated[str, Field(max_length=MAX_SAFETY_IDENTIFIER)]


def at_most(value: Any, limit: int, noun: str) -> Any:
    """A `mode="before"` check of how many prompts or inputs a value holds, before pydantic builds
    anything per item."""
    if item_count(value) > limit:
        raise PydanticCustomError(
            "too_long", "at most {limit} {noun} are allowed per request", {"limit": limit, "noun": noun}
        )
    return value


def item_count(value: Any) -> int:
    """How many prompts (or embedding inputs) a request value holds: a token array is one."""
    if isinstance(value, list) and value and not isinstance(value[0], int):
        return len(value)
    return 1
