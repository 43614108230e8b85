"""Benchmark 1: latency the bridge adds to a non-streaming request (chat, then embeddings).

The emulator and the function app run as separate processes on loopback (the app exactly as its
`run.sh` starts it, one uvicorn worker, pointed at the emulator). Each round sends the same request (a) straight to
the emulator as the Workers AI request the bridge would send, (b) through the bridge, and (c)
through `bench.forwarder_app`, a bare forwarder on the same stack (the floor); the overhead is
bridge - direct per round, the floor's is forwarder - direct. The sending order rotates.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import Any

from bench import procs
from bench.client import Target, interleaved, warm
from bench.stats import fmt, median, ms, percentile, table, verdict

CHAT_MODEL = "gpt-4o-mini"
CHAT_UPSTREAM = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
EMBED_MODEL = "text-embedding-3-small"
EMBED_UPSTREAM = "@cf/baai/bge-base-en-v1.5"
MESSAGES = [{"role": "user", "content": "Say hello in one short sentence."}]
EMBED_INPUT = "The quick brown fox jumps over the lazy dog."
TARGET_P50_MS = 2.0
TARGET_P99_MS = 10.0
STALL_MS = 30.0


@dataclass(frozen=True)
class Case:
    title: str
    function: str
    path: str
    payload: dict[str, Any]
    upstream_model: str
    upstream_payload: dict[str, Any]

    @property
    def upstream_path(self) -> str:
        return f"/client/v4/accounts/{procs.ACCOUNT}/ai/run/{self.upstream_model}"


CASES = (
    Case(
        f"non-streaming chat (`{CHAT_MODEL}` → `{CHAT_UPSTREAM}`)",
        "chat_completions",
        "/v1/chat/completions",
        {"model": CHAT_MODEL, "messages": MESSAGES},
        CHAT_UPSTREAM,
        # What ChatService sends for this request: the messages and the default max_tokens.
        {"messages": MESSAGES, "max_tokens": 4096},
    ),
    Case(
        f"embeddings (`{EMBED_MODEL}` → `{EMBED_UPSTREAM}`, one 768-d vector)",
        "embeddings",
        "/v1/embeddings",
        {"model": EMBED_MODEL, "input": EMBED_INPUT},
        EMBED_UPSTREAM,
        {"text": [EMBED_INPUT]},
    ),
)


@dataclass
class RunResult:
    direct: list[float]
    bridge: list[float]
    floor: list[float]

    @property
    def overhead(self) -> list[float]:
        return [b - d for d, b in zip(self.direct, self.bridge, strict=True)]

    @property
    def floor_overhead(self) -> list[float]:
        return [f - d for d, f in zip(self.direct, self.floor, strict=True)]

    def stats(self) -> list[float]:
        series = (self.direct, self.bridge, self.overhead, self.floor_overhead)
        return [percentile(s, q) for s in series for q in (50, 99)]


def run_case(case: Case, emulator: procs.Proc, forwarder: procs.Proc, *, runs: int, rounds: int, warmup: int) -> str:
    app = procs.start_function(case.function, emulator.port)
    direct = Target.json("direct", emulator.port, case.upstream_path, case.upstream_payload, procs.EMULATOR_TOKEN)
    bridge = Target.json("bridge", app.port, case.path, case.payload, procs.ACCESS_TOKEN)
    floor = Target.json("floor", forwarder.port, case.upstream_path, case.upstream_payload, procs.EMULATOR_TOKEN)
    targets = [direct, bridge, floor]
    results: list[RunResult] = []
    with procs.running(app):
        try:
            warm(targets, warmup)
            own = tuple(p for p in (direct.local_port,) if p is not None)
            before = procs.tcp_states_to(emulator.port, own)
            for _ in range(runs):
                gc.collect()
                gc.disable()
                try:
                    samples = [[ms(x) for x in row] for row in interleaved(targets, rounds)]
                finally:
                    gc.enable()
                results.append(RunResult(*([row[k] for row in samples] for k in range(3))))
            after = procs.tcp_states_to(emulator.port, own)
            hygiene = _hygiene(
                targets, after, before, (procs.listen_backlog(emulator.port), procs.listen_backlog(app.port))
            )
        finally:
            for target in targets:
                target.close()
    return _report(case, results, rounds, hygiene)


def _hygiene(
    targets: list[Target], after: dict[str, int], before: dict[str, int], backlogs: tuple[int | None, int | None]
) -> str:
    connects = ", ".join(f"{t.name} {t.connects}" for t in targets)
    closed = after.get("TIME_WAIT", 0) - before.get("TIME_WAIT", 0)
    return (
        f"client connections opened: {connects}; upstream connections to the emulator (bridge + forwarder) "
        f"open at the end: {after.get('ESTABLISHED', 0)}, closed during the runs: {closed}; listen backlog: "
        f"emulator {backlogs[0]}, app {backlogs[1]}"
    )


def _report(case: Case, results: list[RunResult], rounds: int, hygiene: str) -> str:
    rows = []
    per_run = [r.stats() for r in results]
    for i, stats in enumerate(per_run, start=1):
        rows.append([str(i), *(fmt(v) for v in stats)])
    med = [median([s[k] for s in per_run]) for k in range(8)]
    rows.append(["**median of runs**", *(fmt(v) for v in med)])
    rows.append(
        [
            "target",
            "",
            "",
            "",
            "",
            f"≤ {TARGET_P50_MS:g} ({verdict(med[4], TARGET_P50_MS)})",
            f"≤ {TARGET_P99_MS:g} ({verdict(med[5], TARGET_P99_MS)})",
            "",
            "",
        ]
    )
    header = [
        "run",
        "direct p50",
        "direct p99",
        "bridge p50",
        "bridge p99",
        "**overhead p50**",
        "**overhead p99**",
        "floor overhead p50",
        "floor overhead p99",
    ]
    everything = [x for r in results for x in (*r.direct, *r.bridge, *r.floor)]
    slow = sum(1 for x in everything if x >= STALL_MS)
    own_code = median([a - b for a, b in zip((s[4] for s in per_run), (s[6] for s in per_run), strict=True)])
    return "\n".join(
        [
            f"#### {case.title}",
            "",
            f"{rounds} interleaved rounds per run, {len(results)} runs; ms. Direct = the same Workers AI request "
            "sent straight to the emulator; overhead = bridge - direct within each round; floor = a bare "
            "Starlette forwarder on the same stack and start command (`bench/forwarder_app.py`: uvicorn, "
            "requests.Session in the threadpool) - direct.",
            "",
            table(header, rows),
            "",
            f"The project's own code (overhead - floor, p50) adds {own_code:.2f} ms; the rest is the stack.",
            "",
            f"Checks: requests ≥ {STALL_MS:g} ms (delayed-ACK stall signature): {slow} of {len(everything)}; "
            f"{hygiene}.",
        ]
    )


def main(*, quick: bool = False) -> str:
    runs, rounds, warmup = (2, 20, 5) if quick else (5, 300, 50)
    emulator = procs.start_emulator()
    with procs.running(emulator):
        env = {**procs.function_env(emulator.port), "FORWARD_TO": f"http://{procs.HOST}:{emulator.port}"}
        forwarder = procs.start_staged("forwarder", procs.BENCH_DIR / "forwarder_app.py", env)
        with procs.running(forwarder):
            sections = [run_case(case, emulator, forwarder, runs=runs, rounds=rounds, warmup=warmup) for case in CASES]
    return "\n\n".join(["### 1. Bridge overhead (non-streaming)", *sections])


def floors_main(*, quick: bool = False) -> str:
    """Extra (not in the default run): the floor with each upstream HTTP client, next to the bridge."""
    runs, rounds, warmup = (1, 20, 5) if quick else (3, 300, 50)
    case = CASES[0]
    emulator = procs.start_emulator()
    with procs.running(emulator):
        base = {**procs.function_env(emulator.port), "FORWARD_TO": f"http://{procs.HOST}:{emulator.port}"}
        clients = ("requests", "urllib3", "http.client")
        servers = [
            procs.start_staged(f"forwarder-{c}", procs.BENCH_DIR / "forwarder_app.py", {**base, "FORWARD_CLIENT": c})
            for c in clients
        ]
        app = procs.start_function(case.function, emulator.port)
        with procs.running(app, *servers):
            direct = Target.json(
                "direct", emulator.port, case.upstream_path, case.upstream_payload, procs.EMULATOR_TOKEN
            )
            targets = [
                direct,
                Target.json("bridge", app.port, case.path, case.payload, procs.ACCESS_TOKEN),
                *(
                    Target.json(f"floor, {c}", s.port, case.upstream_path, case.upstream_payload, procs.EMULATOR_TOKEN)
                    for c, s in zip(clients, servers, strict=True)
                ),
            ]
            try:
                warm(targets, warmup)
                per_run: list[list[list[float]]] = []
                for _ in range(runs):
                    gc.collect()
                    gc.disable()
                    try:
                        rows = [[ms(x) for x in row] for row in interleaved(targets, rounds)]
                    finally:
                        gc.enable()
                    per_run.append([[row[k] - row[0] for row in rows] for k in range(1, len(targets))])
            finally:
                for target in targets:
                    target.close()
    table_rows = [
        [
            f"{target.name}",
            *(fmt(median([percentile(run[k], q) for run in per_run])) for q in (50, 99)),
        ]
        for k, target in enumerate(targets[1:])
    ]
    return "\n".join(
        [
            "### Extra: overhead floor by upstream HTTP client (non-streaming chat)",
            "",
            f"{rounds} interleaved rounds per run, {runs} runs, median of runs; ms over the direct request. The floor "
            "is `bench/forwarder_app.py` (same server stack and start command as the bridge) with each client.",
            "",
            table(["path", "overhead p50", "overhead p99"], table_rows),
        ]
    )
