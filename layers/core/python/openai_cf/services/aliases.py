"""OpenAI model names → current Workers AI models. `MODEL_ALIASES` (JSON) is merged over these.

Chosen from workers-ai-contract section 11 (none deprecated as of 2026-11): models with tools
where OpenAI's have them, vision where OpenAI's have it, free-plan models by default.
"""

from __future__ import annotations

DEFAULT_ALIASES: dict[str, str] = {
    # Vision + tools, native dialect.
    "gpt-4o": "@cf/meta/llama-4-scout-17b-16e-instruct",
    "gpt-4o-mini": "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    # Vision + tools + reasoning, chat-completions dialect, 256k context.
    "gpt-4.1": "@cf/google/gemma-4-26b-a4b-it",
    "gpt-4.1-mini": "@cf/zai-org/glm-4.7-flash",
    # Small and fast, without function calling.
    "gpt-4.1-nano": "@cf/meta/llama-3.1-8b-instruct-fast",
    # Code written for gpt-3.5-turbo often uses tools: a model that has them.
    "gpt-3.5-turbo": "@cf/meta/llama-3.3-70b-instruct-fp8-fast",
    "gpt-3.5-turbo-instruct": "@cf/meta/llama-3.1-8b-instruct-fast",
    "text-embedding-3-small": "@cf/baai/bge-base-en-v1.5",
    "text-embedding-3-large": "@cf/baai/bge-m3",
    "text-embedding-ada-002": "@cf/baai/bge-base-en-v1.5",
    "whisper-1": "@cf/openai/whisper-large-v3-turbo",
    "tts-1": "@cf/deepgram/aura-2-en",
    "tts-1-hd": "@cf/deepgram/aura-2-en",
    "dall-e-2": "@cf/black-forest-labs/flux-1-schnell",
    "dall-e-3": "@cf/black-forest-labs/flux-1-schnell",
    "gpt-image-1": "@cf/leonardo/lucid-origin",
    "omni-moderation-latest": "@cf/meta/llama-guard-3-8b",
    "omni-moderation-2024-09-26": "@cf/meta/llama-guard-3-8b",
    "text-moderation-latest": "@cf/meta/llama-guard-3-8b",
    "text-moderation-stable": "@cf/meta/llama-guard-3-8b",
}


def merged_aliases(overrides: dict[str, str]) -> dict[str, str]:
    return {**DEFAULT_ALIASES, **overrides}
