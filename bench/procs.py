"""Server processes on loopback: the emulator and function apps, started like Lambda starts them.

Functions start through their own `run.sh`; baselines start through a copy of it beside their app
(`stage`), so every server runs under the same command. Every process is started in its own
session (so its process group is its own pid), remembered, and killed on `stop()`, at interpreter
exit, and on SIGTERM/SIGINT: nothing outlives a run.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import IO

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
FUNCTIONS_DIR = ROOT / "functions"
FUNCTIONS = ("models", "chat_completions", "completions", "embeddings")
HOST = "127.0.0.1"
PYTHON = sys.executable

ACCESS_TOKEN = "bench-access-token"
EMULATOR_TOKEN = "emulator-token"
ACCOUNT = "bench-account"

_live: dict[int, subprocess.Popen[bytes]] = {}
_staged: list[Path] = []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def connect_when_open(port: int, timeout: float = 20.0, poll: float = 0.002, proc: Proc | None = None) -> socket.socket:
    """Poll connect() every `poll` seconds until the port accepts; return the connected socket."""
    deadline = time.perf_counter() + timeout
    while True:
        try:
            sock = socket.create_connection((HOST, port), timeout=timeout)
        except ConnectionRefusedError:
            if proc is not None and proc.popen.poll() is not None:
                raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{proc.log_tail()}") from None
            if time.perf_counter() > deadline:
                raise RuntimeError(f"port {port} did not open within {timeout} s") from None
            time.sleep(poll)
            continue
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock


def function_env(emulator_port: int, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a function process pointed at the emulator (inherited openai-cf knobs removed)."""
    env = {
        k: v
        for k, v in (os.environ if base is None else base).items()
        if not k.startswith(("OPENAI_CF_", "CLOUDFLARE_")) and k not in ("ACCESS_TOKEN", "MODEL_ALIASES")
    }
    env.update(
        ACCESS_TOKEN=ACCESS_TOKEN,
        CLOUDFLARE_ACCOUNT_ID=ACCOUNT,
        CLOUDFLARE_API_TOKEN=EMULATOR_TOKEN,
        CLOUDFLARE_API_BASE_URL=f"http://{HOST}:{emulator_port}/client/v4",
        # run.sh runs `python` from PATH: make that this interpreter.
        PATH=f"{Path(PYTHON).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


class Proc:
    """One child process with its output in a temporary log file."""

    def __init__(self, name: str, argv: list[str], *, cwd: Path, env: Mapping[str, str], port: int) -> None:
        self.name = name
        self.port = port
        self._log: IO[bytes] = tempfile.TemporaryFile(prefix=f"bench-{name}-")  # noqa: SIM115 (closed in stop)
        self.started = time.perf_counter()
        self.popen = subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _live[self.popen.pid] = self.popen

    @property
    def pid(self) -> int:
        return self.popen.pid

    def log_tail(self, limit: int = 2000) -> str:
        self._log.flush()
        self._log.seek(0)
        return self._log.read().decode("utf-8", "replace")[-limit:]

    def wait_open(self, timeout: float = 20.0) -> None:
        connect_when_open(self.port, timeout=timeout, proc=self).close()

    def stop(self) -> None:
        _kill(self.popen)
        _live.pop(self.popen.pid, None)
        self._log.close()


def _kill(popen: subprocess.Popen[bytes]) -> None:
    if popen.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(popen.pid, signal.SIGKILL)  # its own group: start_new_session=True
        with contextlib.suppress(ProcessLookupError):
            popen.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        popen.wait(timeout=5)


def kill_all() -> None:
    for popen in list(_live.values()):
        _kill(popen)
    _live.clear()
    for directory in _staged:
        shutil.rmtree(directory, ignore_errors=True)
    _staged.clear()


def _on_signal(signum: int, frame: FrameType | None) -> None:
    kill_all()
    raise SystemExit(128 + signum)


atexit.register(kill_all)


def install_cleanup() -> None:
    """Also clean up on SIGTERM/SIGINT (for the command line; tests keep their own handlers)."""
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)


def start_emulator() -> Proc:
    port = free_port()
    argv = [PYTHON, "-m", "openai_cf.local.emulator", "--host", HOST, "--port", str(port)]
    proc = Proc("emulator", argv, cwd=ROOT, env={**os.environ, "EMULATOR_API_TOKEN": EMULATOR_TOKEN}, port=port)
    proc.wait_open()
    return proc


def start_aws() -> Proc:
    """The embedded AWS (moto: DynamoDB, S3, SQS) in a process of its own; this process's boto3
    gets the same local credentials, to fill the tables it measures."""
    port = free_port()
    argv = [PYTHON, "-m", "openai_cf.local.aws", "--host", HOST, "--port", str(port)]
    os.environ.update(LOCAL_AWS_CREDENTIALS)
    proc = Proc("aws", argv, cwd=ROOT, env={**os.environ}, port=port)
    proc.wait_open()
    return proc


# Any local AWS emulation accepts these.
LOCAL_AWS_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def aws_env(port: int) -> dict[str, str]:
    """What a function process needs to reach the local AWS on `port`."""
    return {**LOCAL_AWS_CREDENTIALS, "AWS_ENDPOINT_URL": f"http://{HOST}:{port}"}


def run_sh(name: str = "models") -> Path:
    """A function's start script (every functions/<name>/run.sh is the same file)."""
    return FUNCTIONS_DIR / name / "run.sh"


def launcher_module() -> str:
    """The module run.sh starts with `python -m` (uvicorn, or the project's own launcher)."""
    match = re.search(r"exec\s+python\s+-m\s+(\S+)", run_sh().read_text())
    if match is None:
        raise RuntimeError(f"cannot find `exec python -m <module>` in {run_sh()}")
    return match.group(1)


def start_function(
    name: str, emulator_port: int, *, wait: bool = True, extra_env: Mapping[str, str] | None = None
) -> Proc:
    """`functions/<name>/run.sh` exactly as the Lambda Web Adapter runs it (bash execs the server)."""
    port = free_port()
    env = {**function_env(emulator_port), **(extra_env or {}), "PORT": str(port)}
    proc = Proc(name, ["bash", str(run_sh(name))], cwd=FUNCTIONS_DIR / name, env=env, port=port)
    if wait:
        proc.wait_open()
    return proc


def stage(source: Path) -> Path:
    """A temporary function directory: a copy of run.sh beside `source` copied as app.py.

    Baselines started from it run under exactly the functions' start command. Removed at exit.
    """
    directory = Path(tempfile.mkdtemp(prefix=f"bench-{source.stem}-"))
    _staged.append(directory)
    shutil.copy2(run_sh(), directory / "run.sh")
    shutil.copy2(source, directory / "app.py")
    return directory


def start_staged(name: str, source: Path, env: Mapping[str, str]) -> Proc:
    directory = stage(source)
    port = free_port()
    proc = Proc(name, ["bash", str(directory / "run.sh")], cwd=directory, env={**env, "PORT": str(port)}, port=port)
    proc.wait_open()
    return proc


@contextlib.contextmanager
def running(*procs: Proc) -> Iterator[None]:
    try:
        yield
    finally:
        for proc in procs:
            proc.stop()


def listen_backlog(port: int) -> int | None:
    """The accept backlog of a listening socket (Send-Q in `ss -ltn`), or None without `ss`."""
    try:
        out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0] == "LISTEN":
            return int(fields[2])
    return None


def tcp_states_to(port: int, exclude_local: tuple[int, ...] = ()) -> dict[str, int]:
    """Counts of IPv4 sockets whose remote port is `port` (local port not excluded), by state."""
    names = {"01": "ESTABLISHED", "06": "TIME_WAIT", "08": "CLOSE_WAIT"}
    counts: dict[str, int] = {}
    with contextlib.suppress(OSError), open("/proc/net/tcp") as fh:
        next(fh)
        for line in fh:
            fields = line.split()
            local_port = int(fields[1].split(":")[1], 16)
            remote_port = int(fields[2].split(":")[1], 16)
            if remote_port == port and local_port not in exclude_local:
                state = names.get(fields[3], fields[3])
                counts[state] = counts.get(state, 0) + 1
    return counts


def vm_hwm_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for pid {pid}")
