"""`python -m bench [overhead|streaming|coldstart ...] [--quick]`: run benchmarks, print Markdown tables."""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable

from bench import audio, coldstart, overhead, procs, runs, sizing, storage, streaming

BENCHMARKS: dict[str, Callable[..., str]] = {
    "overhead": overhead.main,
    "streaming": streaming.main,
    "coldstart": coldstart.main,
    "storage": storage.main,
    "uploads": storage.uploads_main,
    "runs": runs.main,
    "sizing": sizing.main,
    "audio": audio.main,
}
# Investigation aids, run only when named.
EXTRAS: dict[str, Callable[..., str]] = {
    "floors": overhead.floors_main,
}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_reference_ms() -> float:
    """Best of 5 timings of a fixed pure-Python loop: compares this machine's speed across runs."""
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        total = 0
        for i in range(300_000):
            total += i % 7
        best = min(best, time.perf_counter() - started)
    return best * 1000


def environment_line() -> str:
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"Environment: Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{os.cpu_count()} CPUs ({_cpu_model()}, {platform.machine()}), {platform.system()} {platform.release()}, "
        f"load average {load} at start, CPU reference loop {cpu_reference_ms():.1f} ms (lower is faster), {now}."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"{', '.join(BENCHMARKS)} (default: all of these); extra, only when named: {', '.join(EXTRAS)}",
    )
    parser.add_argument("--quick", action="store_true", help="a few iterations only (smoke test)")
    args = parser.parse_args(argv)
    names = args.names or list(BENCHMARKS)
    known = {**BENCHMARKS, **EXTRAS}
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(known)}")
    command = shlex.join(["python", "-m", "bench", *(argv if argv is not None else sys.argv[1:])])
    print(environment_line())
    print(f"Command: `{command}`" + (" (quick mode: too few iterations to quote)" if args.quick else ""))
    try:
        for name in names:
            started = time.perf_counter()
            print()
            print(known[name](quick=args.quick), flush=True)
            print(f"\n_{name}: {time.perf_counter() - started:.0f} s_", flush=True)
    finally:
        procs.kill_all()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"\nLoad average at the end: {load} (this machine has {os.cpu_count()} CPUs; other work inflates figures).")
    return 0


if __name__ == "__main__":
    procs.install_cleanup()  # the command line only: a test calling main() keeps its own signal handlers
    sys.exit(main())
