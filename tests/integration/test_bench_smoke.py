"""`make bench` must keep working: a quick run of every benchmark prints its tables.

No timing is asserted here (speed lives in the benchmark's own tables, not in tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(180)
def test_quick_benchmark_run_prints_every_table() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--quick"], cwd=ROOT, capture_output=True, text=True, timeout=170, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    for heading in (
        "### 1. Bridge overhead",
        "### 2. Streaming",
        "### 3. Cold start",
        "### 4. Listing a thread",
        "### 5. Completing an upload",
        "### 7. Memory sizing",
        "### 8. Audio uploads",
    ):
        assert heading in out
    assert out.count("**median of runs**") >= 3
    assert "`chat_completions`" in out


@pytest.mark.timeout(120)
def test_sizing_projects_where_no_cpu_cgroup_can_be_made() -> None:
    # Given no CPU cgroup to use (as in CI, where the tests are not root)
    env = {**os.environ, "BENCH_CPU_CGROUP": "off"}
    # When the sizing benchmark runs
    result = subprocess.run(
        [sys.executable, "-m", "bench", "sizing", "--quick"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=110, check=False,
    )  # fmt: skip
    # Then it still prints its tables, each figure labelled as a projection, and leaves no cgroup behind
    assert result.returncode == 0, result.stderr[-2000:]
    assert "### 7. Memory sizing" in result.stdout
    assert "**Projected, not measured**" in result.stdout
    assert "BENCH_CPU_CGROUP=off" in result.stdout
    assert "$ per million 20 s requests" in result.stdout


def test_a_directory_that_is_not_a_cgroup_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bench import cpuquota

    # Given a plain directory named as the place for CPU cgroups
    monkeypatch.setenv(cpuquota.ENV, str(tmp_path))
    # Then no group can be made there, the reason says so, and nothing is left in it
    reason = cpuquota.unavailable()
    assert reason is not None
    assert "not a cgroup" in reason
    assert list(tmp_path.iterdir()) == []
