"""The one error hierarchy. Every failure a client can see is one of these.

    OpenAICFError                 status  type
    ├── InvalidRequestError         400   invalid_request_error
    ├── AuthenticationError         401   authentication_error
    ├── PermissionDeniedError       403   permission_error
    ├── NotFoundError               404   invalid_request_error (code model_not_found, unknown_url, …)
    ├── MethodNotAllowedError       405   invalid_request_error
    ├── ConflictError               409   invalid_request_error
    ├── PayloadTooLargeError        413   invalid_request_error
    ├── UnsupportedMediaTypeError   415   invalid_request_error
    ├── RateLimitError              429   rate_limit_error
    ├── ClientClosedRequest         499   (logs only: the client left before the answer)
    ├── InternalServerError         500   server_error
    ├── BadGatewayError             502   server_error   (upstream failed)
    ├── ServiceUnavailableError     503   server_error
    └── GatewayTimeoutError         504   server_error

`api/` serialises them, once, into ``{"error": {"message", "type", "param", "code"}}``;
services and the Workers AI client only raise them.
"""

from __future__ import annotations

from typing import Any, ClassVar


class OpenAICFError(Exception):
    status: ClassVar[int] = 500
    type: ClassVar[str] = "server_error"
    default_code: ClassVar[str | None] = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        retry_after: float | None = None,
        should_retry: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code if code is not None else self.default_code
        # Retry hints for the SDK (openai-contract 1.5): `retry-after` and `x-should-retry`.
        self.retry_after = retry_after
        self.should_retry = should_retry

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "type": self.type, "param": self.param, "code": self.code}

    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.retry_after is not None:
            headers["retry-after"] = f"{self.retry_after:g}"
            headers["retry-after-ms"] = str(int(self.retry_after * 1000))
        if self.should_retry is not None:
            headers["x-should-retry"] = "true" if self.should_retry else "false"
        return headers


class InvalidRequestError(OpenAICFError):
    status = 400
    type = "invalid_request_error"


class AuthenticationError(OpenAICFError):
    status = 401
    type = "authentication_error"
    default_code = "invalid_api_key"


class PermissionDeniedError(OpenAICFError):
    status = 403
    type = "permission_error"


class NotFoundError(OpenAICFError):
    status = 404
    type = "invalid_request_error"


class MethodNotAllowedError(OpenAICFError):
    status = 405
    type = "invalid_request_error"
    default_code = "method_not_allowed"


class ConflictError(OpenAICFError):
    status = 409
    type = "invalid_request_error"


class PayloadTooLargeError(OpenAICFError):
    status = 413
    type = "invalid_request_error"
    default_code = "request_too_large"


class UnsupportedMediaTypeError(OpenAICFError):
    status = 415
    type = "invalid_request_error"


class RateLimitError(OpenAICFError):
    status = 429
    type = "rate_limit_error"
    default_code = "rate_limit_exceeded"


class ClientClosedRequest(OpenAICFError):
    """The client disconnected while we worked; nobody reads this, but logs show 499 (nginx's code)."""

    status = 499
    type = "client_closed_request"


class InternalServerError(OpenAICFError):
    status = 500
    type = "server_error"


class BadGatewayError(OpenAICFError):
    status = 502
    type = "server_error"
    default_code = "upstream_error"


class ServiceUnavailableError(OpenAICFError):
    status = 503
    type = "server_error"


class GatewayTimeoutError(OpenAICFError):
    status = 504
    type = "server_error"
    default_code = "upstream_timeout"


def unexpected_error(request_id: str) -> InternalServerError:
    """A bug or an unforeseen failure: OpenAI's wording, the request id, nothing internal."""
    return InternalServerError(
        "The server had an error while processing your request. Sorry about that! You can retry your "
        f"request, or report the error with the request ID {request_id} if it persists."
    )


def model_not_found(model: str, *, detail: str | None = None) -> NotFoundError:
    message = detail or f"The model `{model}` does not exist or you do not have access to it."
    return NotFoundError(message, param="model", code="model_not_found")
