"""Workers AI failures, translated into the project's error hierarchy in one table.

Every documented Workers AI error code maps to the OpenAI status/type/code a client should see,
and says whether the client should retry (openai-contract 1.5) and how often *we* retry upstream.
Codes that mean our own configuration is wrong (bad token, bad URL) never leak upstream text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openai_cf import errors as e


@dataclass(frozen=True)
class Rule:
    error: type[e.OpenAICFError]
    code: str | None
    # How many times the client retries this upstream failure itself (0 = never).
    upstream_retries: int = 0
    # `x-should-retry` sent to the SDK; None leaves the SDK's status-based default.
    should_retry: bool | None = None
    # Replaces the upstream message (for failures that are ours, not the caller's).
    message: str | None = None


_MISCONFIGURED = "The gateway could not reach Workers AI: its Cloudflare configuration is invalid."
_UNLIMITED = 1_000

CODE_RULES: dict[int, Rule] = {
    5007: Rule(e.NotFoundError, "model_not_found"),
    3042: Rule(e.NotFoundError, "model_not_found"),
    5028: Rule(e.NotFoundError, "model_not_found"),
    5004: Rule(e.InvalidRequestError, "invalid_data"),
    5006: Rule(e.InvalidRequestError, "invalid_request"),
    8001: Rule(e.InvalidRequestError, "invalid_request"),
    8005: Rule(e.InvalidRequestError, "invalid_image"),
    3039: Rule(e.InvalidRequestError, "finetune_missing_files"),
    5005: Rule(e.InvalidRequestError, "lora_unsupported"),
    3003: Rule(e.InternalServerError, "upstream_incomplete_request", message=_MISCONFIGURED),
    5018: Rule(e.PermissionDeniedError, "model_not_allowed"),
    3041: Rule(e.PermissionDeniedError, "model_not_allowed"),
    5016: Rule(e.PermissionDeniedError, "model_agreement_required"),
    3023: Rule(e.PermissionDeniedError, "account_blocked"),
    5035: Rule(e.PermissionDeniedError, "workers_paid_required"),
    5019: Rule(e.InternalServerError, "upstream_sdk_deprecated", message=_MISCONFIGURED),
    3006: Rule(e.PayloadTooLargeError, "request_too_large"),
    3007: Rule(e.GatewayTimeoutError, "upstream_timeout", upstream_retries=1),
    3008: Rule(e.BadGatewayError, "upstream_aborted", upstream_retries=1),
    # The daily free allocation is spent: retrying before the reset only burns requests.
    3036: Rule(e.RateLimitError, "insufficient_quota", should_retry=False),
    4006: Rule(e.RateLimitError, "insufficient_quota", should_retry=False),
    3040: Rule(e.RateLimitError, "rate_limit_exceeded", upstream_retries=_UNLIMITED),
    7000: Rule(e.InternalServerError, "upstream_route_error", should_retry=False, message=_MISCONFIGURED),
    7001: Rule(e.InternalServerError, "upstream_route_error", should_retry=False, message=_MISCONFIGURED),
    7003: Rule(e.InternalServerError, "upstream_route_error", should_retry=False, message=_MISCONFIGURED),
    10000: Rule(e.InternalServerError, "upstream_auth_failed", should_retry=False, message=_MISCONFIGURED),
    2009: Rule(e.InternalServerError, "upstream_auth_failed", should_retry=False, message=_MISCONFIGURED),
    2021: Rule(e.PermissionDeniedError, "upstream_billing", should_retry=False),
}

STATUS_RULES: dict[int, Rule] = {
    400: Rule(e.InvalidRequestError, "invalid_request"),
    401: Rule(e.InternalServerError, "upstream_auth_failed", should_retry=False, message=_MISCONFIGURED),
    403: Rule(e.PermissionDeniedError, "upstream_forbidden"),
    404: Rule(e.NotFoundError, "model_not_found"),
    408: Rule(e.GatewayTimeoutError, "upstream_timeout", upstream_retries=1),
    409: Rule(e.BadGatewayError, "upstream_conflict", upstream_retries=1),
    413: Rule(e.PayloadTooLargeError, "request_too_large"),
    429: Rule(e.RateLimitError, "rate_limit_exceeded", upstream_retries=_UNLIMITED),
}

# The wait we suggest for a capacity 429 when Workers AI named none (the README promises a hint):
# the SDK's own first backoff is 0.5 s, and capacity frees up on the scale of seconds.
DEFAULT_RETRY_AFTER = 2.0

_SERVER_ERROR = Rule(e.BadGatewayError, "upstream_error", upstream_retries=_UNLIMITED)
_OTHER = Rule(e.BadGatewayError, "upstream_error")


@dataclass(frozen=True)
class UpstreamFailure:
    """One failed upstream answer, before translation."""

    status: int
    code: int | None
    message: str
    retry_after: float | None = None

    @property
    def rule(self) -> Rule:
        if self.code is not None and self.code in CODE_RULES:
            return CODE_RULES[self.code]
        if self.status in STATUS_RULES:
            return STATUS_RULES[self.status]
        return _SERVER_ERROR if self.status >= 500 else _OTHER

    def to_error(self, *, model: str | None = None) -> e.OpenAICFError:
        rule = self.rule
        message = rule.message or self.message or f"Workers AI answered HTTP {self.status}"
        if rule.code == "model_not_found" and model:
            message = f"The model `{model}` is not available on Workers AI: {self.message}"
        retryable_limit = rule.error is e.RateLimitError and rule.should_retry is None
        return rule.error(
            message,
            code=rule.code,
            param="model" if rule.code == "model_not_found" else None,
            retry_after=(self.retry_after if self.retry_after is not None else DEFAULT_RETRY_AFTER)
            if retryable_limit
            else None,
            should_retry=rule.should_retry,
        )


def parse_failure(status: int, body: Any, retry_after: float | None) -> UpstreamFailure:
    """Read the Cloudflare failure envelope (`{"success": false, "errors": [{code, message}]}`)."""
    code: int | None = None
    message = ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        raw_code = errors[0].get("code")
        code = raw_code if isinstance(raw_code, int) else None
        message = str(errors[0].get("message") or "")
    elif isinstance(body, str):
        message = body.strip()[:200]
    if code is None:
        code = _code_in_message(message)
    return UpstreamFailure(status=status, code=code, message=message, retry_after=retry_after)


def _code_in_message(message: str) -> int | None:
    # "AiError: 5028 … deprecated" carries the code only in the text.
    for word in message.replace(":", " ").split()[:4]:
        if word.isdigit() and int(word) in CODE_RULES:
            return int(word)
    return None
