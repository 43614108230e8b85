"""The values that may live in Secrets Manager, read through a cache with a TTL.

    bearer tokens          ACCESS_TOKEN env, else the access-token secret     (every request's auth check)
    Cloudflare API token   CLOUDFLARE_API_TOKEN env, else the Cloudflare secret (every Workers AI call)
    Cloudflare account id  CLOUDFLARE_ACCOUNT_ID env (CDK context), else the Cloudflare secret

An environment variable wins: local runs and tests never reach Secrets Manager. A secret holds the
bare value (`ACCESS_TOKEN` may list several tokens, comma-separated) or a JSON object keyed by the
names above, as the one secret of earlier deployments did (`OPENAI_CF_SECRET_ARN`).

A read costs a clock comparison. Once every `secret_ttl_seconds` (5 minutes by default) the first
caller re-reads the secret, one GetSecretValue call, so a changed secret reaches warm functions
within minutes, not only new instances. A failed refresh keeps the last good values in use (it is
logged, never the values) and is tried again after `RETRY_SECONDS`; only a first read that fails is
an error, since there is nothing to serve yet. Other callers never wait for a refresh that is under
way: they keep the values they would have had a moment earlier.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from openai_cf import errors as e
from openai_cf.settings import SECRET_KEYS, Settings, split_tokens

logger = logging.getLogger(__name__)

# Secret id → its SecretString (GetSecretValue; `services.container` gives the boto3 one).
Fetch = Callable[[str], str]
# After a failed refresh: soon enough to pick up a fix, rarely enough not to add a slow call to
# many requests while Secrets Manager (or the network to it) is failing.
RETRY_SECONDS = 30.0


class SecretFormatError(ValueError):
    """A secret that is neither a bare value nor a JSON object."""


def parse_secret(raw: str, key: str) -> dict[str, str]:
    """The values a secret holds: a JSON object's known keys, or the bare text as `key`."""
    text = raw.strip()
    if not text.startswith("{"):
        return {key: text} if text else {}
    try:
        values = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SecretFormatError("the secret starts with '{' but is not a JSON object") from exc
    if not isinstance(values, dict):
        raise SecretFormatError("the secret is not a JSON object")
    return {k: str(v).strip() for k, v in values.items() if k in SECRET_KEYS and isinstance(v, str) and v.strip()}


class CachedSecret:
    """One secret's values, read again once they are `ttl` seconds old."""

    def __init__(
        self, secret_id: str, key: str, fetch: Fetch, *, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.secret_id = secret_id
        self._key = key
        self._fetch = fetch
        self._ttl = ttl
        self._clock = clock
        self._values: dict[str, str] | None = None
        self._due = float("-inf")
        self._lock = threading.Lock()

    def values(self) -> Mapping[str, str]:
        if self._clock() < self._due and self._values is not None:
            return self._values
        return self._refresh()

    def _refresh(self) -> Mapping[str, str]:
        # With values to serve, a caller that finds a refresh under way serves them; without, it waits.
        if not self._lock.acquire(blocking=self._values is None):
            assert self._values is not None
            return self._values
        try:
            now = self._clock()
            if now < self._due and self._values is not None:
                return self._values  # refreshed while this caller waited for the lock
            try:
                values = parse_secret(self._fetch(self.secret_id), self._key)
            except Exception as exc:
                return self._keep(now, exc)
            self._values, self._due = values, now + self._ttl
            return values
        finally:
            self._lock.release()

    def _keep(self, now: float, exc: Exception) -> Mapping[str, str]:
        # The exception's type only: botocore's messages can quote the request, a format error the value.
        failure = {"secret_id": self.secret_id, "error": type(exc).__name__}
        if self._values is None:
            logger.error("reading a secret failed", extra=failure)
            raise e.InternalServerError(
                "The API's credentials could not be read; retry shortly.", code="secret_unavailable"
            ) from exc
        logger.warning("refreshing a secret failed; the last values read stay in use", extra=failure)
        self._due = now + min(RETRY_SECONDS, self._ttl)
        return self._values


@dataclass(frozen=True)
class CloudflareCredentials:
    account_id: str | None
    api_token: str | None

    @property
    def configured(self) -> bool:
        return bool(self.account_id and self.api_token)


class Credentials:
    """The current secret values of one process: environment first, then the cached secrets."""

    def __init__(self, settings: Settings, fetch: Fetch, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._settings = settings
        caches: dict[str, CachedSecret] = {}

        def cached(secret_id: str | None, key: str) -> CachedSecret | None:
            if not secret_id:
                return None
            # One cache per secret: the one-secret layout reads it once for both uses.
            if secret_id not in caches:
                caches[secret_id] = CachedSecret(secret_id, key, fetch, ttl=settings.secret_ttl_seconds, clock=clock)
            return caches[secret_id]

        self._access = None if settings.access_tokens else cached(settings.access_token_secret_id, "ACCESS_TOKEN")
        needs_secret = not (settings.cloudflare_api_token and settings.cloudflare_account_id)
        self._cloudflare = cached(settings.cloudflare_secret_id, "CLOUDFLARE_API_TOKEN") if needs_secret else None

    def access_tokens(self) -> tuple[str, ...]:
        if self._access is None:
            return self._settings.access_tokens
        return split_tokens(self._access.values().get("ACCESS_TOKEN", ""))

    def cloudflare(self) -> CloudflareCredentials:
        settings = self._settings
        secret = self._cloudflare.values() if self._cloudflare is not None else {}
        return CloudflareCredentials(
            account_id=settings.cloudflare_account_id or secret.get("CLOUDFLARE_ACCOUNT_ID"),
            api_token=settings.cloudflare_api_token or secret.get("CLOUDFLARE_API_TOKEN"),
        )

    def cloudflare_api_token(self) -> str:
        """The token for the next Workers AI call (the Workers AI client asks before each one)."""
        return self.cloudflare().api_token or ""


def secrets_manager_fetch(client: Callable[[], Any]) -> Fetch:
    """GetSecretValue through the boto3 client that `client()` returns (built on first use)."""

    def fetch(secret_id: str) -> str:
        return str(client().get_secret_value(SecretId=secret_id)["SecretString"])

    return fetch
