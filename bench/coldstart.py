"""Benchmark 3: cold start of each function, fresh process to first response, and peak RSS.

Each function starts as the Lambda Web Adapter starts it (`bash functions/<name>/run.sh`, which
execs `python -m <launcher> app:app`, one uvicorn worker); the function's first real request goes
out as soon as the port accepts (connect polled every 2 ms) and the clock stops when its response
is complete. The emulator answers upstream calls. Baselines in the same rounds, interleaved: a bare
interpreter (`python -c pass`) and a hello-world Starlette app started by a copy of run.sh.
Afterwards: `-X importtime` of one function's imports, and an in-process breakdown of the first request.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import procs
from bench.firstreq import FIRST_REQUESTS, FirstRequest, bootstrap
from bench.stats import fmt, median, ms, table, verdict

TARGET_MS = 300.0
TARGET_RSS_MIB = 100.0
IMPORTTIME_FUNCTION = "chat_completions"


def imports() -> str:
    """What a function process imports before it listens: run.sh's launcher module, then the app."""
    return f"import {procs.launcher_module()}, app"


@dataclass(frozen=True)
class Subject:
    label: str
    argv: Callable[[int], list[str]]  # given the port to listen on
    cwd: Path
    request: FirstRequest | None  # None: the process runs to its exit
    compiled: bool = True  # False: openai_cf and the function run without .pyc (compiled at every start)
    function: bool = False

    @property
    def key(self) -> str:
        return f"{self.label} / {self.compiled}"


@dataclass
class Sample:
    total: float  # ms from Popen to the first complete response (or to exit)
    rss_mib: float
    open: float = float("nan")  # ms from Popen to the port accepting
    second: float = float("nan")  # ms for a second request on the warm process


def _run_sh(name: str) -> Callable[[int], list[str]]:
    return lambda port: ["bash", str(procs.run_sh(name))]


def subjects() -> list[Subject]:
    hello = FirstRequest("GET", "/")
    hello_dir = procs.stage(procs.BENCH_DIR / "hello_app.py")
    functions = [
        Subject(
            f"`{name}` — {FIRST_REQUESTS[name].method} {FIRST_REQUESTS[name].path}",
            _run_sh(name),
            procs.FUNCTIONS_DIR / name,
            FIRST_REQUESTS[name],
            compiled=compiled,
            function=True,
        )
        for compiled in (True, False)
        for name in procs.FUNCTIONS
    ]
    return [
        Subject("`python -c pass` (baseline)", lambda port: [procs.PYTHON, "-c", "pass"], procs.ROOT, None),
        Subject("Starlette hello world (baseline)", lambda port: ["bash", str(hello_dir / "run.sh")], hello_dir, hello),
        *functions,
    ]


class Bytecode:
    """Two private bytecode caches (PYTHONPYCACHEPREFIX), so results do not depend on the checkout.

    `compiled`: every module has its .pyc, as in a layer built by `infra/bundling` (CDK local bundling), which
    byte-compiles (Lambda's /opt is read-only, so a missing .pyc is compiled again at every start).
    `source`: the same cache without the project's modules, read-only: openai_cf and the
    function's app.py are compiled at every start (a layer shipped without .pyc; also this checkout
    whenever PYTHONDONTWRITEBYTECODE is set, as it is here).
    """

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="bench-pycache-"))
        self.compiled_dir = self.root / "compiled"
        self.source_dir = self.root / "source"

    def env(self, base: dict[str, str], compiled: bool) -> dict[str, str]:
        env = {k: v for k, v in base.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
        if compiled:
            return {**env, "PYTHONPYCACHEPREFIX": str(self.compiled_dir)}
        return {**env, "PYTHONPYCACHEPREFIX": str(self.source_dir), "PYTHONDONTWRITEBYTECODE": "1"}

    def split(self) -> None:
        """Make `source` from the populated `compiled` cache (hard links), minus the project's own code."""
        repo = self.compiled_dir / procs.ROOT.relative_to(procs.ROOT.anchor)
        own = {repo / "layers", repo / "functions"}
        shutil.copytree(
            self.compiled_dir,
            self.source_dir,
            copy_function=os.link,
            ignore=lambda d, names: [n for n in names if Path(d, n) in own],
        )

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def _send(conn: http.client.HTTPConnection, request: FirstRequest) -> None:
    headers = {"Authorization": f"Bearer {procs.ACCESS_TOKEN}"}
    if request.payload is not None:
        headers["Content-Type"] = "application/json"
    conn.request(request.method, request.path, request.body or None, headers)
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"{request.method} {request.path}: HTTP {response.status}: {data[:300]!r}")


def _measure_exit(subject: Subject, env: dict[str, str]) -> Sample:
    started = time.perf_counter()
    popen = subprocess.Popen(
        subject.argv(0),
        cwd=subject.cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(popen.pid, 0)
    elapsed = time.perf_counter() - started
    popen.returncode = os.waitstatus_to_exitcode(status)
    if popen.returncode != 0:
        raise RuntimeError(f"{subject.label} exited with {popen.returncode}")
    return Sample(ms(elapsed), usage.ru_maxrss / 1024)


def _measure_server(subject: Subject, env: dict[str, str]) -> Sample:
    assert subject.request is not None
    port = procs.free_port()
    proc = procs.Proc(subject.label, subject.argv(port), cwd=subject.cwd, env={**env, "PORT": str(port)}, port=port)
    try:
        sock = procs.connect_when_open(port, proc=proc)
        opened = time.perf_counter()
        conn = http.client.HTTPConnection(procs.HOST, port, timeout=30)
        conn.sock = sock
        _send(conn, subject.request)
        answered = time.perf_counter()
        rss = procs.vm_hwm_kb(proc.pid) / 1024
        _send(conn, subject.request)
        second = time.perf_counter() - answered
        conn.close()
        return Sample(ms(answered - proc.started), rss, ms(opened - proc.started), ms(second))
    except Exception as exc:
        raise RuntimeError(f"{subject.label}: {exc}\n{proc.log_tail()}") from exc
    finally:
        proc.stop()


def measure(subject: Subject, base: dict[str, str], bytecode: Bytecode) -> Sample:
    env = bytecode.env(base, subject.compiled)
    return _measure_server(subject, env) if subject.request is not None else _measure_exit(subject, env)


def _cold_table(items: list[Subject], samples: dict[str, list[Sample]], rounds: int) -> str:
    rows = []
    for subject in items:
        got = samples[subject.key]
        total = [s.total for s in got]
        rss = [s.rss_mib for s in got]
        is_function = subject.function
        rows.append(
            [
                subject.label,
                "all" if subject.compiled else "**none for openai_cf**",
                fmt(median([s.open for s in got]), 0),
                fmt(median(total), 0) + (f" ({verdict(median(total), TARGET_MS)})" if is_function else ""),
                fmt(max(total), 0),
                fmt(median([s.second for s in got]), 1),
                fmt(median(rss), 1) + (f" ({verdict(median(rss), TARGET_RSS_MIB)})" if is_function else ""),
                fmt(max(rss), 1),
            ]
        )
    header = ["process", ".pyc", "port open p50", "first response p50", "max", "2nd request p50", "peak RSS p50", "max"]
    return "\n".join(
        [
            f"Median of {rounds} rounds (subjects interleaved within each round, a function's two `.pyc` variants "
            "back to back, after discarded warm-up runs); "
            "ms from `Popen` and MiB (VmHWM after the first response; ru_maxrss for `python -c pass`). Functions "
            f"start as Lambda Web Adapter starts them (`bash run.sh` → `python -m {procs.launcher_module()} app:app`, "
            "one uvicorn worker); the hello-world baseline runs under a copy of the same run.sh. `.pyc`: `all` = "
            "every module byte-compiled, as `infra/bundling` (CDK local bundling) builds the layer (the Lambda case); "
            "`none for openai_cf` = the project's "
            "modules compiled at every start. "
            f"Targets: first response ≤ {TARGET_MS:g} ms, peak RSS ≤ {TARGET_RSS_MIB:g} MiB.",
            "",
            table(header, rows),
        ]
    )


def _importtime_once(cwd: Path, env: dict[str, str]) -> dict[str, tuple[int, int, int]]:
    """module -> (self µs, cumulative µs, depth) from one `python -X importtime -c "<imports()>"`."""
    done = subprocess.run(
        [procs.PYTHON, "-X", "importtime", "-c", imports()],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    out: dict[str, tuple[int, int, int]] = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, cumulative, name = line[len("import time:") :].split("|")
        depth = (len(name) - len(name.lstrip(" "))) // 2
        out[name.strip()] = (int(own), int(cumulative), depth)
    return out


def importtime_report(env: dict[str, str], runs: int) -> str:
    cwd = procs.FUNCTIONS_DIR / IMPORTTIME_FUNCTION
    measured = [_importtime_once(cwd, env) for _ in range(runs)]
    modules = set(measured[0]).intersection(*measured[1:])
    own = {m: median([r[m][0] for r in measured]) / 1000 for m in modules}
    cumulative = {m: median([r[m][1] for r in measured]) / 1000 for m in modules}
    depth = {m: measured[0][m][2] for m in modules}
    top = sorted(modules, key=lambda m: -cumulative[m])[:8]
    rows = [[f"`{m}`", str(depth[m]), fmt(cumulative[m], 1), fmt(own[m], 1)] for m in top]
    packages: dict[str, float] = {}
    for module, value in own.items():
        root = module.split(".")[0]
        packages[root] = packages.get(root, 0.0) + value
    total = sum(packages.values())
    top_packages = sorted(packages.items(), key=lambda kv: -kv[1])[:8]
    package_rows = [[f"`{p}`", fmt(v, 1), f"{100 * v / total:.0f} %"] for p, v in top_packages]
    return "\n".join(
        [
            f'`python -X importtime -c "{imports()}"` in `functions/{IMPORTTIME_FUNCTION}/`, all `.pyc` present '
            f"(median of {runs} runs; importtime itself inflates the figures). Top 8 cumulative (depth 0 = "
            "imported by the command itself):",
            "",
            table(["module", "depth", "cumulative ms", "self ms"], rows),
            "",
            f"Self time summed per top-level package (of {total:.0f} ms in all; a module's self time includes "
            "the pydantic model classes its body builds):",
            "",
            table(["package", "self ms", "share"], package_rows),
        ]
    )


def _span(result: dict[str, Any], label: str) -> float:
    return ms(sum(result["first_spans"].get(label, [])))


def firstreq_report(env: dict[str, str], runs: int) -> str:
    env = {**env, "PYTHONPATH": str(procs.ROOT)}
    columns = [
        f"import `{procs.launcher_module()}`",
        "import app",
        "1st request",
        "build_services",
        "model catalogue",
        "anyio backend import",
        "upstream call",
        "of which TCP connect",
        "rest of 1st",
        "2nd request",
    ]
    rows = []
    for name in procs.FUNCTIONS:
        results = []
        for _ in range(runs):
            done = subprocess.run(
                [procs.PYTHON, "-c", bootstrap(procs.launcher_module()), name],
                cwd=procs.FUNCTIONS_DIR / name,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            )
            result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
            if result["first_status"] != 200 or result["second_status"] != 200:
                raise RuntimeError(f"firstreq {name}: HTTP {result['first_status']}/{result['second_status']}")
            results.append(result)
        values = []
        for r in results:
            parts = [_span(r, k) for k in ("build_services", "packaged_models", "anyio_backend", "upstream")]
            first = ms(r["first"])
            rest = first - sum(parts)
            values.append(
                [
                    ms(r["import_launcher"]),
                    ms(r["import_app"]),
                    first,
                    *parts,
                    _span(r, "tcp_connect"),
                    rest,
                    ms(r["second"]),
                ]
            )
        rows.append([f"`{name}`", *(fmt(median([v[k] for v in values]), 1) for k in range(len(columns)))])
    return "\n".join(
        [
            f"Where the time goes, in-process (`bench/firstreq.py`, median of {runs} runs, ms): "
            "imports, then the first request driven straight into the ASGI app (no HTTP server), split by "
            "timing wrappers; the upstream call includes the TCP connect to the emulator and its answer.",
            "",
            table(["function", *columns], rows),
        ]
    )


def _groups(items: list[Subject]) -> list[list[Subject]]:
    """Measurement groups: each function's two bytecode variants run back to back (paired)."""
    groups: list[list[Subject]] = []
    by_label: dict[str, list[Subject]] = {}
    for subject in items:
        if subject.function:
            if subject.label not in by_label:
                by_label[subject.label] = []
                groups.append(by_label[subject.label])
            by_label[subject.label].append(subject)
        else:
            groups.append([subject])
    return groups


def _round_order(groups: list[list[Subject]], round_: int) -> list[Subject]:
    """Groups rotated by one each round; within a group the order alternates between rounds."""
    shift = round_ % len(groups)
    rotated = groups[shift:] + groups[:shift]
    return [s for group in rotated for s in (group if round_ % 2 == 0 else group[::-1])]


def _compile_cost(items: list[Subject], samples: dict[str, list[Sample]]) -> str:
    pairs: dict[str, list[Subject]] = {}
    for subject in items:
        if subject.function:
            pairs.setdefault(subject.label, []).append(subject)
    diffs = [
        source.total - compiled.total
        for a, b in pairs.values()
        for compiled, source in zip(samples[a.key], samples[b.key], strict=True)
    ]
    return (
        f"Compiling openai_cf at every start (no `.pyc`) costs {fmt(median(diffs), 0)} ms per cold start "
        f"(median of {len(diffs)} same-round differences, all functions pooled)."
    )


def main(*, quick: bool = False) -> str:
    rounds, warmups, import_runs = (1, 0, 1) if quick else (7, 1, 3)
    emulator = procs.start_emulator()
    base = procs.function_env(emulator.port)
    items = subjects()
    groups = _groups(items)
    samples: dict[str, list[Sample]] = {s.key: [] for s in items}
    bytecode = Bytecode()
    with procs.running(emulator):
        try:
            for subject in items:  # fills the compiled cache (first starts compile everything)
                if subject.compiled:
                    measure(subject, base, bytecode)
            bytecode.split()
            for round_ in range(warmups + rounds):
                for subject in _round_order(groups, round_):
                    sample = measure(subject, base, bytecode)
                    if round_ >= warmups:
                        samples[subject.key].append(sample)
            compiled = bytecode.env(base, True)
            cold = _cold_table(items, samples, rounds)
            imports = importtime_report(compiled, import_runs)
            first = firstreq_report(compiled, import_runs)
        finally:
            bytecode.close()
    sections = [cold, _compile_cost(items, samples), imports, first]
    return "\n\n".join(["### 3. Cold start (fresh process → first response)", *sections])
