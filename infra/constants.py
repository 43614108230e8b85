"""Every number and name the CDK app decides, in one place."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
# The shared package in Lambda layer layout (python/openai_cf), as checked in.
CORE_LAYER_SOURCE = REPO_ROOT / "layers" / "core"
# The dependency layer's pins (with hashes), made from pyproject.toml by `make layer-lock`.
DEPENDENCY_LOCK = REPO_ROOT / "layers" / "dependencies" / "requirements.txt"
# Names the Python 3.13 the layers are byte-compiled with, when none is found by itself.
LAYER_PYTHON_ENV = "OPENAI_CF_LAYER_PYTHON"

STACK_ID = "OpenAICf"

# Functions
RUNTIME = lambda_.Runtime.PYTHON_3_13
ARCHITECTURE = lambda_.Architecture.ARM_64
# Wheels in the built layer must match RUNTIME and ARCHITECTURE.
LAYER_PIP_PLATFORM = "manylinux2014_aarch64"
LAYER_PYTHON_VERSION = "3.13"
MEMORY_MB = 1024
# API Gateway streams for up to 15 minutes; the function may run as long.
FUNCTION_TIMEOUT = Duration.minutes(15)
LOG_RETENTION = logs.RetentionDays.ONE_MONTH

# Lambda Web Adapter (https://github.com/aws/aws-lambda-web-adapter), published by AWS as a public layer.
LWA_LAYER_ACCOUNT = "753240598075"
LWA_LAYER_NAME = "LambdaAdapterLayerArm64"
LWA_LAYER_VERSION = 30
APP_PORT = "8000"
# Readiness: the adapter GETs this path (without a token) until the app answers with one of the healthy
# statuses. Any HTTP answer means uvicorn has imported the app and is serving, which is all readiness
# means here: the app rejects the tokenless probe with 401 (or 404) before any handler or upstream call,
# and 401 must count as ready. "100-499" is the adapter's 1.x default, written out so that a change of
# default cannot turn every cold start into a readiness timeout.
READINESS_CHECK_PATH = "/healthz"
READINESS_CHECK_HEALTHY_STATUS = "100-499"
WEB_ADAPTER_ENVIRONMENT: dict[str, str] = {
    "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
    "AWS_LWA_INVOKE_MODE": "response_stream",
    # The adapter reads AWS_LWA_PORT (PORT is its deprecated fallback); run.sh hands PORT to uvicorn.
    "AWS_LWA_PORT": APP_PORT,
    "PORT": APP_PORT,
    "AWS_LWA_READINESS_CHECK_PATH": READINESS_CHECK_PATH,
    "AWS_LWA_READINESS_CHECK_HEALTHY_STATUS": READINESS_CHECK_HEALTHY_STATUS,
}
# The function's handler is the script the adapter's /opt/bootstrap executes.
HANDLER = "run.sh"

# API Gateway
STAGE_NAME = "prod"
INTEGRATION_TIMEOUT = Duration.minutes(15)
# Request bodies of these types reach Lambda base64-encoded (uploads); never */*, or JSON would be too.
# Responses stream, so they need no binary media types.
BINARY_MEDIA_TYPES = ("multipart/form-data", "application/octet-stream", "application/binary", "audio/*")

# Secrets: two, each read only by the functions that need it (openai_cf.credentials reads them
# through a cache with a TTL). The access token, generated at creation: the bearer token clients
# send (several, comma-separated, during a rotation). Every HTTP function reads it.
ACCESS_TOKEN_SECRET_ENV = "OPENAI_CF_ACCESS_TOKEN_SECRET_ARN"  # noqa: S105 (a variable name, not a secret)
# The Cloudflare API token, filled in by the operator after the first deploy (the bare token, or
# this JSON object with it). Until then the placeholder's empty value reads as "not configured".
# Never change the placeholder: a changed SecretString in the template would overwrite the token.
CLOUDFLARE_SECRET_ENV = "OPENAI_CF_CLOUDFLARE_SECRET_ARN"  # noqa: S105 (a variable name, not a secret)
CLOUDFLARE_SECRET_PLACEHOLDER = '{"CLOUDFLARE_API_TOKEN": ""}'  # noqa: S105 (an empty placeholder)

# Storage: the table's keys mirror openai_cf.local.provision (what `serve` creates in moto).
TABLE_ENV = "OPENAI_CF_TABLE"
BUCKET_ENV = "OPENAI_CF_BUCKET"
TABLE_TTL_ATTRIBUTE = "ttl"
# What each function may do to the table and the bucket: infra/constructs/storage.py (ACCESS).
# File bytes (openai_cf.storage.files.FileRecord.blob_key), also of files the Uploads API assembles.
FILES_PREFIX = "files/"
# Generated images (the images endpoints write them here). OpenAI's image URLs are valid for an
# hour and nothing refers to an image afterwards, so a day (a lifecycle rule's shortest expiry)
# keeps the bucket from growing with every generation.
IMAGES_PREFIX = "images/"
IMAGES_EXPIRY = Duration.days(1)
# Part bytes of the Uploads API (openai_cf.storage.uploads.PARTS_PREFIX). An upload expires after an
# hour, so a day-old part belongs to nothing; nor does a day-old unfinished S3 multipart upload.
UPLOAD_PARTS_PREFIX = "uploads/"
UPLOAD_PARTS_EXPIRY = Duration.days(1)
INCOMPLETE_MULTIPART_EXPIRY = Duration.days(1)

# Runs: the run executor is a plain Lambda handler (no Web Adapter), fed by the run queue.
EXECUTOR_NAME = "run_executor"
EXECUTOR_HANDLER = "handler.handler"
# One step is one model call (bounded by the upstream timeouts and retries); a function timeout of
# its own, kept at Lambda's maximum, leaves a long generation room.
EXECUTOR_TIMEOUT = Duration.minutes(15)
# One step per invocation: steps of a batch run one after the other, so a bigger batch would share
# the timeout between several long generations (and one slow run would hold up the others).
EXECUTOR_BATCH_SIZE = 1
# AWS's rule for queues feeding Lambda: at least six times the function timeout, so retries of a
# throttled invocation never see the message reappear while a first attempt is still working.
RUN_QUEUE_VISIBILITY = Duration.minutes(EXECUTOR_TIMEOUT.to_minutes() * 6)
# A run's message moves to the dead-letter queue after this many deliveries, where the dead-letter
# function fails its run (never stuck).
RUN_QUEUE_MAX_RECEIVES = 5
RUN_DLQ_RETENTION = Duration.days(14)
# The dead-letter function: a few reads and conditional writes per message.
DEAD_LETTERS_NAME = "run_dead_letters"
DEAD_LETTERS_HANDLER = "handler.handler"
DEAD_LETTERS_TIMEOUT = Duration.minutes(1)
DEAD_LETTERS_BATCH_SIZE = 10
# AWS's rule for queues feeding Lambda, as for the run queue: six times the function timeout.
RUN_DLQ_VISIBILITY = Duration.minutes(DEAD_LETTERS_TIMEOUT.to_minutes() * 6)
DEAD_LETTERS_ENVIRONMENT: dict[str, str] = {
    "POWERTOOLS_SERVICE_NAME": DEAD_LETTERS_NAME,
    "POWERTOOLS_METRICS_NAMESPACE": "openai-cf",
    "LOG_LEVEL": "INFO",
}
RUN_QUEUE_URL_ENV = "OPENAI_CF_RUN_QUEUE_URL"
EXECUTOR_ENVIRONMENT: dict[str, str] = {
    "POWERTOOLS_SERVICE_NAME": EXECUTOR_NAME,
    "POWERTOOLS_METRICS_NAMESPACE": "openai-cf",
    "LOG_LEVEL": "INFO",
    # The executor fails a run whose message's last delivery failed too (before it goes to the DLQ).
    "OPENAI_CF_RUN_MAX_RECEIVES": str(RUN_QUEUE_MAX_RECEIVES),
}

# CORS (context cors_allowed_origins): the functions read the allowed origins from this variable.
CORS_ORIGINS_ENV = "OPENAI_CF_CORS_ALLOWED_ORIGINS"

# Monitoring (infra/constructs/monitoring.py). Every alarm looks at 5-minute windows: short enough to
# hear of an outage while it lasts, long enough that one slow or failed request is not a page.
ALARM_PERIOD = Duration.minutes(5)
# Error rates are percentages of the requests in a window, computed only from this many requests
# on: below it, one failure is not a rate (with 3 requests, one 502 would be 33 %).
ALARM_MIN_REQUESTS = 10
API_5XX_RATE_PERCENT = 5
UPSTREAM_ERROR_RATE_PERCENT = 10
# Stage throttling answered this many 429s in a window: clients outgrow throttle_rate_limit.
GATEWAY_THROTTLES = 10
# Time to the status line, p99, in three windows in a row: a streamed answer's first event, or a
# whole buffered answer (a long non-streamed generation is slow by nature, hence the margin).
TIME_TO_FIRST_BYTE_P99_MS = 30_000
LATENCY_EVALUATION_PERIODS = 3
# The dead-letter function settles a message within a minute (retrying after its visibility
# timeout): one still there after three windows is stuck.
DEAD_LETTER_EVALUATION_PERIODS = 3
# CloudWatch alarms take at most 10 metrics in one math expression.
ALARM_MAX_METRICS = 10

# Memory per function, chosen by measurement: `python -m bench sizing` runs each function under the
# CPU share Lambda gives each size (1,769 MB = one vCPU, less = that fraction of one); figures and
# reasoning in docs/deploying.md, "Memory and cost". Every function peaks under ~50 MB of its own, so memory buys
# CPU only, and Lambda bills memory x wall time: a second spent waiting on the model costs in
# proportion to memory, a second of our own CPU work costs the same at any size below 1,769 MB
# (it just takes longer at smaller ones).
# - 512 MB where billed time is mostly waiting on a model (streamed generations, embeddings, streamed
#   runs, the executor's steps): half of 1 GB's cost for every waiting second, for a cold start
#   ~0.4-0.5 s slower (0.9-1.2 s measured) and the same median overhead and first-token delay.
#   512 MB also leaves room for the image fetches chat may do (~100 MB at the peak, settings.py).
# - 1,024 MB where billed time is our own CPU and DynamoDB/S3 round trips (short requests, the
#   catalogue, file bytes): less memory would save little (API Gateway's $3.50 per million requests
#   outweighs it) and slow the boto3-heavy cold starts (0.7-1.0 s at 1 GB, 1.5-2.0 s at 512 MB); `uploads`
#   also joins ~16 MiB per completion and streams S3 bytes, which wants the CPU and the headroom.
# A function not listed (a route family added later) gets MEMORY_MB until it is measured.
FUNCTION_MEMORY_MB: dict[str, int] = {
    "chat_completions": 512,
    "completions": 512,
    "embeddings": 512,
    # Waits on Whisper or a speech model; holds one upload of at most ~4.4 MiB (plus its base64).
    "audio": 512,
    "moderations": 512,  # one Llama Guard call per input
    "runs": 512,  # stream=true runs hold the function for the whole generation
    EXECUTOR_NAME: 512,  # each step waits on one model call
    # Off the request path and rare (a run's message given up on): size hardly matters; 1 GB keeps
    # its Powertools/boto3 cold start short.
    DEAD_LETTERS_NAME: 1024,
    "models": 1024,
    "assistants": 1024,
    "threads": 1024,
    "files": 1024,
    "uploads": 1024,
    # Mostly waits on Workers AI (seconds per image); up to ten images of a few MB each fit in 512 MB.
    "images": 512,
}
