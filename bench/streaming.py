"""Benchmark 2: first-token delay the bridge adds to a stream, and whether it batches tokens.

The emulator paces `emulate:tokens=20` at `emulate:token_delay_ms=10` (plus a padding-only event
after every fifth event, so one gap in five is ~20 ms). Each pair streams the same chat request
(a) straight to the emulator as the `stream: true` Workers AI request and (b) through the bridge,
reading SSE bytes as they arrive. A bridge that batched would show gaps far below 10 ms.
"""

from __future__ import annotations

import gc
import itertools
from dataclasses import dataclass
from typing import Any

from bench import procs
from bench.client import Target
from bench.stats import fmt, median, ms, percentile, table, verdict

MODEL = "gpt-4o-mini"
UPSTREAM = "@cf/meta/llama-3.3-70b-instruct-fp8-fast"
TOKENS = 20
TOKEN_DELAY_MS = 10
TEXT = f"Count slowly. emulate:tokens={TOKENS} emulate:token_delay_ms={TOKEN_DELAY_MS}"
MESSAGES = [{"role": "user", "content": TEXT}]
TARGET_FIRST_TOKEN_P50_MS = 5.0
BATCH_GAP_MS = 2.0


def direct_content(event: dict[str, Any]) -> str | None:
    value = event.get("response")
    return value if isinstance(value, str) and value else None


def bridge_content(event: dict[str, Any]) -> str | None:
    choices = event.get("choices") or []
    value = (choices[0].get("delta") or {}).get("content") if choices else None
    return value if isinstance(value, str) and value else None


@dataclass
class Stream:
    first: float  # ms from sending the request to the first content token
    last: float  # ms from sending the request to the last content token
    gaps: list[float]  # ms between consecutive content tokens


def _measure(target: Target, direct: bool) -> Stream:
    started, arrivals = target.stream(direct_content if direct else bridge_content)
    if len(arrivals) != TOKENS:
        raise RuntimeError(f"{target.name}: expected {TOKENS} content tokens, got {len(arrivals)}")
    gaps = [ms(b - a) for a, b in itertools.pairwise(arrivals)]
    return Stream(ms(arrivals[0] - started), ms(arrivals[-1] - started), gaps)


def _pair(direct: Target, bridge: Target, i: int) -> tuple[Stream, Stream]:
    if i % 2 == 0:
        d = _measure(direct, True)
        b = _measure(bridge, False)
    else:
        b = _measure(bridge, False)
        d = _measure(direct, True)
    return d, b


def _gap_row(label: str, streams: list[Stream]) -> list[str]:
    gaps = [g for s in streams for g in s.gaps]
    small = sum(1 for g in gaps if g < BATCH_GAP_MS)
    return [label, fmt(median(gaps)), fmt(percentile(gaps, 99)), fmt(min(gaps)), f"{small} of {len(gaps)}"]


def _catch_ups(streams: list[Stream]) -> tuple[int, int]:
    """(small gaps right after a late token, all small gaps): a stall then catch-up is not batching."""
    late = 1.5 * 2 * TOKEN_DELAY_MS  # beyond the longest regular gap (a padding event adds one pacing)
    small = after_late = 0
    for stream in streams:
        for previous, gap in itertools.pairwise([0.0, *stream.gaps]):
            if gap < BATCH_GAP_MS:
                small += 1
                after_late += previous > late
    return after_late, small


def main(*, quick: bool = False) -> str:
    runs, pairs, warmup = (1, 3, 1) if quick else (5, 30, 3)
    emulator = procs.start_emulator()
    with procs.running(emulator):
        app = procs.start_function("chat_completions", emulator.port)
        direct = Target.json(
            "direct",
            emulator.port,
            f"/client/v4/accounts/{procs.ACCOUNT}/ai/run/{UPSTREAM}",
            {"messages": MESSAGES, "max_tokens": 4096, "stream": True},
            procs.EMULATOR_TOKEN,
        )
        bridge = Target.json(
            "bridge",
            app.port,
            "/v1/chat/completions",
            {"model": MODEL, "messages": MESSAGES, "stream": True},
            procs.ACCESS_TOKEN,
        )
        with procs.running(app):
            try:
                for i in range(warmup):
                    _pair(direct, bridge, i)
                results: list[list[tuple[Stream, Stream]]] = []
                for _ in range(runs):
                    gc.collect()
                    gc.disable()
                    try:
                        results.append([_pair(direct, bridge, i) for i in range(pairs)])
                    finally:
                        gc.enable()
            finally:
                direct.close()
                bridge.close()
    return _report(results, pairs, (direct.connects, bridge.connects))


def _report(results: list[list[tuple[Stream, Stream]]], pairs: int, connects: tuple[int, int]) -> str:
    rows = []
    per_run: list[list[float]] = []
    for i, run in enumerate(results, start=1):
        added = [b.first - d.first for d, b in run]
        added_last = [b.last - d.last for d, b in run]
        stats = [
            median([d.first for d, _ in run]),
            median([b.first for _, b in run]),
            percentile(added, 50),
            percentile(added, 99),
            percentile(added_last, 50),
        ]
        per_run.append(stats)
        rows.append([str(i), *(fmt(v) for v in stats)])
    med = [median([s[k] for s in per_run]) for k in range(5)]
    rows.append(["**median of runs**", *(fmt(v) for v in med)])
    rows.append(
        ["target", "", "", f"≤ {TARGET_FIRST_TOKEN_P50_MS:g} ({verdict(med[2], TARGET_FIRST_TOKEN_P50_MS)})", "", ""]
    )
    header = [
        "run",
        "direct first token p50",
        "bridge first token p50",
        "added p50",
        "added p99",
        "added at last token p50",
    ]
    everything = [pair for run in results for pair in run]
    gap_rows = [
        _gap_row("direct (emulator)", [d for d, _ in everything]),
        _gap_row("through the bridge", [b for _, b in everything]),
    ]
    gap_header = ["stream", "median gap", "p99 gap", "min gap", f"gaps < {BATCH_GAP_MS:g} ms"]
    catch_up = _catch_ups([b for _, b in everything])
    return "\n".join(
        [
            "### 2. Streaming: first-token delay and batching",
            "",
            f"Chat stream of {TOKENS} tokens paced {TOKEN_DELAY_MS} ms apart by the emulator "
            f"(`emulate:tokens={TOKENS} emulate:token_delay_ms={TOKEN_DELAY_MS}`); {pairs} interleaved pairs per "
            f"run, {len(results)} runs; ms from sending the request to the SSE event carrying the first (last) "
            "content token, read from the socket as it arrives. Added = bridge - direct per pair.",
            "",
            table(header, rows),
            "",
            f"Gaps between consecutive content tokens, all runs pooled ({len(everything)} streams each; the emulator "
            "sends a padding-only event after every fifth event, so ~1 gap in 5 is ~2x the pacing):",
            "",
            table(gap_header, gap_rows),
            "",
            f"Checks: client connections opened: direct {connects[0]}, bridge {connects[1]}. The direct row doubles "
            "as a check of the reader: gaps there match the emulator's pacing, so the client does not buffer. "
            f"Gaps < {BATCH_GAP_MS:g} ms through the bridge that directly follow a gap > {1.5 * 2 * TOKEN_DELAY_MS:g} "
            f"ms (a late token, then catch-up: a scheduling stall, not batching): {catch_up[0]} of {catch_up[1]}.",
        ]
    )
