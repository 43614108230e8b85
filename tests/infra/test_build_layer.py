"""The layer build, without pip or network: what is copied, what pip is asked for, which source is used."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.infra

pytest.importorskip("aws_cdk", reason="CDK tests need requirements-infra.txt installed")

from infra import build_layer, constants  # noqa: E402
from infra.constructs.core_layer import layer_source_dir  # noqa: E402


def test_package_is_copied_without_development_tools(tmp_path: Path) -> None:
    # Given a package with a local/ folder and a bytecode cache
    source = tmp_path / "src"
    (source / "openai_cf" / "local" / "emulator").mkdir(parents=True)
    (source / "openai_cf" / "__pycache__").mkdir()
    (source / "openai_cf" / "routes.py").write_text("")
    (source / "openai_cf" / "local" / "cli.py").write_text("")
    (source / "openai_cf" / "__pycache__" / "routes.cpython-311.pyc").write_bytes(b"")
    # When it is copied into the layer
    build_layer.copy_package(source, tmp_path / "layer")
    # Then only the runtime code is there
    copied = {p.relative_to(tmp_path / "layer").as_posix() for p in (tmp_path / "layer").rglob("*")}
    assert copied == {"openai_cf", "openai_cf/routes.py"}


def test_pip_installs_the_project_dependencies_for_lambda(repo_root: Path) -> None:
    pyproject = tomllib.loads((repo_root / "pyproject.toml").read_text())
    dependencies = build_layer.runtime_dependencies()
    assert dependencies == pyproject["project"]["dependencies"]
    command = build_layer.pip_command(Path("/out"), dependencies)
    assert command[-len(dependencies) :] == dependencies
    for flag, value in [
        ("--platform", "manylinux2014_aarch64"),
        ("--python-version", constants.LAYER_PYTHON_VERSION),
        ("--implementation", "cp"),
        ("--target", "/out"),
    ]:
        assert command[command.index(flag) + 1] == value
    assert "--only-binary=:all:" in command


def test_layer_source_prefers_the_built_layer(tmp_path: Path) -> None:
    built, source = tmp_path / "build" / "layer", tmp_path / "layers" / "core"
    # Given no build yet, then synth uses the checked-in package
    assert layer_source_dir(built, source) == source
    # Given a build, then synth uses it
    (built / "python").mkdir(parents=True)
    assert layer_source_dir(built, source) == built


def test_layer_matches_the_functions_runtime() -> None:
    assert constants.RUNTIME.name == f"python{constants.LAYER_PYTHON_VERSION}"
    assert constants.LAYER_PIP_PLATFORM.endswith("aarch64")
    assert constants.ARCHITECTURE.name == "arm64"
