"""`kill -9` of `openai-cf serve` in the middle of a run, then a restart against the same AWS endpoint:
the run's message comes back after the visibility timeout, and the run completes exactly once
(one assistant message, one message-creation step). State lives in a moto server of this test
process (the session's), which outlives both `serve` processes as LocalStack or DynamoDB Local would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from openai import OpenAI

from bench.procs import free_port

from .conftest import TOKEN, local_aws


class Serve:
    """`openai-cf serve` as a user starts it, in its own process group."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Serve:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "openai_cf.local.cli", "serve", "--port", str(self.port)],
                env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                requests.get(f"http://127.0.0.1:{self.port}/v1/models", headers={"Authorization": f"Bearer {TOKEN}"},
                             timeout=1).raise_for_status()  # fmt: skip
                return self
            except requests.RequestException:
                time.sleep(0.1)
        raise AssertionError("serve did not start:\n" + self.log.read_text()[-3000:])

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


@pytest.fixture
def serve_env(tmp_path: Path) -> dict[str, str]:
    name = f"openai-cf-restart-{uuid.uuid4().hex[:8]}"
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_CF_", "CLOUDFLARE_", "AWS_"))}
    return {
        **inherited, "AWS_ENDPOINT_URL": local_aws(), "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1", "OPENAI_CF_TABLE": name, "OPENAI_CF_BUCKET": name,
        "OPENAI_CF_RUN_QUEUE": name, "OPENAI_CF_LOCAL_VISIBILITY_TIMEOUT": "2", "ACCESS_TOKEN": TOKEN,
        "OPENAI_CF_RUN_POLL_AFTER_MS": "50",
    }  # fmt: skip


@pytest.fixture
def servers() -> Iterator[list[Serve]]:
    started: list[Serve] = []
    yield started
    for server in started:
        server.kill()


def wait_for(client: OpenAI, thread_id: str, run_id: str, status: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    run = client.beta.threads.runs.retrieve(run_id, thread_id=thread_id)
    while run.status != status and time.monotonic() < deadline:
        time.sleep(0.05)
        run = client.beta.threads.runs.retrieve(run_id, thread_id=thread_id)
    return run


@pytest.mark.timeout(120)
def test_a_run_survives_kill_9_of_serve(serve_env: dict[str, str], servers: list[Serve], tmp_path: Path) -> None:
    port = free_port()
    servers.append(Serve(serve_env, port, tmp_path / "serve.log").start())
    client = OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=TOKEN, max_retries=0, timeout=10)
    # Given a run whose model is slow, taken by the executor
    assistant = client.beta.assistants.create(model="gpt-4o-mini")
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "emulate:delay_ms=2500 emulate:echo hi"}])
    run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    assert wait_for(client, thread.id, run.id, "in_progress", 15).status == "in_progress"
    # When serve is killed mid-generation and started again on the same endpoint
    servers[0].kill()
    servers.append(Serve(serve_env, port, tmp_path / "serve.log").start())
    # Then the run resumes within seconds and completes
    done = wait_for(client, thread.id, run.id, "completed", 30)
    assert done.status == "completed", (tmp_path / "serve.log").read_text()[-3000:]
    # Exactly once: one assistant message, one message-creation step
    answers = list(client.beta.threads.messages.list(thread.id, run_id=run.id))
    assert [m.content[0].text.value for m in answers] == ["hi"]  # type: ignore[union-attr]
    assert [s.type for s in client.beta.threads.runs.steps.list(run.id, thread_id=thread.id)] == ["message_creation"]
