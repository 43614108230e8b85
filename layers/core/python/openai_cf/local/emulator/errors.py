"""Workers AI error codes, their HTTP statuses and messages, as the offline emulator answers them.

This is part of a development and test double, not Workers AI. The table follows Cloudflare's
published errors page plus observed bodies (workers-ai-contract section 2 and 14); code 3043 for
"internal server error" is the emulator's own choice, since Cloudflare publishes none.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

# 3036 over REST and 4006 from a Worker binding mean the same thing (workers-ai-contract 14).
_DAILY_ALLOCATION_SPENT = (
    "You have used up your daily free allocation of 10,000 neurons. Please upgrade to Cloudflare's "
    "Workers Paid plan if you would like to continue usage."
)
# code -> (HTTP status, message template). Templates may use {model}, {path}, {method}, {date}, {detail}.
ERROR_TABLE: dict[int, tuple[int, str]] = {
    3003: (400, "Request is missing headers or body: {detail}"),
    3006: (413, "Request is too large"),
    3007: (408, "Request timeout"),
    3008: (408, "Request was aborted"),
    3023: (403, "Service unavailable for account"),
    3036: (429, _DAILY_ALLOCATION_SPENT),
    3039: (400, "Finetune is missing required files (model.safetensors and config.json)"),
    3040: (429, "Capacity temporarily exceeded, please try again."),
    3041: (403, "The account is not allowed to access this model"),
    3042: (404, "The model name is invalid"),
    3043: (500, "Internal server error"),
    4006: (429, _DAILY_ALLOCATION_SPENT),
    5004: (400, "Invalid data type for base64 input: {detail}"),
    5005: (405, "The model {model} does not support LoRa inference"),
    5006: (400, "AiError: Bad input: {detail}"),
    5007: (400, "No such model {model} or task"),
    5016: (403, "User has not agreed to Llama3.2 model terms"),
    5018: (403, "The account is not allowed to access this model"),
    5019: (405, "Request trying to use deprecated SDK version"),
    5028: (400, "This model was deprecated on {date}. Please use an alternative model"),
    5035: (403, "The model {model} requires a Workers Paid plan"),
    7000: (404, "No route for that URI"),
    7001: (405, "{method} not supported for requested URI."),
    7003: (404, "Could not route to {path}, perhaps your object identifier is invalid?"),
    8001: (400, "Invalid input"),
    8005: (400, "Invalid image"),
    10000: (401, "Authentication error"),
}

DEFAULT_API_TOKEN = "emulator-token"  # noqa: S105 - the well-known token of a local test double

_DEFAULTS = {"model": "", "path": "", "method": "GET", "date": "2026-05-30", "detail": "emulated error"}

# Codes whose failure envelope carries `"result": {}` instead of `null` (observed for 5006).
_EMPTY_OBJECT_RESULT = frozenset({5006})


class EmulatorError(Exception):
    """A Workers AI failure: rendered as the Cloudflare failure envelope with the table's status."""

    def __init__(self, code: int, message: str | None = None, *, status: int | None = None, **fields: str):
        known_status, template = ERROR_TABLE.get(code, (400, "Emulated Workers AI error {code}"))
        self.code = code
        self.status = status or known_status
        self.message = message or template.format(**{**_DEFAULTS, "code": str(code), **fields})
        super().__init__(f"{code}: {self.message}")

    def response(self) -> JSONResponse:
        return failure_response(self.code, self.message, status=self.status)


def envelope(result: Any) -> dict[str, Any]:
    """The Cloudflare V4 success envelope."""
    return {"result": result, "success": True, "errors": [], "messages": []}


def success_response(result: Any, *, extra: dict[str, Any] | None = None) -> JSONResponse:
    return JSONResponse({**envelope(result), **(extra or {})})


def failure_response(code: int, message: str, *, status: int) -> JSONResponse:
    result: dict[str, Any] | None = {} if code in _EMPTY_OBJECT_RESULT else None
    body = {
        "result": result,
        "success": False,
        "errors": [{"code": code, "message": message}],
        "messages": [],
    }
    headers = {"retry-after": "1"} if code == 3040 else None
    return JSONResponse(body, status_code=status, headers=headers)


def not_implemented(what: str) -> EmulatorError:
    """Input the emulator does not model yet: a 400 in the style of 5007."""
    return EmulatorError(5007, f"The offline emulator does not implement {what}")
