"""Deployment settings a user chooses: CDK context (`cdk deploy -c key=value`, or `cdk.json`'s
`context`), each with a documented default (README, "Deploying").

Values given with `-c` arrive as strings, values in `cdk.json` as JSON; both are accepted. A bad value
fails the synth with a message naming the key, before anything is deployed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from constructs import Node

DEFAULT_API_BASE_URL = "https://api.cloudflare.com/client/v4"


class ConfigError(ValueError):
    """A context value that cannot be used."""


@dataclass(frozen=True)
class DeployConfig:
    # Upstream (not secret; the API token is a Secrets Manager secret the user fills).
    cloudflare_account_id: str = ""
    cloudflare_api_base_url: str = DEFAULT_API_BASE_URL
    model_aliases: dict[str, str] = field(default_factory=dict)
    default_max_tokens: int = 4096
    # Seconds a warm function uses a secret's value before reading it again: the longest a changed
    # secret (a new Cloudflare or access token) waits to take effect; one GetSecretValue call each.
    secret_ttl_seconds: int = 300
    # API Gateway
    cors_allowed_origins: tuple[str, ...] = ()
    throttle_rate_limit: float = 50.0
    throttle_burst_limit: int = 100
    # Set the region's API Gateway CloudWatch role (an account setting, retained on delete): access
    # logs need one. false where a landing zone already manages it.
    api_gateway_cloudwatch_role: bool = True
    # State
    table_deletion_protection: bool = True
    # The Lambda Web Adapter layer; None → AWS's public layer for the stack's region.
    web_adapter_layer_arn: str | None = None
    # Alarms notify this address through an SNS topic when set.
    alarm_email: str | None = None

    @classmethod
    def from_node(cls, node: Node) -> DeployConfig:
        return cls.from_mapping({key: node.try_get_context(key) for key in CONTEXT_KEYS})

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> DeployConfig:
        given = {k: v for k, v in values.items() if v is not None and v != ""}
        unknown = set(given) - set(CONTEXT_KEYS)
        if unknown:
            raise ConfigError(f"unknown context keys: {sorted(unknown)}")
        kwargs: dict[str, Any] = {}
        for key, raw in given.items():
            kwargs[key] = _PARSERS[key](key, raw)
        return cls(**kwargs)


def _text(key: str, raw: Any) -> str:
    if not isinstance(raw, str):
        raise ConfigError(f"context {key} must be a string")
    return raw


def _int(key: str, raw: Any) -> int:
    try:
        value = int(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"context {key} must be an integer, got {raw!r}") from exc
    if value < 1:
        raise ConfigError(f"context {key} must be at least 1")
    return value


def _float(key: str, raw: Any) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"context {key} must be a number, got {raw!r}") from exc
    if not value > 0:
        raise ConfigError(f"context {key} must be positive")
    return value


def _bool(key: str, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    raise ConfigError(f"context {key} must be true or false, got {raw!r}")


def _json(raw: Any) -> Any:
    return json.loads(raw) if isinstance(raw, str) else raw


def _aliases(key: str, raw: Any) -> dict[str, str]:
    try:
        value = _json(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"context {key} must be a JSON object: {exc}") from exc
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise ConfigError(f'context {key} must be a JSON object of strings, e.g. {{"gpt-4o": "@cf/…"}}')
    return value


def _origins(key: str, raw: Any) -> tuple[str, ...]:
    """A JSON list, or a comma-separated string (`-c cors_allowed_origins=https://a.example,https://b.example`)."""
    if isinstance(raw, str) and not raw.lstrip().startswith("["):
        items: Any = [part.strip() for part in raw.split(",") if part.strip()]
    else:
        try:
            items = _json(raw)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"context {key} must be a list of origins: {exc}") from exc
    if not isinstance(items, list) or not all(isinstance(item, str) and item for item in items):
        raise ConfigError(f"context {key} must be a list of origins")
    for origin in items:
        if origin != "*" and not origin.startswith(("https://", "http://")):
            raise ConfigError(f"context {key}: {origin!r} is not an origin (https://host[:port] or *)")
    return tuple(items)


_PARSERS: dict[str, Any] = {
    "cloudflare_account_id": _text,
    "cloudflare_api_base_url": _text,
    "model_aliases": _aliases,
    "default_max_tokens": _int,
    "secret_ttl_seconds": _int,
    "cors_allowed_origins": _origins,
    "throttle_rate_limit": _float,
    "throttle_burst_limit": _int,
    "api_gateway_cloudwatch_role": _bool,
    "table_deletion_protection": _bool,
    "web_adapter_layer_arn": _text,
    "alarm_email": _text,
}
CONTEXT_KEYS = tuple(_PARSERS)
