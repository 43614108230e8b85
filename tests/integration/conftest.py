"""The local stack as a user runs it: the API on uvicorn, the offline emulator behind it, the run
executor fed from its own SQS queue (as `serve` does it), and the official `openai` SDK in front.
Retries are off in the SDK so failures show at once."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache

import pytest
from openai import OpenAI

from openai_cf.api.app import create_app
from openai_cf.api.server import BackgroundServer
from openai_cf.executor.handler import make_handler
from openai_cf.local.aws import LocalAWS
from openai_cf.local.emulator import create_app as create_emulator
from openai_cf.local.emulator.journal import Journal
from openai_cf.local.poller import QueuePoller
from openai_cf.local.provision import provision
from openai_cf.services.container import build_services
from openai_cf.settings import Settings
from openai_cf.storage.aws import AwsClients

# The executors' EMF metric lines would reach the terminal between tests (their pollers run in the
# background); the unit tests cover metrics, and `serve` turns them off the same way.
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

TOKEN = "sk-test-token"
TABLE = "openai-cf-test"
BUCKET = "openai-cf-test"
EMULATOR_TOKEN = "emulator-token"


@pytest.fixture(scope="session")
def emulator() -> Iterator[BackgroundServer]:
    with BackgroundServer(create_emulator(api_token=EMULATOR_TOKEN)) as server:
        yield server


@pytest.fixture(scope="session")
def journal(emulator: BackgroundServer) -> Journal:
    """What the emulator saw of requests tagged `emulate:tag=NAME` (ended early, events sent)."""
    found: Journal = emulator.app.state.emulator.journal
    return found


@cache
def local_aws() -> str:
    """One embedded moto server for the whole run, with the table and bucket the API expects."""
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(name, value)
    url = LocalAWS().start({})
    provision(Settings(aws_endpoint_url=url, aws_region="us-east-1", table_name=TABLE, bucket_name=BUCKET))
    return url


def run_queue() -> str:
    """A new, empty run queue (each API server has its own, read by its own executor)."""
    name = f"openai-cf-runs-{uuid.uuid4().hex[:12]}"
    return provision(Settings(aws_endpoint_url=local_aws(), aws_region="us-east-1", table_name=TABLE,
                              bucket_name=BUCKET, run_queue_name=name, local_visibility_timeout=2))  # fmt: skip


def fresh_store() -> dict[str, object]:
    """Settings overrides for a new, empty table and bucket (for tests that count what is stored)."""
    name = f"openai-cf-{uuid.uuid4().hex[:12]}"
    provision(Settings(aws_endpoint_url=local_aws(), aws_region="us-east-1", table_name=name, bucket_name=name))
    return {"table_name": name, "bucket_name": name}


def settings_for(emulator: BackgroundServer, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "aws_endpoint_url": local_aws(),
        "aws_region": "us-east-1",
        "table_name": TABLE,
        "bucket_name": BUCKET,
        "access_tokens": (TOKEN,),
        "cloudflare_account_id": "test-account",
        "cloudflare_api_token": EMULATOR_TOKEN,
        "cloudflare_api_base_url": f"{emulator.url}/client/v4",
        "upstream_label": "emulator",
        "upstream_max_retries": 0,
        "image_fetch_allow_private": True,
        "max_request_bytes": 1024 * 1024,
        # Runs: quick polls and cancels, and a redelivery within seconds.
        "run_poll_after_ms": 50,
        "run_cancel_check_seconds": 0.1,
        "local_visibility_timeout": 2,
        **overrides,
    }
    return Settings.model_validate(values)


_executors: list[QueuePoller] = []


def start_executor(settings: Settings) -> QueuePoller:
    """The run executor's handler fed from `settings`' run queue, as `serve` runs it."""
    assert settings.run_queue_url
    sqs = AwsClients(region="us-east-1", endpoint_url=settings.aws_endpoint_url).client("sqs")
    poller = QueuePoller(
        sqs, settings.run_queue_url, make_handler(build_services(settings)),
        visibility_timeout=settings.local_visibility_timeout,
    )  # fmt: skip
    _executors.append(poller.start())
    return poller


def start_api(emulator: BackgroundServer, **overrides: object) -> BackgroundServer:
    settings = settings_for(emulator, **{"run_queue_url": run_queue(), **overrides})
    start_executor(settings)
    return BackgroundServer(create_app(settings=lambda: settings)).start()


@pytest.fixture(scope="session", autouse=True)
def _stop_executors() -> Iterator[None]:
    yield
    # Each stop waits out its poller's long poll: all at once, not one after the other.
    with ThreadPoolExecutor() as pool:
        list(pool.map(QueuePoller.stop, _executors))


@pytest.fixture(scope="session")
def sdk_for(emulator: BackgroundServer) -> Iterator[Callable[..., OpenAI]]:
    """An SDK client for an extra API server with other settings (stopped at the session's end)."""
    servers: list[BackgroundServer] = []

    def make(**overrides: object) -> OpenAI:
        servers.append(start_api(emulator, **overrides))
        return OpenAI(base_url=f"{servers[-1].url}/v1", api_key=TOKEN, max_retries=0, timeout=20)

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def api(emulator: BackgroundServer) -> Iterator[BackgroundServer]:
    server = start_api(emulator)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def base_url(api: BackgroundServer) -> str:
    return f"{api.url}/v1"


@pytest.fixture
def client(base_url: str) -> Iterator[OpenAI]:
    with OpenAI(base_url=base_url, api_key=TOKEN, max_retries=0, timeout=20) as sdk:
        yield sdk
