"""`make bench` must keep working: a quick run of every benchmark prints its tables.

No timing is asserted here (speed lives in the benchmark's own tables, not in tests)."""

from __future__ import annotations

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
    ):
        assert heading in out
    assert out.count("**median of runs**") >= 3
    assert "`chat_completions`" in out
