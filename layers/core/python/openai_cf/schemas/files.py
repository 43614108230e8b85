"""Files wire models (openai-python `types/file_object.py`, `file_deleted.py`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from openai_cf.schemas.common import omitted
from openai_cf.schemas.pagination import ListParams

# What a client may upload for; answers may also carry the `*_output`/results purposes.
FilePurpose = Literal["assistants", "batch", "fine-tune", "vision", "user_data", "evals"]


class FileObject(BaseModel):
    id: str
    object: Literal["file"] = "file"
    bytes: int
    created_at: int
    filename: str
    purpose: str
    # Deprecated by OpenAI but still read by `files.wait_for_processing`: ours is ready at once.
    status: Literal["uploaded", "processed", "error"] = "processed"
    expires_at: int | None = omitted()


class FileDeleted(BaseModel):
    id: str
    object: Literal["file"] = "file"
    deleted: bool = True


class ExpiresAfter(BaseModel):
    """`expires_after[anchor]=created_at`, `expires_after[seconds]=N` (one hour to 30 days)."""

    model_config = {"extra": "forbid"}

    anchor: Literal["created_at"]
    seconds: int = Field(ge=3600, le=2_592_000)


class FileListParams(ListParams):
    # Files list up to 10,000 at once, and that is also the default (OpenAI's API reference).
    limit: int = Field(default=10_000, ge=1, le=10_000)
    purpose: str | None = Field(default=None, max_length=64)


class FileCreateFields(BaseModel):
    """The text fields of `POST /v1/files` (the `file` part is read separately)."""

    model_config = {"extra": "forbid"}

    purpose: FilePurpose
    expires_after: ExpiresAfter | None = None
