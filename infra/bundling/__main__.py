"""`python -m infra.bundling lock` regenerates the dependency lock; `python -m infra.bundling build DIR`
builds both layers into DIR/package and DIR/dependencies (what `cdk synth` stages, for a look inside)."""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from infra.bundling import layers, lock
from infra.bundling.python313 import find_compiler


def _size(path: Path) -> str:
    total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return f"{total / 1e6:.1f} MB"


def build(out: Path) -> None:
    compiler = find_compiler()
    for name, make in (("package", layers.build_package), ("dependencies", layers.build_dependencies)):
        shutil.rmtree(out / name, ignore_errors=True)
        make(out / name, compiler)
        print(f"{out / name}: {_size(out / name)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.bundling", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("lock", help="regenerate layers/dependencies/requirements.txt from pyproject.toml")
    built = sub.add_parser("build", help="build both layers into a directory")
    built.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "lock":
        return lock.main()
    build(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
