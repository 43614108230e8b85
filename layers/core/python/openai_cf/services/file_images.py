"""A message's `image_file` part as the `data:` URL a chat request takes (Workers AI reads no files).

The file's bytes come from S3 through the files service, at most `max_bytes` of them (the chat
path's per-image cap); a file that is gone, or too large, is a 4xx that fails the run as
`invalid_prompt`.
"""

from __future__ import annotations

import base64
import mimetypes
from typing import Protocol

from openai_cf.errors import InvalidRequestError
from openai_cf.storage.blobs import Blob
from openai_cf.storage.files import FileRecord


class FileContents(Protocol):
    """The files service, as far as images need it (`FilesService.content`, 404 for unknown files)."""

    def content(self, file_id: str) -> tuple[FileRecord, Blob]: ...


class StoredImages:
    def __init__(self, files: FileContents, *, max_bytes: int) -> None:
        self._files = files
        self._max_bytes = max_bytes

    def data_url(self, file_id: str) -> str:
        record, blob = self._files.content(file_id)
        if blob.size > self._max_bytes:
            raise InvalidRequestError(
                f"The image file '{file_id}' is larger than {self._max_bytes} bytes.", param="image_file",
                code="image_too_large",
            )  # fmt: skip
        data = b"".join(blob.chunks)
        mime = blob.content_type
        if not mime.startswith("image/"):
            mime = mimetypes.guess_type(record.filename)[0] or "application/octet-stream"
        return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
