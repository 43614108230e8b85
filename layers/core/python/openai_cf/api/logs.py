"""Structured JSON logs: one line per event, structure only.

Allowed fields are listed here, so a prompt, an answer or a key can never be logged by accident:
anything else passed in `extra=` is dropped. A record that carries `metrics` is also written in
CloudWatch's Embedded Metric Format, so token counts become metrics per model and endpoint with
no agent and no extra call. (Powertools' Logger and Metrics would do the same but cost ~80 ms of
imports at every cold start.)

Metrics in namespace `openai-cf` (infra/constructs/monitoring.py alarms on the `service` ones):

    Requests, PromptTokens, CompletionTokens   endpoint, model   one generation (services/generation.py)
    TimeToFirstByte (ms)                        service=api       every request: until the status line
    UpstreamErrors                              service=api       an answer that carried a Workers AI failure

The `service` metrics have one fixed dimension set on purpose: an alarm watches one series, and
CloudWatch cannot sum a metric over dimension values (models, routes) inside an alarm.
"""

from __future__ import annotations

import json
import logging
import sys
import time

# The service-level names live in openai_cf.metrics (services count there too); re-exported here.
from openai_cf.metrics import (
    NAMESPACE,
    SERVICE,
    SERVICE_DIMENSIONS,
    TIME_TO_FIRST_BYTE,
    UPSTREAM_ERRORS,
    count_upstream_error,
    is_upstream,
    upstream_logger,
)

__all__ = [
    "NAMESPACE", "SERVICE", "SERVICE_DIMENSIONS", "TIME_TO_FIRST_BYTE", "UPSTREAM_ERRORS",
    "JsonFormatter", "configure_logging", "count_upstream_error", "is_upstream", "upstream_logger",
]  # fmt: skip

DIMENSIONS = ("endpoint", "model")
UNITS = {TIME_TO_FIRST_BYTE: "Milliseconds"}

FIELDS = (
    "endpoint",
    "request_id",
    "method",
    "path",
    "status",
    "latency_ms",
    "model",
    "stream",
    "n",
    "prompt_tokens",
    "completion_tokens",
    "inputs",
    "error",
    "service",
    "code",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
        metrics = getattr(record, "metrics", None)
        dimensions = getattr(record, "dimensions", DIMENSIONS)
        if isinstance(metrics, dict) and all(d in entry for d in dimensions):
            _add_emf(entry, metrics, int(record.created * 1000), tuple(dimensions))
        return json.dumps(entry, separators=(",", ":"))


def _add_emf(
    entry: dict[str, object], metrics: dict[str, float], timestamp_ms: int, dimensions: tuple[str, ...]
) -> None:
    values = {name: value for name, value in metrics.items() if value is not None}
    if not values:
        return
    entry.update(values)
    entry["_aws"] = {
        "Timestamp": timestamp_ms,
        "CloudWatchMetrics": [
            {
                "Namespace": NAMESPACE,
                "Dimensions": [list(dimensions)],
                "Metrics": [{"Name": name, "Unit": UNITS.get(name, "Count")} for name in values],
            }
        ],
    }


def configure_logging(level: str) -> None:
    """Install the JSON handler on the package logger once (idempotent)."""
    logger = logging.getLogger("openai_cf")
    logger.setLevel(level.upper())
    if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.propagate = False
