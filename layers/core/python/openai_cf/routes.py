"""The one route table.

Every HTTP route of the API is listed here once: CDK builds the API Gateway resources from it,
`openai-cf serve` mounts every function's app from it, and each function's `app.py` builds its app
from its own rows. A test checks that all three agree.

`path` uses Starlette's syntax; `{name:path}` marks a greedy parameter (API Gateway `{name+}`),
needed where ids contain slashes (`@cf/meta/…`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    # "module:attribute" of the handler, imported only by the function that serves it.
    handler: str
    streams: bool = False
    # Reads or writes the DynamoDB table and the S3 bucket (CDK grants its function access to them).
    storage: bool = False

    @property
    def apigw_path(self) -> str:
        return re.sub(r"\{(\w+):path\}", r"{\1+}", self.path)


ROUTES: tuple[Route, ...] = (
    Route("GET", "/v1/models", "models", "openai_cf.api.handlers.models:list_models"),
    Route("GET", "/v1/models/{model:path}", "models", "openai_cf.api.handlers.models:retrieve_model"),
    Route(
        "POST",
        "/v1/chat/completions",
        "chat_completions",
        "openai_cf.api.handlers.chat:create_chat_completion",
        streams=True,
    ),
    Route(
        "POST",
        "/v1/completions",
        "completions",
        "openai_cf.api.handlers.completions:create_completion",
        streams=True,
    ),
    Route("POST", "/v1/embeddings", "embeddings", "openai_cf.api.handlers.embeddings:create_embedding"),
    Route("POST", "/v1/audio/transcriptions", "audio", "openai_cf.api.handlers.audio:create_transcription"),
    Route("POST", "/v1/audio/translations", "audio", "openai_cf.api.handlers.audio:create_translation"),
    Route("POST", "/v1/audio/speech", "audio", "openai_cf.api.handlers.audio:create_speech", streams=True),
    Route("POST", "/v1/moderations", "moderations", "openai_cf.api.handlers.moderations:create_moderation"),
    Route("POST", "/v1/images/generations", "images", "openai_cf.api.handlers.images:create_image", storage=True),
    Route("POST", "/v1/images/edits", "images", "openai_cf.api.handlers.images:create_image_edit", storage=True),
    Route(
        "POST", "/v1/images/variations", "images", "openai_cf.api.handlers.images:create_image_variation", storage=True
    ),
    Route("POST", "/v1/files", "files", "openai_cf.api.handlers.files:create_file", storage=True),
    Route("GET", "/v1/files", "files", "openai_cf.api.handlers.files:list_files", storage=True),
    Route("GET", "/v1/files/{file_id}", "files", "openai_cf.api.handlers.files:retrieve_file", storage=True),
    Route("DELETE", "/v1/files/{file_id}", "files", "openai_cf.api.handlers.files:delete_file", storage=True),
    Route(
        "GET",
        "/v1/files/{file_id}/content",
        "files",
        "openai_cf.api.handlers.files:retrieve_file_content",
        streams=True,
        storage=True,
    ),
    Route("POST", "/v1/uploads", "uploads", "openai_cf.api.handlers.uploads:create_upload", storage=True),
    Route(
        "POST",
        "/v1/uploads/{upload_id}/parts",
        "uploads",
        "openai_cf.api.handlers.uploads:add_upload_part",
        storage=True,
    ),
    Route(
        "POST",
        "/v1/uploads/{upload_id}/complete",
        "uploads",
        "openai_cf.api.handlers.uploads:complete_upload",
        storage=True,
    ),
    Route(
        "POST",
        "/v1/uploads/{upload_id}/cancel",
        "uploads",
        "openai_cf.api.handlers.uploads:cancel_upload",
        storage=True,
    ),
    Route("POST", "/v1/assistants", "assistants", "openai_cf.api.handlers.assistants:create_assistant", storage=True),
    Route("GET", "/v1/assistants", "assistants", "openai_cf.api.handlers.assistants:list_assistants", storage=True),
    Route(
        "GET",
        "/v1/assistants/{assistant_id}",
        "assistants",
        "openai_cf.api.handlers.assistants:retrieve_assistant",
        storage=True,
    ),
    Route(
        "POST",
        "/v1/assistants/{assistant_id}",
        "assistants",
        "openai_cf.api.handlers.assistants:update_assistant",
        storage=True,
    ),
    Route(
        "DELETE",
        "/v1/assistants/{assistant_id}",
        "assistants",
        "openai_cf.api.handlers.assistants:delete_assistant",
        storage=True,
    ),
    Route("POST", "/v1/threads", "threads", "openai_cf.api.handlers.threads:create_thread", storage=True),
    # Above `/v1/threads/{thread_id}`: routes match in order, and `runs` is no thread id.
    Route(
        "POST",
        "/v1/threads/runs",
        "runs",
        "openai_cf.api.handlers.runs:create_thread_and_run",
        streams=True,
        storage=True,
    ),
    Route("GET", "/v1/threads/{thread_id}", "threads", "openai_cf.api.handlers.threads:retrieve_thread", storage=True),
    Route("POST", "/v1/threads/{thread_id}", "threads", "openai_cf.api.handlers.threads:update_thread", storage=True),
    Route("DELETE", "/v1/threads/{thread_id}", "threads", "openai_cf.api.handlers.threads:delete_thread", storage=True),
    Route(
        "POST",
        "/v1/threads/{thread_id}/messages",
        "threads",
        "openai_cf.api.handlers.messages:create_message",
        storage=True,
    ),
    Route(
        "GET",
        "/v1/threads/{thread_id}/messages",
        "threads",
        "openai_cf.api.handlers.messages:list_messages",
        storage=True,
    ),
    Route(
        "GET",
        "/v1/threads/{thread_id}/messages/{message_id}",
        "threads",
        "openai_cf.api.handlers.messages:retrieve_message",
        storage=True,
    ),
    Route(
        "POST",
        "/v1/threads/{thread_id}/messages/{message_id}",
        "threads",
        "openai_cf.api.handlers.messages:update_message",
        storage=True,
    ),
    Route(
        "DELETE",
        "/v1/threads/{thread_id}/messages/{message_id}",
        "threads",
        "openai_cf.api.handlers.messages:delete_message",
        storage=True,
    ),
    Route(
        "POST",
        "/v1/threads/{thread_id}/runs",
        "runs",
        "openai_cf.api.handlers.runs:create_run",
        streams=True,
        storage=True,
    ),
    Route(
        "GET",
        "/v1/threads/{thread_id}/runs",
        "runs",
        "openai_cf.api.handlers.runs:list_runs",
        storage=True,
    ),
    Route(
        "GET",
        "/v1/threads/{thread_id}/runs/{run_id}",
        "runs",
        "openai_cf.api.handlers.runs:retrieve_run",
        storage=True,
    ),
    Route(
        "POST",
        "/v1/threads/{thread_id}/runs/{run_id}",
        "runs",
        "openai_cf.api.handlers.runs:update_run",
        storage=True,
    ),
    Route(
        "POST",
        "/v1/threads/{thread_id}/runs/{run_id}/cancel",
        "runs",
        "openai_cf.api.handlers.runs:cancel_run",
        storage=True,
    ),
    Route(
        "POST",
        "/v1/threads/{thread_id}/runs/{run_id}/submit_tool_outputs",
        "runs",
        "openai_cf.api.handlers.runs:submit_tool_outputs",
        streams=True,
        storage=True,
    ),
    Route(
        "GET",
        "/v1/threads/{thread_id}/runs/{run_id}/steps",
        "runs",
        "openai_cf.api.handlers.runs:list_run_steps",
        storage=True,
    ),
    Route(
        "GET",
        "/v1/threads/{thread_id}/runs/{run_id}/steps/{step_id}",
        "runs",
        "openai_cf.api.handlers.runs:retrieve_run_step",
        storage=True,
    ),
)

FUNCTIONS: tuple[str, ...] = tuple(dict.fromkeys(route.function for route in ROUTES))
# Functions that serve at least one storage route.
STORAGE_FUNCTIONS: frozenset[str] = frozenset(route.function for route in ROUTES if route.storage)


def routes_for(function: str | None = None) -> tuple[Route, ...]:
    """Rows served by one function, or every row when `function` is None (the local server)."""
    if function is None:
        return ROUTES
    rows = tuple(route for route in ROUTES if route.function == function)
    if not rows:
        raise ValueError(f"no routes for function {function!r}; known: {', '.join(FUNCTIONS)}")
    return rows
