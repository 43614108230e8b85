"""Benchmark 7's results, their projection where nothing could be measured, its tables and the price model.

Projection (no CPU cgroup here): a figure measured at full speed, `wall`, whose process used `cpu` ms
of CPU, would take `wall + cpu x (1769/M - 1)` at M MB < 1,769: the same waits, the CPU work
stretched by the share. It is the fluid model of CFS; a real quota also stalls whole periods, so
measured p99s under a quota come out worse than projected ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.cpuquota import FULL_VCPU_MB, PERIOD_US, share
from bench.stats import fmt, median, percentile, table
from bench.streaming import TOKENS

# us-east-1 list prices (free tiers left out), as on aws.amazon.com/lambda/pricing/ and
# aws.amazon.com/api-gateway/pricing/; unchanged since arm64 launched (2021).
LAMBDA_ARM_USD_PER_GB_SECOND = 0.0000133334  # the first 7.5 billion GB-s a month
LAMBDA_USD_PER_MILLION_REQUESTS = 0.20
REST_API_USD_PER_MILLION = 3.50  # the first 333 million a month
PRICES_AS_OF = "us-east-1 list prices (aws.amazon.com/lambda/pricing), as of 2026-11-29"
REFERENCE_MB = 1024  # the size every function had before it was measured


@dataclass
class Cold:
    init: float  # ms, process start → readiness probe answered
    first: float  # ms, probe answered → first real request answered
    cpu: float  # ms of CPU the process had used at the first answer
    init_cpu: float  # ms of CPU it had used at the probe

    @property
    def total(self) -> float:
        return self.init + self.first


@dataclass
class Warm:
    overhead: list[float]  # ms, bridge - direct, one per interleaved round
    cpu_per_request: float  # ms of the function's CPU per non-streamed request
    stalls: int  # requests through the bridge that took ≥ 30 ms
    requests: int  # interleaved rounds measured
    throttled: int  # CFS periods in which the function ran out of quota during them
    first_token: list[float]  # ms a stream's first token arrives later through the bridge
    last_token: list[float]


@dataclass
class Steps:
    import_ms: float
    import_cpu: float
    cold: float
    cold_cpu: float
    warm: list[float]
    warm_cpu: list[float]


@dataclass
class Results:
    sizes: tuple[int, ...] | tuple[None]  # (None,): measured once at full speed, to be projected
    cold: dict[tuple[int | None, str, bool], list[Cold]] = field(default_factory=dict)
    warm: dict[int | None, Warm] = field(default_factory=dict)
    steps: dict[int | None, Steps] = field(default_factory=dict)


def stretch(wall: float, cpu: float, memory_mb: int) -> float:
    """The fluid projection of `wall` (of which `cpu` was CPU work at full speed) to `memory_mb`."""
    return wall + cpu * max(0.0, FULL_VCPU_MB / memory_mb - 1)


def usd_per_million(seconds: float, memory_mb: int) -> float:
    """Lambda arm64 compute plus request charges for a million requests of `seconds` each."""
    return 1e6 * seconds * memory_mb / 1024 * LAMBDA_ARM_USD_PER_GB_SECOND + LAMBDA_USD_PER_MILLION_REQUESTS


def _size_cells(size: int) -> list[str]:
    return [f"{size:,} MB", f"{share(size):.2f}"]


def _cold_rows(results: Results, sizes: tuple[int, ...], names: list[str]) -> list[list[str]]:
    rows = []
    for size in sizes:
        for name in names:
            if results.sizes == (None,):
                got = results.cold[(None, name, False)]
                init = median([stretch(s.init, s.init_cpu, size) for s in got])
                first = median([stretch(s.first, s.cpu - s.init_cpu, size) for s in got])
                full_init = median([s.init + stretch(s.first, s.cpu - s.init_cpu, size) for s in got])
                worst = max(stretch(s.total, s.cpu, size) for s in got)
            else:
                got = results.cold[(size, name, False)]
                init, first = median([s.init for s in got]), median([s.first for s in got])
                full_init = median([s.total for s in results.cold[(size, name, True)]])
                worst = max(s.total for s in got)
            total = init + first
            rows.append([*_size_cells(size), f"`{name}`", fmt(init, 0), fmt(first, 0), f"**{fmt(total, 0)}**",
                         fmt(worst, 0), fmt(full_init, 0), fmt(median([s.cpu for s in got]), 0)])  # fmt: skip
    return rows


def _warm_rows(results: Results, sizes: tuple[int, ...]) -> list[list[str]]:
    rows = []
    for size in sizes:
        w = results.warm[None if results.sizes == (None,) else size]
        add = 0.0 if results.sizes != (None,) else stretch(0.0, w.cpu_per_request, size)
        p50, p99 = percentile(w.overhead, 50) + add, percentile(w.overhead, 99) + add
        stalls = "n/a" if results.sizes == (None,) else f"{w.stalls} of {w.requests}"
        throttled = "n/a" if results.sizes == (None,) else str(w.throttled)
        rows.append([*_size_cells(size), f"**{fmt(p50)}**", fmt(p99), fmt(w.cpu_per_request), stalls, throttled,
                     fmt(median(w.first_token) + add), fmt(percentile(w.first_token, 99) + add),
                     fmt(median(w.last_token) + add)])  # fmt: skip
    return rows


def _step_rows(results: Results, sizes: tuple[int, ...]) -> list[list[str]]:
    rows = []
    for size in sizes:
        s = results.steps[None if results.sizes == (None,) else size]
        projected = results.sizes == (None,)
        warm = [stretch(w, c, size) if projected else w for w, c in zip(s.warm, s.warm_cpu, strict=True)]
        cells = (
            [stretch(s.import_ms, s.import_cpu, size), stretch(s.cold, s.cold_cpu, size)]
            if projected
            else [s.import_ms, s.cold]
        )
        rows.append([*_size_cells(size), fmt(cells[0], 0), fmt(cells[1], 0), fmt(median(warm), 0),
                     fmt(median(s.warm_cpu), 1)])  # fmt: skip
    return rows


COST_HEADER = ["memory", "GB-s of a 20 s stream", "$ per million 1 s requests", "$ per million 20 s requests",
               f"20 s vs {REFERENCE_MB:,} MB"]  # fmt: skip


def cost_table(sizes: tuple[int, ...]) -> str:
    rows = []
    for size in sorted({*sizes, REFERENCE_MB}):
        one, twenty = usd_per_million(1, size), usd_per_million(20, size)
        rows.append([f"{size:,} MB", fmt(20 * size / 1024, 1), fmt(one), fmt(twenty),
                     f"{100 * twenty / usd_per_million(20, REFERENCE_MB):.0f} %"])  # fmt: skip
    return "\n".join(
        [
            f"What the wait costs (Lambda arm64, {PRICES_AS_OF}: ${LAMBDA_ARM_USD_PER_GB_SECOND:.10f} per GB-second, "
            f"${LAMBDA_USD_PER_MILLION_REQUESTS:.2f} per million requests; free tier left out). A streamed "
            "generation bills every second it waits on the model, whatever the CPU does. API Gateway REST adds "
            f"${REST_API_USD_PER_MILLION:.2f} per million requests at every size.",
            "",
            table(COST_HEADER, rows),
        ]
    )


def _intro(results: Results, why_not: str | None, how: str) -> str:
    if results.sizes == (None,):
        return (
            f"**Projected, not measured**: no CPU cgroup could be made here ({why_not}). Every figure was "
            "measured once at full speed, and its CPU work (user + system time of the function's process) "
            f"stretched to each size's share: wall + CPU x ({FULL_VCPU_MB}/M - 1). This fluid model is right for "
            "long CPU work (cold starts) but overstates the median of short requests (a quota lets work that "
            "fits in one period run at full speed) and understates p99s (it misses whole-period stalls). Run "
            "as root, or with a delegated cgroup in BENCH_CPU_CGROUP, to measure."
        )
    return (
        f"Measured under Lambda's CPU share for each size: every function process runs in a CPU cgroup ({how}) "
        f"with a quota of M/{FULL_VCPU_MB} of one CPU per {PERIOD_US // 1000} ms period, from its first "
        "instruction; the emulator, moto and the client run outside it at full speed. This machine's cores "
        "are x86, not Graviton: compare sizes with each other, not with Lambda's absolute figures."
    )


def report(results: Results, sizes: tuple[int, ...], why_not: str | None, how: str) -> str:
    names = sorted({name for _, name, _ in results.cold}, key=lambda n: n != "chat_completions")
    rounds = len(next(iter(results.cold.values())))
    warm = next(iter(results.warm.values()))
    steps = next(iter(results.steps.values()))
    label = "projected" if results.sizes == (None,) else "measured"
    cold_header = ["memory", "CPU share", "function", "init p50", "first request p50", "**cold start p50**", "max",
                   "cold start, init at full CPU", "CPU ms used"]  # fmt: skip
    warm_header = ["memory", "CPU share", "**overhead p50**", "overhead p99", "CPU ms / request",
                   "bridge requests ≥ 30 ms", "throttled periods", "stream: added first token p50", "p99",
                   "added at last token p50"]  # fmt: skip
    step_header = ["memory", "CPU share", "`import handler`", "first step (cold)", "warm step p50",
                   "CPU ms / warm step"]  # fmt: skip
    return "\n".join(
        [
            "### 7. Memory sizing: the functions under each memory size's CPU share",
            "",
            _intro(results, why_not, how),
            "",
            f"**Cold start** ({label}; median of {rounds} round(s), ms): start (`bash run.sh`, byte-compiled) → "
            "the adapter's readiness probe answered (init) → the first real request answered (`chat_completions`: "
            "a chat completion; `threads`: `POST /v1/threads` with one message, its first DynamoDB writes). "
            "`init at full CPU`: the process gets the quota only after the probe, as if Lambda ran init unthrottled.",
            "",
            table(cold_header, _cold_rows(results, sizes, names), align="lrlrrrrrr"),
            "",
            f"**Warm `chat_completions`** ({label}; {warm.requests} interleaved rounds, ms): overhead = bridge - "
            "direct to the emulator, back to back as bench 1 sends them (a busy function: CFS stalls show in the "
            f"p99); streams of {TOKENS} tokens 10 ms apart, {len(warm.first_token)} interleaved pairs, added = "
            "bridge - direct.",
            "",
            table(warm_header, _warm_rows(results, sizes)),
            "",
            f"**Run executor** ({label}; the handler fed one queued run step per SQS event, {1 + len(steps.warm)} "
            "steps per size, ms): a step reads the run and thread, calls the model (the emulator answers at once) "
            "and writes the answer, the run steps and the status to DynamoDB (moto, whose own latency dominates "
            "a warm step here).",
            "",
            table(step_header, _step_rows(results, sizes)),
            "",
            cost_table(sizes),
        ]
    )
