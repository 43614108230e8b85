"""Build the shared Lambda layer into `build/layer/python`, without Docker.

    python -m infra.build_layer

Copies the `openai_cf` package (without `local/`, the development server and emulator) and pip-installs
the project's runtime dependencies (`[project].dependencies` in pyproject.toml) as wheels for the
functions' platform (manylinux2014_aarch64, CPython 3.13). When a `python3.13` is on PATH, the layer is
also byte-compiled with unchecked hashes: `/opt` is read-only on Lambda, so modules without a matching
`.pyc` are compiled again at every cold start. The stack uses `build/layer` whenever it exists.
Needs PyPI; everything else in the CDK app runs offline.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Sequence
from pathlib import Path

from infra import constants

PACKAGE = "openai_cf"
# Development tools, and caches: never in the layer (CoreLayer's asset excludes say the same).
SKIPPED = ("local", "__pycache__", "*.pyc", "*.egg-info")
COMPILER = f"python{constants.LAYER_PYTHON_VERSION}"


def runtime_dependencies(pyproject: Path = constants.REPO_ROOT / "pyproject.toml") -> list[str]:
    with pyproject.open("rb") as file:
        dependencies: list[str] = tomllib.load(file)["project"]["dependencies"]
    return dependencies


def copy_package(source: Path, target: Path) -> None:
    """`source/openai_cf` → `target/openai_cf`, minus the development-only parts."""
    shutil.copytree(source / PACKAGE, target / PACKAGE, ignore=shutil.ignore_patterns(*SKIPPED))


def pip_command(target: Path, requirements: Sequence[str]) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--platform",
        constants.LAYER_PIP_PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        constants.LAYER_PYTHON_VERSION,
        "--only-binary=:all:",
        # .pyc from this interpreter would be for the wrong Python version.
        "--no-compile",
        "--target",
        str(target),
        *requirements,
    ]


def find_compiler(name: str = COMPILER) -> str | None:
    """A working Python 3.13 (a pyenv shim may exist for a version that is not installed)."""
    compiler = shutil.which(name)
    if compiler is None:
        return None
    probe = subprocess.run(  # noqa: S603 (fixed argv, no shell)
        [compiler, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        check=False,
    )
    return compiler if probe.stdout.strip() == constants.LAYER_PYTHON_VERSION else None


def byte_compile(target: Path, compiler_name: str = COMPILER) -> bool:
    compiler = find_compiler(compiler_name)
    if compiler is None:
        return False
    # unchecked-hash: the asset zip does not keep mtimes, and /opt cannot be written to at run time.
    command = [compiler, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash", str(target)]
    subprocess.run(command, check=True)  # noqa: S603 (fixed argv, no shell)
    return True


def build(out: Path = constants.BUILT_LAYER_DIR, compiler: str = COMPILER, *, allow_uncompiled: bool = False) -> Path:
    site = out / "python"
    shutil.rmtree(out, ignore_errors=True)
    site.mkdir(parents=True)
    copy_package(constants.CORE_LAYER_SOURCE / "python", site)
    subprocess.run(pip_command(site, runtime_dependencies()), check=True)  # noqa: S603 (fixed argv, no shell)
    # Console scripts: their shebangs name this machine's interpreter, and nothing runs them on Lambda.
    shutil.rmtree(site / "bin", ignore_errors=True)
    for cache in site.rglob("__pycache__"):
        shutil.rmtree(cache)
    if not byte_compile(site, compiler):
        # Measured: an uncompiled layer more than doubles a function's cold start (700 ms vs 300 ms).
        message = f"no working {compiler}: the layer cannot be byte-compiled"
        if not allow_uncompiled:
            raise SystemExit(f"error: {message}; pass --compiler <python3.13> (or --allow-uncompiled)")
        print(f"warning: {message} (cold starts will be much slower)")
    return out


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=constants.BUILT_LAYER_DIR, help="layer directory")
    parser.add_argument(
        "--compiler", default=COMPILER, help=f"a Python {constants.LAYER_PYTHON_VERSION} to byte-compile with"
    )
    parser.add_argument("--allow-uncompiled", action="store_true", help="build even without a Python 3.13")
    args = parser.parse_args(argv)
    out = build(args.out, args.compiler, allow_uncompiled=args.allow_uncompiled)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"built {out} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
