"""boto3 clients for the storage layer, built on first use (boto3 costs ~120 ms to import).

Locally `AWS_ENDPOINT_URL` (or `Settings.aws_endpoint_url`) points every client at the embedded
moto server; on Lambda the same code reaches DynamoDB, S3 and SQS.
"""

from __future__ import annotations

import threading
from typing import Any


class AwsClients:
    def __init__(self, *, region: str | None = None, endpoint_url: str | None = None) -> None:
        self._region = region
        self._endpoint_url = endpoint_url
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._make(service)
            return self._clients[service]

    def _make(self, service: str) -> Any:
        import boto3
        from botocore.config import Config

        # Bounded waits and a few standard retries: a storage hiccup is a 5xx, never a hang.
        config = Config(
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            max_pool_connections=64,
            s3={"addressing_style": "path"} if self._endpoint_url else None,
            # Presigned S3 links (generated images) signed with SigV4, which carries its expiry in
            # `X-Amz-Expires`; boto3 would otherwise presign with legacy SigV2 in some regions.
            signature_version="s3v4" if service == "s3" else None,
        )
        session = boto3.session.Session()
        return session.client(service, region_name=self._region, endpoint_url=self._endpoint_url, config=config)
