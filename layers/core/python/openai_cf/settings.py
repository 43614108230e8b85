"""Typed settings, read once from the environment (no I/O: never a secret read).

On AWS the secret values (`ACCESS_TOKEN`, `CLOUDFLARE_API_TOKEN`) live in Secrets Manager: the
settings hold only the secrets' ARNs, and `openai_cf.credentials` reads them through a cache with a
TTL, so that a changed secret reaches warm functions. Environment variables win over the secrets.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_API_BASE_URL = "https://api.cloudflare.com/client/v4"


class SettingsError(ValueError):
    """The environment describes an impossible configuration (raised at start-up, never per request)."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    # Bearer tokens accepted by the API (comma-separated in ACCESS_TOKEN).
    access_tokens: tuple[str, ...] = ()
    cloudflare_account_id: str | None = None
    cloudflare_api_token: str | None = None
    cloudflare_api_base_url: str = DEFAULT_API_BASE_URL
    # Optional AI Gateway id for the gateway REST API on api.cloudflare.com (`cf-aig-gateway-id`).
    cloudflare_ai_gateway_id: str | None = None
    # A label for logs and the serve banner: "workers-ai" or "emulator".
    upstream_label: str = "workers-ai"
    model_aliases: dict[str, str] = Field(default_factory=dict)
    # Workers AI defaults to 256 new tokens; we never let that cut answers silently.
    default_max_tokens: int = 4096
    upstream_connect_timeout: float = 5.0
    upstream_read_timeout: float = 120.0
    upstream_max_retries: int = 2
    max_request_bytes: int = 6 * 1024 * 1024
    # Seconds of upstream silence before an SSE keep-alive comment is sent.
    sse_keepalive_seconds: float = 15.0
    catalog_ttl_seconds: float = 600.0
    # Image URLs in chat messages are fetched by us (Workers AI takes only data: URLs). The caps fit
    # one request into a 512 MB Lambda with room to spare: 20 MB downloaded become ~27 MB of base64,
    # held about three times over (data URL, payload JSON, request body) ≈ 100 MB at the peak. The
    # 10 s deadline covers all downloads of the request together, well inside the API's timeouts.
    image_max_count: int = Field(default=8, ge=0)
    image_fetch_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    image_fetch_max_total_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    image_fetch_timeout: float = Field(default=10.0, gt=0)
    # Loopback/private image URLs are refused unless this is set (tests and local development only).
    image_fetch_allow_private: bool = False
    # Binary bodies (multipart uploads) reach Lambda base64-encoded inside its 6 MB invocation
    # payload: ~4.4 MiB of file is the most a deployed API can take in one request (aws-notes 2).
    # The same limit applies locally, so what works against `serve` works deployed.
    max_binary_request_bytes: int = Field(default=4_613_734, gt=0)
    # Storage: one DynamoDB table, one S3 bucket (CDK sets the names; `serve` creates them in moto).
    table_name: str = "openai-cf"
    bucket_name: str = "openai-cf"
    aws_region: str | None = None
    # Locally the embedded moto server (botocore honours AWS_ENDPOINT_URL too); unset on AWS.
    aws_endpoint_url: str | None = None
    # Runs: the SQS queue their steps are sent to (CDK sets the URL; `serve` creates the queue by name).
    run_queue_url: str | None = None
    run_queue_name: str = "openai-cf-runs"
    # OpenAI's: a run not finished (or given its tool outputs) ten minutes after creation expires.
    run_expires_seconds: int = Field(default=600, gt=0)
    # Deliveries of a run message before it goes to the dead-letter queue (the queue's redrive
    # policy; CDK sets both): the executor fails the run when the last one fails too.
    run_max_receives: int = Field(default=5, ge=1)
    # How often a step's model call checks whether its run was cancelled (a read of the run item).
    run_cancel_check_seconds: float = Field(default=0.5, gt=0)
    # `openai-poll-after-ms` on run answers: the SDK's poll helpers wait this long between reads.
    run_poll_after_ms: int = Field(default=500, ge=0)
    # `serve` only: seconds a received run message stays invisible; a run whose executor died
    # resumes this long after its message was taken (on AWS the queue's own timeout applies).
    local_visibility_timeout: int = Field(default=10, gt=0)
    # Browser origins allowed to call the API (CORS; `*` for any); empty = no CORS headers at all.
    # CDK sets it from the `cors_allowed_origins` context; `serve` reads it from the environment too.
    cors_allowed_origins: tuple[str, ...] = ()

    # Secrets Manager secrets holding what the environment lacks (`openai_cf.credentials`): the
    # bearer tokens, and the Cloudflare API token (CDK sets both ARNs). Read again every
    # `secret_ttl_seconds`, so a changed secret is in use within minutes.
    access_token_secret_id: str | None = None
    cloudflare_secret_id: str | None = None
    secret_ttl_seconds: float = Field(default=300.0, gt=0)

    @property
    def has_cloudflare_credentials(self) -> bool:
        return bool(self.cloudflare_account_id and self.cloudflare_api_token)


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from exc


def _aliases(raw: str | None) -> dict[str, str]:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"MODEL_ALIASES must be a JSON object: {exc}") from exc
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise SettingsError('MODEL_ALIASES must be a JSON object of strings, e.g. {"gpt-4o": "@cf/…"}')
    return value


def _origins(raw: str | None) -> tuple[str, ...]:
    """`https://a.example,https://b.example` (or `*`): origins compare as exact strings, as browsers send them."""
    origins = tuple(part.strip().rstrip("/") for part in (raw or "").split(",") if part.strip())
    for origin in origins:
        if origin != "*" and not origin.startswith(("https://", "http://")):
            raise SettingsError(f"OPENAI_CF_CORS_ALLOWED_ORIGINS: {origin!r} is not an origin (https://host or *)")
    return origins


SECRET_KEYS = ("ACCESS_TOKEN", "CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN")


def split_tokens(raw: str) -> tuple[str, ...]:
    """`ACCESS_TOKEN` holds one bearer token or several, comma-separated (a rotation's old and new)."""
    return tuple(t.strip() for t in raw.split(",") if t.strip())


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    # The one JSON secret of earlier deployments (all three keys) still works, for both.
    legacy_secret = env.get("OPENAI_CF_SECRET_ARN") or None
    try:
        return Settings(
            access_tokens=split_tokens(env.get("ACCESS_TOKEN", "")),
            cloudflare_account_id=env.get("CLOUDFLARE_ACCOUNT_ID") or None,
            cloudflare_api_token=env.get("CLOUDFLARE_API_TOKEN") or None,
            cloudflare_api_base_url=(env.get("CLOUDFLARE_API_BASE_URL") or DEFAULT_API_BASE_URL).rstrip("/"),
            cloudflare_ai_gateway_id=env.get("CLOUDFLARE_AI_GATEWAY_ID") or None,
            upstream_label=env.get("OPENAI_CF_UPSTREAM_LABEL") or "workers-ai",
            model_aliases=_aliases(env.get("MODEL_ALIASES")),
            default_max_tokens=int(_float(env, "OPENAI_CF_DEFAULT_MAX_TOKENS", 4096)),
            upstream_connect_timeout=_float(env, "OPENAI_CF_CONNECT_TIMEOUT", 5.0),
            upstream_read_timeout=_float(env, "OPENAI_CF_READ_TIMEOUT", 120.0),
            upstream_max_retries=int(_float(env, "OPENAI_CF_MAX_RETRIES", 2)),
            sse_keepalive_seconds=_float(env, "OPENAI_CF_SSE_KEEPALIVE_SECONDS", 15.0),
            image_max_count=int(_float(env, "OPENAI_CF_IMAGE_MAX_COUNT", 8)),
            image_fetch_max_bytes=int(_float(env, "OPENAI_CF_IMAGE_MAX_BYTES", 10 * 1024 * 1024)),
            image_fetch_max_total_bytes=int(_float(env, "OPENAI_CF_IMAGE_MAX_TOTAL_BYTES", 20 * 1024 * 1024)),
            image_fetch_timeout=_float(env, "OPENAI_CF_IMAGE_FETCH_TIMEOUT", 10.0),
            image_fetch_allow_private=env.get("OPENAI_CF_IMAGE_FETCH_ALLOW_PRIVATE", "") == "1",
            max_binary_request_bytes=int(_float(env, "OPENAI_CF_MAX_BINARY_REQUEST_BYTES", 4_613_734)),
            table_name=env.get("OPENAI_CF_TABLE") or "openai-cf",
            bucket_name=env.get("OPENAI_CF_BUCKET") or "openai-cf",
            aws_region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or None,
            aws_endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            run_queue_url=env.get("OPENAI_CF_RUN_QUEUE_URL") or None,
            run_queue_name=env.get("OPENAI_CF_RUN_QUEUE") or "openai-cf-runs",
            run_expires_seconds=int(_float(env, "OPENAI_CF_RUN_EXPIRES_SECONDS", 600)),
            run_max_receives=int(_float(env, "OPENAI_CF_RUN_MAX_RECEIVES", 5)),
            run_cancel_check_seconds=_float(env, "OPENAI_CF_RUN_CANCEL_CHECK_SECONDS", 0.5),
            run_poll_after_ms=int(_float(env, "OPENAI_CF_RUN_POLL_AFTER_MS", 500)),
            local_visibility_timeout=int(_float(env, "OPENAI_CF_LOCAL_VISIBILITY_TIMEOUT", 10)),
            cors_allowed_origins=_origins(env.get("OPENAI_CF_CORS_ALLOWED_ORIGINS")),
            access_token_secret_id=env.get("OPENAI_CF_ACCESS_TOKEN_SECRET_ARN") or legacy_secret,
            cloudflare_secret_id=env.get("OPENAI_CF_CLOUDFLARE_SECRET_ARN") or legacy_secret,
            secret_ttl_seconds=_float(env, "OPENAI_CF_SECRET_TTL_SECONDS", 300.0),
        )
    except ValidationError as exc:
        raise SettingsError(str(exc)) from exc


@cache
def get_settings() -> Settings:
    """The process-wide settings, read on first use (never at import time)."""
    return settings_from_env()
