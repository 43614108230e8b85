"""Finding a CPython of the Lambda runtime's version, to byte-compile the layers with.

Lambda mounts layers read-only under /opt, so a module without a matching `.pyc` is compiled again at
every cold start: the layers are therefore compiled at build time, by an interpreter of the runtime's
own version (a `.pyc` carries its Python's magic number; any other version's would be ignored).
The bundlers look, in order, at `$OPENAI_CF_LAYER_PYTHON` (an error if it names no working 3.13),
`python3.13` on PATH, then the interpreters pyenv and uv install. None found: the layers are built
without bytecode and the build says so (`make bench`: ~27 ms more per cold start for openai_cf
alone, more with the dependencies).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from infra import constants


class BundlingError(RuntimeError):
    """A layer cannot be built on this machine; the message says what to do."""


@dataclass(frozen=True)
class Compiler:
    """A working interpreter of `constants.LAYER_PYTHON_VERSION`."""

    executable: str

    def byte_compile(self, root: Path, prefix: str) -> None:
        """`.pyc` next to every module under `root`, recorded as if `root` were `prefix` (e.g. /opt).

        unchecked-hash: the asset zip does not keep mtimes, and nothing on Lambda may rewrite a stale
        file anyway. Stripping `root` keeps the bytecode independent of where it was built.
        """
        command = [
            self.executable, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
            "-s", str(root), "-p", prefix, str(root),
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 (fixed argv)
        if done.returncode != 0:
            raise BundlingError(f"{self.executable} -m compileall failed:\n{done.stdout}{done.stderr}")


def probe(executable: str) -> bool:
    """True if `executable` runs and is the layer's Python version (a pyenv shim may name a Python
    that is not installed, and fails)."""
    try:
        done = subprocess.run(  # noqa: S603 (fixed argv, no shell)
            [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, check=False, timeout=30,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == constants.LAYER_PYTHON_VERSION


def _installed(env: Mapping[str, str]) -> Iterator[str]:
    """Interpreters of the layer's version in the places version managers put them, newest first."""
    version = constants.LAYER_PYTHON_VERSION
    name = f"python{version}"
    on_path = shutil.which(name, path=env.get("PATH"))
    if on_path:
        yield on_path
    home = Path(env.get("HOME") or Path.home())
    pyenv = Path(env.get("PYENV_ROOT") or home / ".pyenv") / "versions"
    uv = Path(env.get("UV_PYTHON_INSTALL_DIR") or home / ".local" / "share" / "uv" / "python")
    for pattern in (f"{pyenv}/{version}*/bin/{name}", f"{uv}/cpython-{version}*/bin/{name}"):
        yield from sorted((str(p) for p in Path("/").glob(pattern.lstrip("/"))), reverse=True)


def find_compiler(env: Mapping[str, str] | None = None) -> Compiler | None:
    env = os.environ if env is None else env
    named = env.get(constants.LAYER_PYTHON_ENV)
    if named:
        if not probe(named):
            raise BundlingError(
                f"{constants.LAYER_PYTHON_ENV}={named} is not a working Python {constants.LAYER_PYTHON_VERSION}"
            )
        return Compiler(named)
    for candidate in _installed(env):
        if probe(candidate):
            return Compiler(candidate)
    return None


def missing_compiler_warning() -> str:
    version = constants.LAYER_PYTHON_VERSION
    return (
        f"no Python {version} found (python{version} on PATH, pyenv, uv, or ${constants.LAYER_PYTHON_ENV}): "
        f"the layers are built without bytecode, and every cold start compiles what it imports (~27 ms "
        f"more for openai_cf alone, more with its dependencies). Install Python {version}, or name one "
        f"with {constants.LAYER_PYTHON_ENV}=/path/to/python{version}."
    )
