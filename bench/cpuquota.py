"""Lambda's CPU share on this machine: a CPU cgroup with the quota a function of M MB gets.

Lambda gives a function CPU in proportion to its memory: 1,769 MB is one full vCPU, less is that
fraction of one. Linux's CFS bandwidth control does the same to a group of processes: `quota` µs of
CPU per `period` µs. A group made here has `quota = M / 1769 x period`, so a function process put in
it runs with the CPU a Lambda function of M MB would have (on this machine's cores, not Graviton's).

Lambda does not publish its enforcement period. With CFS, work that fits in one period's quota runs
at full speed and only longer bursts (a cold start, back-to-back requests) are stretched, so the
period shapes p99s much more than medians; `PERIOD_US` is the kernel's default.

Both layouts are handled: cgroup v1 (the `cpu` controller's own mount, `cpu.cfs_quota_us` and
`cpu.cfs_period_us`) and v2 (`cpu.max`, where the unified root delegates `cpu`). Making a group needs
root (or a delegated subtree): `unavailable()` says why none can be made, and the sizing benchmark
then projects instead of measuring. `BENCH_CPU_CGROUP=off` forces that; `BENCH_CPU_CGROUP=<dir>`
makes groups under that directory. Every group made is removed on `remove()` and at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

FULL_VCPU_MB = 1769
PERIOD_US = 100_000
ENV = "BENCH_CPU_CGROUP"

_made: list[CpuGroup] = []


def share(memory_mb: int) -> float:
    """The fraction of one CPU Lambda gives a function of `memory_mb` (above 1,769 MB: more than one)."""
    return memory_mb / FULL_VCPU_MB


def quota_us(memory_mb: int, period_us: int = PERIOD_US) -> int:
    return max(1000, round(share(memory_mb) * period_us))  # the kernel refuses quotas under 1 ms


def _mounts() -> list[tuple[str, str, set[str]]]:
    """(mount point, filesystem type, options) of every cgroup mount."""
    found = []
    with contextlib.suppress(OSError), open("/proc/self/mounts") as fh:
        for line in fh:
            fields = line.split()
            if len(fields) >= 4 and fields[2] in ("cgroup", "cgroup2"):
                found.append((fields[1], fields[2], set(fields[3].split(","))))
    return found


@dataclass(frozen=True)
class Layout:
    parent: Path  # groups are made here
    version: int  # 1 or 2


def _layout() -> Layout | str:
    """Where groups can be made, or why they cannot (before trying to write anything)."""
    setting = os.environ.get(ENV, "")
    if setting.lower() in ("off", "0", "no", "false"):
        return f"{ENV}={setting}"
    if setting:
        parent = Path(setting)
        return Layout(parent, 1 if (parent / "cpu.cfs_quota_us").exists() else 2)
    mounts = _mounts()
    for point, kind, options in mounts:
        if kind == "cgroup" and "cpu" in options:
            return Layout(Path(point), 1)
    for point, kind, _ in mounts:
        if kind == "cgroup2":
            controls = Path(point, "cgroup.subtree_control")
            with contextlib.suppress(OSError):
                if "cpu" in controls.read_text().split():
                    return Layout(Path(point), 2)
            return f"the cgroup v2 root ({point}) does not delegate the cpu controller"
    return "no cgroup cpu controller is mounted"


class CpuGroup:
    """One CPU cgroup with Lambda's quota for `memory_mb`."""

    def __init__(self, layout: Layout, memory_mb: int, period_us: int = PERIOD_US) -> None:
        self.memory_mb = memory_mb
        self.version = layout.version
        self.parent = layout.parent
        self.path = layout.parent / f"openai-cf-bench-{os.getpid()}-{memory_mb}mb"
        self.path.mkdir()
        _made.append(self)
        quota = quota_us(memory_mb, period_us)
        try:
            if self.version == 1:
                self._write("cpu.cfs_period_us", str(period_us))
                self._write("cpu.cfs_quota_us", str(quota))
            else:
                self._write("cpu.max", f"{quota} {period_us}")
        except OSError:
            self.remove()
            raise

    def _write(self, name: str, value: str) -> None:
        target = self.path / name
        if not target.exists():  # a plain directory, not a cgroup: do not create files in it
            raise OSError(f"{target} does not exist: {self.path.parent} is not a cgroup cpu hierarchy")
        target.write_text(value)

    @property
    def procs_file(self) -> Path:
        return self.path / "cgroup.procs"

    def add(self, pid: int) -> None:
        """Move a running process (all its threads) into the group; its future children follow."""
        self.procs_file.write_text(str(pid))

    def wrap(self, argv: list[str]) -> list[str]:
        """`argv` started inside the group from its first instruction: a shell joins, then execs it."""
        return ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.procs_file), *argv]

    def throttled(self) -> int:
        """Periods in which the group used up its quota and was stopped (cumulative)."""
        with contextlib.suppress(OSError):
            for line in (self.path / "cpu.stat").read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "nr_throttled":
                    return int(value)
        return 0

    def remove(self) -> None:
        """Move what is left to the parent group and delete this one (the kernel needs it empty)."""
        if not self.path.exists():
            return
        for _ in range(50):
            with contextlib.suppress(OSError):
                for pid in self.procs_file.read_text().split():
                    with contextlib.suppress(OSError):
                        (self.parent / "cgroup.procs").write_text(pid)
            try:
                self.path.rmdir()
                break
            except OSError:
                time.sleep(0.02)  # a killed process leaves its group a moment after it dies
        with contextlib.suppress(ValueError):
            _made.remove(self)


def unavailable() -> str | None:
    """None when groups can be made here; otherwise why not (a trial group is made and removed)."""
    layout = _layout()
    if isinstance(layout, str):
        return layout
    try:
        CpuGroup(layout, FULL_VCPU_MB).remove()
    except OSError as exc:
        return f"cannot make a CPU cgroup under {layout.parent} ({exc.strerror or exc})"
    return None


def make(memory_mb: int) -> CpuGroup:
    layout = _layout()
    if isinstance(layout, str):
        raise OSError(layout)
    return CpuGroup(layout, memory_mb)


def describe() -> str:
    layout = _layout()
    if isinstance(layout, str):
        return layout
    files = "cpu.cfs_quota_us / cpu.cfs_period_us" if layout.version == 1 else "cpu.max"
    return f"cgroup v{layout.version} under {layout.parent} ({files})"


def remove_all() -> None:
    for group in list(_made):
        group.remove()


atexit.register(remove_all)
