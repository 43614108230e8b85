"""Benchmark 7: memory sizing — the functions under the CPU share Lambda gives each memory size.

Lambda's CPU follows memory (1,769 MB = one vCPU), while the functions need < 50 MB and a streamed
generation bills its whole wait: smaller memory is cheaper, at the price of slower CPU work. This
benchmark measures that price. For each size, the real function processes run in a CPU cgroup with
that size's share (`bench/cpuquota.py`), started as the Lambda Web Adapter starts them (`bash run.sh`,
every module byte-compiled); the emulator, moto and the client run outside it, at full speed:

- cold start of a text function (`chat_completions`) and a storage one (`threads`): process start →
  the adapter's readiness probe answered (init) → the first real request answered. Twice: all under
  the quota, and with init at full CPU and only the first request under it (a third-party
  measurement found Lambda's init faster than its handlers at the same size; AWS documents neither);
- a warm `chat_completions`: non-streamed overhead (bridge - direct to the emulator, interleaved as
  bench 1 does), and the first-token delay a stream adds (as bench 2 does);
- the run executor's handler on queued run steps (`bench/executor_step.py`).

Where no cgroup can be made (not root, e.g. CI), everything runs once at full speed and the wall
time at M MB is projected from the CPU time used: `wall + cpu x (1769/M - 1)`, labelled as such.
"""

from __future__ import annotations

import http.client
import json
import os
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from bench import cpuquota, procs, streaming
from bench.client import Target, interleaved, warm
from bench.coldstart import Bytecode
from bench.executor_step import PROGRAM as EXECUTOR_PROGRAM
from bench.firstreq import FIRST_REQUESTS, FirstRequest
from bench.overhead import CASES
from bench.sizing_report import Cold, Results, Steps, Warm, report
from bench.stats import ms

SIZES = (128, 256, 512, 1024, 1769)
QUICK_SIZES = (512,)  # one size exercises every path; the smoke test runs every bench in ~3 min
TEXT_FUNCTION = "chat_completions"
STORAGE_FUNCTION = "threads"
HELLO = [{"role": "user", "content": "Say hello in one short sentence."}]
COLD_REQUESTS = {
    TEXT_FUNCTION: FIRST_REQUESTS[TEXT_FUNCTION],
    STORAGE_FUNCTION: FirstRequest("POST", "/v1/threads", {"messages": HELLO}),
}
TABLE, BUCKET, QUEUE = "openai-cf-sizing", "openai-cf-sizing", "openai-cf-sizing-runs"
# What infra/constants.py gives the executor (not imported: bench does not depend on the CDK).
EXECUTOR_ENV = {"POWERTOOLS_SERVICE_NAME": "run_executor", "POWERTOOLS_METRICS_NAMESPACE": "openai-cf",
                "LOG_LEVEL": "INFO", "OPENAI_CF_RUN_MAX_RECEIVES": "5"}  # fmt: skip
START_TIMEOUT = 120.0  # a 128 MB share stretches a ~0.4 s start to ~6 s, more on a busy machine


def cpu_ms(pid: int) -> float:
    """CPU time (user + system, every thread) a live process has used, from /proc (10 ms ticks)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def _headers(path: str, body: bool) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {procs.ACCESS_TOKEN}"}
    if body:
        headers["Content-Type"] = "application/json"
    if path.startswith(("/v1/threads", "/v1/assistants")):
        headers["OpenAI-Beta"] = "assistants=v2"
    return headers


def call(conn: http.client.HTTPConnection, method: str, path: str, payload: Any = None) -> dict[str, Any]:
    body = None if payload is None else json.dumps(payload)
    conn.request(method, path, body, _headers(path, body is not None))
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"{method} {path}: HTTP {response.status}: {data[:300]!r}")
    answer: dict[str, Any] = json.loads(data)
    return answer


def _start(name: str, env: Mapping[str, str], group: cpuquota.CpuGroup | None) -> procs.Proc:
    port = procs.free_port()
    argv = ["bash", str(procs.run_sh(name))]
    return procs.Proc(name, group.wrap(argv) if group else argv, cwd=procs.FUNCTIONS_DIR / name,
                      env={**env, "PORT": str(port)}, port=port)  # fmt: skip


def cold_start(name: str, env: Mapping[str, str], group: cpuquota.CpuGroup | None, full_init: bool) -> Cold:
    """Start → readiness probe answered (as the adapter's `GET /healthz`, any status < 500) → first
    request answered. `full_init`: the process joins the group only after the probe."""
    proc = _start(name, env, None if full_init else group)
    try:
        sock = procs.connect_when_open(proc.port, timeout=START_TIMEOUT, proc=proc)
        conn = http.client.HTTPConnection(procs.HOST, proc.port, timeout=START_TIMEOUT)
        conn.sock = sock
        conn.request("GET", "/healthz")
        probe = conn.getresponse()
        probe.read()
        if probe.status >= 500:
            raise RuntimeError(f"readiness probe: HTTP {probe.status}")
        ready = time.perf_counter()
        init_cpu = cpu_ms(proc.pid)
        if full_init and group is not None:
            group.add(proc.pid)
        request = COLD_REQUESTS[name]
        call(conn, request.method, request.path, request.payload)
        answered = time.perf_counter()
        used = cpu_ms(proc.pid)
        conn.close()
        return Cold(ms(ready - proc.started), ms(answered - ready), used, init_cpu)
    except Exception as exc:
        raise RuntimeError(f"cold start of {name}: {exc}\n{proc.log_tail()}") from exc
    finally:
        proc.stop()


def _stream(target: Target, direct: bool) -> tuple[float, float]:
    content_of = streaming.direct_content if direct else streaming.bridge_content
    started, arrivals = target.stream(content_of)
    if len(arrivals) != streaming.TOKENS:
        raise RuntimeError(f"{target.name}: expected {streaming.TOKENS} content tokens, got {len(arrivals)}")
    return ms(arrivals[0] - started), ms(arrivals[-1] - started)


def warm_function(emulator: procs.Proc, env: Mapping[str, str], group: cpuquota.CpuGroup | None,
                  counts: dict[str, int]) -> Warm:  # fmt: skip
    """A warm chat_completions under the quota: non-streamed overhead, then streamed first-token delay."""
    case = CASES[0]
    app = _start(TEXT_FUNCTION, env, group)
    direct = Target.json("direct", emulator.port, case.upstream_path, case.upstream_payload, procs.EMULATOR_TOKEN)
    bridge = Target.json("bridge", app.port, case.path, case.payload, procs.ACCESS_TOKEN)
    stream_path = f"/client/v4/accounts/{procs.ACCOUNT}/ai/run/{streaming.UPSTREAM}"
    upstream = {"messages": streaming.MESSAGES, "max_tokens": 4096, "stream": True}
    direct_stream = Target.json("direct stream", emulator.port, stream_path, upstream, procs.EMULATOR_TOKEN)
    payload = {"model": streaming.MODEL, "messages": streaming.MESSAGES, "stream": True}
    bridge_stream = Target.json("bridge stream", app.port, "/v1/chat/completions", payload, procs.ACCESS_TOKEN)
    targets = [direct, bridge, direct_stream, bridge_stream]
    try:
        app.wait_open(timeout=START_TIMEOUT)
        warm([direct, bridge], counts["warmup"])
        throttled, cpu = group.throttled() if group else 0, cpu_ms(app.pid)
        rows = [row for _ in range(counts["runs"]) for row in interleaved([direct, bridge], counts["rounds"])]
        cpu_per_request = (cpu_ms(app.pid) - cpu) / len(rows)
        throttled = (group.throttled() - throttled) if group else 0
        firsts, lasts = [], []
        for i in range(counts["pairs"] + 1):
            order = (True, False) if i % 2 == 0 else (False, True)
            got = {d: _stream(direct_stream if d else bridge_stream, d) for d in order}
            if i > 0:  # the first pair warms the streaming path
                firsts.append(got[False][0] - got[True][0])
                lasts.append(got[False][1] - got[True][1])
        overhead = [ms(b - d) for d, b in rows]
        stalls = sum(1 for _, b in rows if ms(b) >= 30.0)  # the emulator is never throttled: the bridge's
        return Warm(overhead, cpu_per_request, stalls, len(rows), throttled, firsts, lasts)
    except Exception as exc:
        raise RuntimeError(f"warm {TEXT_FUNCTION}: {exc}\n{app.log_tail()}") from exc
    finally:
        for target in targets:
            target.close()
        app.stop()


class RunMaker:
    """Queues runs through the real assistants, threads and runs functions (full speed, outside any group)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.procs = [_start(name, env, None) for name in ("assistants", "threads", "runs")]
        for proc in self.procs:
            proc.wait_open(timeout=START_TIMEOUT)
        self.conns = {p.name: http.client.HTTPConnection(procs.HOST, p.port, timeout=60) for p in self.procs}
        assistant = {"model": "gpt-4o-mini", "instructions": "Be brief."}
        self.assistant_id = call(self.conns["assistants"], "POST", "/v1/assistants", assistant)["id"]
        self.made: list[tuple[str, str]] = []

    def queue(self, count: int) -> None:
        for _ in range(count):
            thread = call(self.conns["threads"], "POST", "/v1/threads", {"messages": HELLO})
            run = call(self.conns["runs"], "POST", f"/v1/threads/{thread['id']}/runs",
                       {"assistant_id": self.assistant_id})  # fmt: skip
            self.made.append((thread["id"], run["id"]))

    def check_completed(self) -> None:
        for thread_id, run_id in self.made:
            run = call(self.conns["runs"], "GET", f"/v1/threads/{thread_id}/runs/{run_id}")
            if run["status"] != "completed":
                raise RuntimeError(f"run {run_id} is {run['status']}: {run.get('last_error')}")

    def stop(self) -> None:
        for conn in self.conns.values():
            conn.close()
        for proc in self.procs:
            proc.stop()


def executor_steps(env: Mapping[str, str], group: cpuquota.CpuGroup | None, count: int) -> Steps:
    argv = [procs.PYTHON, "-c", EXECUTOR_PROGRAM, str(count)]
    done = subprocess.run(
        group.wrap(argv) if group else argv, cwd=procs.FUNCTIONS_DIR / "run_executor",
        env={**env, "PYTHONPATH": str(procs.ROOT)}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"run executor exited with {done.returncode}:\n{done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    steps = result["steps"]
    return Steps(ms(result["import"]), ms(result["import_cpu"]), ms(steps[0]["wall"]), ms(steps[0]["cpu"]),
                 [ms(s["wall"]) for s in steps[1:]], [ms(s["cpu"]) for s in steps[1:]])  # fmt: skip


@contextmanager
def world() -> Iterator[tuple[procs.Proc, dict[str, str]]]:
    """The emulator and moto (full speed), the storage provisioned; the functions' environment."""
    from openai_cf.local.provision import provision
    from openai_cf.settings import Settings

    emulator = procs.start_emulator()
    aws = procs.start_aws()
    with procs.running(emulator, aws):
        endpoint = procs.aws_env(aws.port)["AWS_ENDPOINT_URL"]
        settings = Settings(aws_endpoint_url=endpoint, aws_region="us-east-1", table_name=TABLE,
                            bucket_name=BUCKET, run_queue_name=QUEUE)  # fmt: skip
        queue_url = provision(settings)
        env = {**procs.function_env(emulator.port), **procs.aws_env(aws.port), **EXECUTOR_ENV,
               "OPENAI_CF_TABLE": TABLE, "OPENAI_CF_BUCKET": BUCKET, "OPENAI_CF_RUN_QUEUE_URL": queue_url}  # fmt: skip
        yield emulator, env


def _counts(quick: bool) -> dict[str, int]:
    if quick:
        return {"cold_rounds": 1, "runs": 1, "rounds": 20, "warmup": 5, "pairs": 2, "steps": 3}
    return {"cold_rounds": 5, "runs": 3, "rounds": 200, "warmup": 30, "pairs": 20, "steps": 8}


def measure(sizes: tuple[int, ...] | tuple[None], counts: dict[str, int]) -> Results:
    results = Results(sizes=sizes)
    bytecode = Bytecode()
    groups = {size: cpuquota.make(size) for size in sizes if size is not None}
    try:
        with world() as (emulator, base):
            env = bytecode.env(base, compiled=True)
            for name in COLD_REQUESTS:  # fills the bytecode cache: every later start is byte-compiled
                cold_start(name, env, None, full_init=False)
            subprocess.run([procs.PYTHON, "-c", "import handler"], cwd=procs.FUNCTIONS_DIR / "run_executor",
                           env=env, check=True, capture_output=True, timeout=120)  # fmt: skip
            variants = (False, True) if groups else (False,)
            for round_ in range(counts["cold_rounds"]):
                shift = round_ % len(sizes)
                for size in sizes[shift:] + sizes[:shift]:
                    for name in COLD_REQUESTS:
                        for full_init in variants if round_ % 2 == 0 else variants[::-1]:
                            sample = cold_start(name, env, groups.get(size) if size else None, full_init)
                            results.cold.setdefault((size, name, full_init), []).append(sample)
            maker = RunMaker(env)
            try:
                for size in sizes:
                    group = groups.get(size) if size else None
                    results.warm[size] = warm_function(emulator, env, group, counts)
                    maker.queue(counts["steps"])
                    results.steps[size] = executor_steps(env, group, counts["steps"])
                maker.check_completed()
            finally:
                maker.stop()
    finally:
        bytecode.close()
        for group in groups.values():
            group.remove()
    return results


def main(*, quick: bool = False) -> str:
    why_not = cpuquota.unavailable()
    sizes = QUICK_SIZES if quick else SIZES
    results = measure(sizes if why_not is None else (None,), _counts(quick))
    return report(results, sizes, why_not, cpuquota.describe())
