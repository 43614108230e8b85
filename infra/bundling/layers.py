"""The two layers' builds, run by CDK's local bundling (no Docker) when a stack is synthesized:

- the package layer: `layers/core/python/openai_cf` without `openai_cf/local` (the development server,
  moto and the emulator), byte-compiled;
- the dependency layer: the wheels pinned in `layers/dependencies/requirements.txt` (the runtime
  dependencies of pyproject.toml and theirs, with hashes), installed by pip for the functions'
  platform (manylinux2014_aarch64, CPython 3.13) from binary wheels only, byte-compiled.

Each build also has a fingerprint, the asset hash: it changes when what goes in changes (the package's
files; the lock) or how it is built (the recipe below, whether it is byte-compiled) and never
otherwise, so a synth with nothing changed reuses `cdk.out/asset.<hash>` and runs no pip.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from infra import constants
from infra.bundling.python313 import BundlingError, Compiler

PACKAGE = "openai_cf"
PACKAGE_SOURCE = constants.CORE_LAYER_SOURCE / "python"
# Development tools, only ever imported by `openai-cf serve` and the tests.
DEV_ONLY = (f"{PACKAGE}/local",)
# Where Lambda mounts layers: the bytecode records its sources there.
LAYER_ROOT = "/opt"
# Bumped whenever the build steps change, so that every asset is rebuilt.
RECIPE = "openai-cf-layers/1"


def _ships(relative: str) -> bool:
    parts = relative.split("/")
    if any(p == "__pycache__" or p.endswith(".egg-info") or p.startswith(".") for p in parts):
        return False
    if relative.endswith(".pyc"):
        return False
    return not any(relative == d or relative.startswith(f"{d}/") for d in DEV_ONLY)


def package_files(source: Path = PACKAGE_SOURCE) -> list[tuple[str, Path]]:
    """(path relative to `source`, file) of every file of the package layer, sorted."""
    root = source / PACKAGE
    found = [(p.relative_to(source).as_posix(), p) for p in root.rglob("*") if p.is_file()]
    return sorted((relative, path) for relative, path in found if _ships(relative))


def recipe(compiler: Compiler | None) -> list[str]:
    """How a layer is built, as it matters to its contents (not where: the compiler's path is left out)."""
    bytecode = f"bytecode cpython-{constants.LAYER_PYTHON_VERSION}" if compiler else "no bytecode"
    return [RECIPE, constants.LAYER_PIP_PLATFORM, f"cp{constants.LAYER_PYTHON_VERSION}", bytecode]


def fingerprint(files: Iterable[tuple[str, Path]], extra: Sequence[str]) -> str:
    digest = hashlib.sha256()
    for relative, path in files:
        digest.update(relative.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    for item in extra:
        digest.update(b"\1" + item.encode())
    return digest.hexdigest()


def package_fingerprint(compiler: Compiler | None, source: Path = PACKAGE_SOURCE) -> str:
    return fingerprint(package_files(source), ["package", *recipe(compiler)])


def dependencies_fingerprint(compiler: Compiler | None, lock: Path = constants.DEPENDENCY_LOCK) -> str:
    return fingerprint([(lock.name, lock)], ["dependencies", *recipe(compiler)])


def _say(message: str) -> None:
    # stderr: the CDK CLI shows it while it synthesizes.
    print(f"openai-cf: {message}", file=sys.stderr, flush=True)


def _compile(site: Path, compiler: Compiler | None, what: str) -> None:
    if compiler is None:
        # The synth's warning (SharedLayers' annotation) says why and what to do, on every synth.
        _say(f"{what}: no Python {constants.LAYER_PYTHON_VERSION} found, so no bytecode")
        return
    compiler.byte_compile(site, f"{LAYER_ROOT}/python")


def build_package(output: Path, compiler: Compiler | None, source: Path = PACKAGE_SOURCE) -> None:
    """`output/python/openai_cf`: the package as it ships."""
    site = output / "python"
    for relative, path in package_files(source):
        target = site / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    _compile(site, compiler, "package layer")


def pip_command(lock: Path, target: Path, pip_options: Sequence[str] = ()) -> list[str]:
    """pip installing the lock's wheels for Lambda into `target`. `pip_options` come last: another
    index, or `--no-index --find-links DIR` (pip's own PIP_INDEX_URL etc. are honoured as well)."""
    return [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
        "--platform", constants.LAYER_PIP_PLATFORM, "--implementation", "cp",
        "--python-version", constants.LAYER_PYTHON_VERSION,
        # Wheels only: an sdist would be built for this machine, not for Lambda.
        "--only-binary=:all:",
        # This interpreter's bytecode would be of the wrong version; _compile makes Lambda's.
        "--no-compile",
        "--target", str(target), "--requirement", str(lock), *pip_options,
    ]  # fmt: skip


def build_dependencies(
    output: Path, compiler: Compiler | None, lock: Path = constants.DEPENDENCY_LOCK, pip_options: Sequence[str] = ()
) -> None:
    """`output/python/…`: the locked wheels, installed for Lambda."""
    site = output / "python"
    site.mkdir(parents=True, exist_ok=True)
    _say(f"installing {lock.name} for {constants.LAYER_PIP_PLATFORM} / CPython {constants.LAYER_PYTHON_VERSION}")
    done = subprocess.run(pip_command(lock, site, pip_options), stdout=sys.stderr, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BundlingError(
            f"pip could not install {lock} (exit {done.returncode}; its message is above). It needs PyPI, or "
            "a mirror named by PIP_INDEX_URL / PIP_FIND_LINKS, and a wheel of every pin for "
            f"{constants.LAYER_PIP_PLATFORM} and CPython {constants.LAYER_PYTHON_VERSION}."
        )
    # Console scripts: their shebangs name this machine's interpreter, and nothing runs them on Lambda.
    shutil.rmtree(site / "bin", ignore_errors=True)
    for cache in list(site.rglob("__pycache__")):
        shutil.rmtree(cache)
    _compile(site, compiler, "dependency layer")
