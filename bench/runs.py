"""Benchmark 6: a run's latency from `POST …/runs` to `completed`, queue included.

`openai-cf serve` runs as a user starts it (its embedded moto, the offline emulator answering at
once, the run executor fed from SQS by its poller). Each sample creates a thread (not timed), then
times `POST /v1/threads/{id}/runs` until a `GET` of the run reads `completed`, polling every 10 ms
(the SDK polls as `openai-poll-after-ms` says, 500 ms by default: that wait is the client's, not
the run's).
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import time
from typing import Any

from bench import procs, stats
from bench.stats import fmt, median, ms, percentile, verdict

TARGET_P50_MS = 300.0
POLL_SECONDS = 0.01


class Api:
    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection(procs.HOST, port, timeout=60)
        self.headers = {
            "Authorization": f"Bearer {procs.ACCESS_TOKEN}",
            "Content-Type": "application/json",
            "OpenAI-Beta": "assistants=v2",
        }

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        self.conn.request(method, path, json.dumps(body) if body is not None else None, self.headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {response.status}: {data[:300]!r}")
        answer: dict[str, Any] = json.loads(data)
        return answer


def _serve() -> procs.Proc:
    port = procs.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_CF_", "CLOUDFLARE_", "AWS_"))}
    env.update(ACCESS_TOKEN=procs.ACCESS_TOKEN, LOG_LEVEL="WARNING")
    argv = [sys.executable, "-m", "openai_cf.local.cli", "serve", "--host", procs.HOST, "--port", str(port)]
    proc = procs.Proc("serve", argv, cwd=procs.ROOT, env=env, port=port)
    proc.wait_open(timeout=60)
    return proc


def _one_run(api: Api, assistant_id: str) -> float:
    thread = api.call("POST", "/v1/threads", {"messages": [{"role": "user", "content": "Hello"}]})
    started = time.perf_counter()
    run = api.call("POST", f"/v1/threads/{thread['id']}/runs", {"assistant_id": assistant_id})
    while run["status"] in ("queued", "in_progress"):
        time.sleep(POLL_SECONDS)
        run = api.call("GET", f"/v1/threads/{thread['id']}/runs/{run['id']}")
    took = time.perf_counter() - started
    if run["status"] != "completed":
        raise RuntimeError(f"run ended {run['status']}: {run.get('last_error')}")
    return took


def main(*, quick: bool = False) -> str:
    runs, rounds = (1, 3) if quick else (3, 30)
    server = _serve()
    with procs.running(server):
        api = Api(server.port)
        assistant = api.call("POST", "/v1/assistants", {"model": "gpt-4o-mini", "instructions": "Be brief."})
        _one_run(api, assistant["id"])  # warm: first imports, first connections
        per_run = [[_one_run(api, assistant["id"]) for _ in range(rounds)] for _ in range(runs)]
    samples = [s for run in per_run for s in run]
    rows = [
        [str(i + 1), fmt(ms(median(run))), fmt(ms(percentile(run, 90))), fmt(ms(max(run)))]
        for i, run in enumerate(per_run)
    ]
    rows.append(["**all**", fmt(ms(median(samples))), fmt(ms(percentile(samples, 90))), fmt(ms(max(samples)))])
    p50 = ms(median(samples))
    return "\n".join(
        [
            "### 6. Run latency: create to completed, through SQS",
            "",
            f"`openai-cf serve` (embedded moto, offline emulator, queue poller); {runs} run(s) of {rounds} runs, "
            f"each on a new thread, polled every {POLL_SECONDS * 1000:.0f} ms; ms.",
            "",
            stats.table(["run", "p50", "p90", "max"], rows),
            "",
            f"p50 **{fmt(p50)} ms** (target ≤ {TARGET_P50_MS:.0f}: {verdict(p50, TARGET_P50_MS)}).",
        ]
    )
