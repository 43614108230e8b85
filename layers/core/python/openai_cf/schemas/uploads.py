"""Uploads wire models (openai-python `types/upload.py`, `types/uploads/upload_part.py`, and the
create/complete params)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from openai_cf.schemas.common import RequestModel
from openai_cf.schemas.files import ExpiresAfter, FileObject, FilePurpose

UploadStatus = Literal["pending", "completed", "cancelled", "expired"]

# OpenAI: "an Upload can accept at most 8 GB in total".
MAX_UPLOAD_BYTES = 8 * 1024**3
# S3's most parts per multipart upload; no Upload needs more (8 GB in parts of 4 MiB is 2,048).
MAX_PART_IDS = 10_000

# Printable ASCII only: the MIME type comes back as the file's Content-Type header.
MimeType = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[\x20-\x7e]+$")]
PartId = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class Upload(BaseModel):
    id: str
    object: Literal["upload"] = "upload"
    bytes: int
    created_at: int
    expires_at: int
    filename: str
    purpose: str
    status: UploadStatus
    # The File the Upload became, once completed (null before, as OpenAI's schema allows).
    file: FileObject | None = None


class UploadPart(BaseModel):
    id: str
    object: Literal["upload.part"] = "upload.part"
    created_at: int
    upload_id: str


class UploadCreateParams(RequestModel):
    filename: str = Field(min_length=1, max_length=255)
    purpose: FilePurpose
    bytes: int = Field(ge=1, le=MAX_UPLOAD_BYTES)
    mime_type: MimeType
    # The expiry of the File the Upload becomes (OpenAI: "the expiration policy for a file"),
    # counted from the File's creation; the Upload itself always expires an hour after its own.
    expires_after: ExpiresAfter | None = None


class UploadCompleteParams(RequestModel):
    part_ids: list[PartId] = Field(min_length=1, max_length=MAX_PART_IDS)
    md5: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{32}$")


class AddPartFields(RequestModel):
    """The text fields of `POST /v1/uploads/{id}/parts`: none (the `data` part is read separately)."""
