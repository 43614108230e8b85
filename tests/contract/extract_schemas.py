"""Copy the response schemas the tests validate against out of OpenAI's OpenAPI spec.

    python -m tests.contract.extract_schemas ../shared/openai/openapi.yaml

The spec (3 MB of YAML) lives beside the project, not in it; the schemas our answers must match,
with everything they reference, are committed as `openai_schemas.json` so that `make test` needs
nothing outside the repository. Rerun this when the spec or the list below changes.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOTS = (
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "CreateCompletionResponse",
    "CreateEmbeddingResponse",
    "ListModelsResponse",
    "Model",
    "ErrorResponse",
    "OpenAIFile",
    "ListFilesResponse",
    "DeleteFileResponse",
    "Upload",
    "UploadPart",
    "AssistantObject",
    "ListAssistantsResponse",
    "DeleteAssistantResponse",
    "ThreadObject",
    "DeleteThreadResponse",
    "MessageObject",
    "ListMessagesResponse",
    "DeleteMessageResponse",
    "RunObject",
    "ListRunsResponse",
    "RunStepObject",
    "ListRunStepsResponse",
    # Streaming runs' delta events (their other events carry the objects above).
    "MessageDeltaObject",
    "RunStepDeltaObject",
    "CreateTranscriptionResponseJson",
    "CreateTranscriptionResponseVerboseJson",
    "CreateTranslationResponseJson",
    "CreateTranslationResponseVerboseJson",
    "CreateModerationResponse",
    "ImagesResponse",
)
# Properties the spec types without null although its own description says OpenAI sends null:
# `usage` "contains a null value except for the last chunk" (with include_usage).
DOCUMENTED_NULLS = (("CreateChatCompletionStreamResponse", "usage"),)
OUT = Path(__file__).with_name("openai_schemas.json")
PREFIX = "#/components/schemas/"


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    stack = [node]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            ref = value.get("$ref")
            if isinstance(ref, str) and ref.startswith(PREFIX):
                found.add(ref[len(PREFIX) :])
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return found


def _or_null(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def json_schema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` (which the spec still uses in places) as JSON Schema."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: json_schema(value) for key, value in node.items() if key != "nullable"}
    return _or_null(converted) if node.get("nullable") is True else converted


def closure(schemas: dict[str, Any], roots: tuple[str, ...]) -> dict[str, Any]:
    wanted, todo = {}, list(roots)
    while todo:
        name = todo.pop()
        if name not in wanted:
            wanted[name] = schemas[name]
            todo.extend(_refs(schemas[name]))
    return dict(sorted(wanted.items()))


def main(spec_path: str) -> None:
    spec = yaml.safe_load(Path(spec_path).read_text("utf-8"))
    schemas = json_schema(closure(spec["components"]["schemas"], ROOTS))
    for schema, prop in DOCUMENTED_NULLS:
        properties = schemas[schema]["properties"]
        properties[prop] = _or_null(properties[prop])
    OUT.write_text(json.dumps({"components": {"schemas": schemas}}, indent=1, sort_keys=True) + "\n", "utf-8")
    print(f"{len(schemas)} schemas → {OUT}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/openai/openapi.yaml")
