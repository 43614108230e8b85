"""Generated images in S3 under `images/`, handed out as presigned GET links.

The bucket deletes `images/` objects after a day (infra `IMAGES_EXPIRY`); a link expires sooner,
after an hour as OpenAI's do. A link is signed with the function's own credentials, so on Lambda
it also stops working when the role's session ends, whichever comes first.
"""

from __future__ import annotations

import secrets

from openai_cf.storage.blobs import BlobStore
from openai_cf.storage.table import translated

PREFIX = "images/"
LINK_SECONDS = 3600
_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg"}


class ImageStore:
    def __init__(self, blobs: BlobStore, *, link_seconds: int = LINK_SECONDS) -> None:
        self._blobs = blobs
        self._link_seconds = link_seconds

    def publish(self, data: bytes, content_type: str) -> str:
        """Store one image under an unguessable key; return a link that opens without a token."""
        key = f"{PREFIX}{secrets.token_hex(16)}.{_EXTENSIONS.get(content_type, 'bin')}"
        self._blobs.put_bytes(key, data, content_type=content_type)
        with translated():
            url: str = self._blobs.client.generate_presigned_url(
                "get_object", Params={"Bucket": self._blobs.bucket, "Key": key}, ExpiresIn=self._link_seconds
            )
        return url
