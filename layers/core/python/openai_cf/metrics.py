"""The service-level metric names, and the one place an upstream failure is counted.

Neutral ground below `api/` and `services/`: the HTTP layer counts failures that reach a client, a
streamed run (which runs inside the runs function) counts the model failures of its steps, and
the CDK alarms read the same names (infra/constructs/monitoring.py). The record is written as
CloudWatch EMF by `api.logs.JsonFormatter`.
"""

from __future__ import annotations

import logging

from openai_cf.errors import BadGatewayError, GatewayTimeoutError, OpenAICFError, RateLimitError

NAMESPACE = "openai-cf"
# The HTTP functions' service-level metrics (the run executor's Powertools metrics say
# service=run_executor).
SERVICE = "api"
SERVICE_DIMENSIONS = ("service",)
UPSTREAM_ERRORS = "UpstreamErrors"
TIME_TO_FIRST_BYTE = "TimeToFirstByte"

upstream_logger = logging.getLogger("openai_cf.upstream")


def is_upstream(error: OpenAICFError) -> bool:
    """A failure of Workers AI itself (unreachable, slow, 5xx, rate-limited, refusing our
    credentials), as translated in workers_ai/errors.py; not a request Workers AI rightly refused."""
    if isinstance(error, (BadGatewayError, GatewayTimeoutError, RateLimitError)):
        return True
    return (error.code or "").startswith("upstream_")


def count_upstream(status: int | None, code: str | None) -> None:
    """Log and count (`UpstreamErrors`, service=api) one upstream failure: status and code only,
    never the upstream message (it may quote the request)."""
    upstream_logger.warning(
        "upstream error",
        extra={
            "service": SERVICE,
            "status": status,
            "code": code,
            "metrics": {UPSTREAM_ERRORS: 1},
            "dimensions": SERVICE_DIMENSIONS,
        },
    )


def count_upstream_error(error: OpenAICFError) -> None:
    """Count `error` if it is an upstream failure that reached a client."""
    if is_upstream(error):
        count_upstream(error.status, error.code)
