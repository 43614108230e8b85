"""The layer builds themselves, offline: the dependency layer from wheels made here (pip with
`--no-index`), the package layer from the checked-in package, byte-compiled by a Python 3.13 when
this machine has one (the bytecode assertions are skipped only when it has none)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.infra

pytest.importorskip("aws_cdk", reason="CDK tests need requirements-infra.txt installed")

from infra import constants  # noqa: E402
from infra.bundling import layers  # noqa: E402
from infra.bundling.python313 import BundlingError, Compiler, find_compiler  # noqa: E402
from tests.infra.wheels import make_wheel  # noqa: E402

SO = "_speedups.cpython-313-{}-linux-gnu.so"


@pytest.fixture(scope="session")
def compiler() -> Compiler | None:
    return find_compiler()


def _magic(compiler: Compiler) -> bytes:
    done = subprocess.run(
        [compiler.executable, "-c", "import importlib.util, sys; sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return bytes.fromhex(done.stdout)


def _assert_bytecode(module: Path, compiler: Compiler | None) -> None:
    if compiler is None:
        pytest.skip(f"no Python {constants.LAYER_PYTHON_VERSION} on this machine to compare bytecode with")
    pyc = module.parent / "__pycache__" / f"{module.stem}.cpython-313.pyc"
    header = pyc.read_bytes()[:8]
    # The 3.13 magic number, and flags 0b01: checked against a hash of the source, never its mtime
    # (zips keep none), and never re-checked (/opt is read-only).
    assert header[:4] == _magic(compiler)
    assert int.from_bytes(header[4:8], "little") == 1


@pytest.fixture(scope="module")
def dependency_layer(tmp_path_factory: pytest.TempPathFactory, compiler: Compiler | None) -> Path:
    # Given a local index of wheels: a pure-Python one, and one package built three ways
    wheels = tmp_path_factory.mktemp("wheels")
    make_wheel(wheels, "tinypure", "1.0", "py3-none-any", {"tinypure/__init__.py": b"VALUE = 'pure'\n"},
               scripts={"tinypure": "tinypure:main"})  # fmt: skip
    for tag, arch in [
        ("cp313-cp313-manylinux2014_aarch64", "aarch64"),
        ("cp313-cp313-manylinux2014_x86_64", "x86_64"),  # the decoy a build for this machine would take
        ("cp311-cp311-manylinux2014_aarch64", "cp311"),  # the right machine, the wrong Python
    ]:
        files = {"tinynative/__init__.py": f"ARCH = {arch!r}\n".encode(), f"tinynative/{SO.format(arch)}": b"\x7fELF"}
        make_wheel(wheels, "tinynative", "1.0", tag, files)
    lock = tmp_path_factory.mktemp("lock") / "requirements.txt"
    lock.write_text("tinypure==1.0\ntinynative==1.0\n")
    # When the dependency layer is built from it, with no index but that directory (and no pip config)
    out = tmp_path_factory.mktemp("layer")
    layers.build_dependencies(out, compiler, lock, ["--isolated", "--no-index", "--find-links", str(wheels)])
    return out / "python"


def test_the_dependency_layer_takes_the_arm64_313_wheel(dependency_layer: Path) -> None:
    native = dependency_layer / "tinynative"
    assert (native / "__init__.py").read_text() == "ARCH = 'aarch64'\n"
    assert [p.name for p in native.glob("*.so")] == [SO.format("aarch64")]
    wheel_info = (dependency_layer / "tinynative-1.0.dist-info" / "WHEEL").read_text()
    assert "Tag: cp313-cp313-manylinux2014_aarch64" in wheel_info
    # Console scripts name this machine's interpreter: none ships
    assert not (dependency_layer / "bin").exists()


def test_the_dependency_layer_imports(dependency_layer: Path, compiler: Compiler | None) -> None:
    # The pure-Python parts import, by Lambda's Python version when there is one, from the layer alone
    python = compiler.executable if compiler else sys.executable
    done = subprocess.run(
        [python, "-S", "-c", "import tinypure, tinynative; print(tinypure.VALUE, tinynative.ARCH, tinypure.__file__)"],
        capture_output=True, text=True, check=True, env={"PYTHONPATH": str(dependency_layer)},
    )  # fmt: skip
    assert done.stdout.split() == ["pure", "aarch64", str(dependency_layer / "tinypure" / "__init__.py")]


def test_the_dependency_layer_is_byte_compiled_for_313(dependency_layer: Path, compiler: Compiler | None) -> None:
    _assert_bytecode(dependency_layer / "tinypure" / "__init__.py", compiler)
    _assert_bytecode(dependency_layer / "tinynative" / "__init__.py", compiler)


def test_a_failed_pip_install_says_what_it_needs(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.txt"
    lock.write_text("tinypure==1.0\n")
    with pytest.raises(BundlingError, match="PIP_INDEX_URL"):
        layers.build_dependencies(
            tmp_path / "out", None, lock, ["--isolated", "--no-index", "--find-links", str(tmp_path)]
        )


@pytest.fixture(scope="module")
def package_layer(tmp_path_factory: pytest.TempPathFactory, compiler: Compiler | None) -> Path:
    out = tmp_path_factory.mktemp("package")
    layers.build_package(out, compiler)
    return out / "python"


def test_the_package_layer_leaves_out_the_development_tools(package_layer: Path) -> None:
    shipped = {p.relative_to(package_layer).as_posix() for p in package_layer.rglob("*") if p.is_file()}
    assert "openai_cf/routes.py" in shipped
    assert "openai_cf/data/workers_ai_models.json" in shipped
    assert not any(path.startswith("openai_cf/local") for path in shipped)
    # Bytecode: only the layer's own, for Lambda's Python
    assert {Path(p).suffixes[-2] for p in shipped if p.endswith(".pyc")} <= {".cpython-313"}


def test_the_package_layer_imports_without_its_development_tools(package_layer: Path) -> None:
    # Every module of the layer imports (dependencies from this environment), from the layer itself,
    # with `openai_cf.local` absent: no runtime module needs it
    script = (
        "import importlib, importlib.util, json, pkgutil, openai_cf\n"
        "names = [m.name for m in pkgutil.walk_packages(openai_cf.__path__, 'openai_cf.')]\n"
        "for name in names: importlib.import_module(name)\n"
        "print(json.dumps([openai_cf.__file__, importlib.util.find_spec('openai_cf.local') is None, len(names)]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(package_layer), "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env)
    where, local_missing, count = json.loads(done.stdout)
    assert where == str(package_layer / "openai_cf" / "__init__.py")
    assert local_missing is True
    assert count > 50


def test_the_package_layer_is_byte_compiled_for_313(package_layer: Path, compiler: Compiler | None) -> None:
    _assert_bytecode(package_layer / "openai_cf" / "api" / "app.py", compiler)


# -- which Python compiles ---------------------------------------------------------------------


def _fake_python(path: Path, version: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_a_pyenv_python_313_is_found_without_being_on_path(tmp_path: Path) -> None:
    found = _fake_python(tmp_path / ".pyenv" / "versions" / "3.13.5" / "bin" / "python3.13", "3.13")
    _fake_python(tmp_path / ".pyenv" / "versions" / "3.12.9" / "bin" / "python3.12", "3.12")
    assert find_compiler({"PATH": "", "HOME": str(tmp_path)}) == Compiler(str(found))


def test_a_broken_shim_on_path_is_passed_over(tmp_path: Path) -> None:
    # Given a `python3.13` on PATH that is not one (a pyenv shim for a version that is not installed)
    _fake_python(tmp_path / "bin" / "python3.13", "3.11")
    assert find_compiler({"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path)}) is None


def test_the_named_python_must_be_a_313(tmp_path: Path) -> None:
    named = _fake_python(tmp_path / "python", "3.12")
    with pytest.raises(BundlingError, match=constants.LAYER_PYTHON_ENV):
        find_compiler({constants.LAYER_PYTHON_ENV: str(named), "PATH": "", "HOME": str(tmp_path)})
    good = _fake_python(tmp_path / "python313", "3.13")
    assert find_compiler({constants.LAYER_PYTHON_ENV: str(good), "PATH": "", "HOME": str(tmp_path)}) == Compiler(
        str(good)
    )
