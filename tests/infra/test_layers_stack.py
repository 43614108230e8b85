"""The shared layers in the stack: both on every function, asset hashes that follow their inputs,
no pip in a synth that skips bundling, no Docker ever, and a lock that matches pyproject.toml."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.infra

pytest.importorskip("aws_cdk", reason="CDK tests need requirements-infra.txt installed")

import aws_cdk as cdk  # noqa: E402
from aws_cdk import aws_lambda as lambda_  # noqa: E402

from infra import constants  # noqa: E402
from infra.bundling import layers, lock, python313  # noqa: E402
from infra.bundling.python313 import BundlingError, Compiler  # noqa: E402
from infra.constructs.layers import LocalBuild, SharedLayers, bundled_code  # noqa: E402
from infra.stacks.api_stack import ApiStack  # noqa: E402

COMPILER = Compiler("/usr/bin/python3.13")


@pytest.fixture
def no_subprocesses(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Records (and refuses) any pip or Python the bundling code would start (`subprocess.run` is
    what they call; the one module object is shared, so this covers every caller)."""
    calls: list[object] = []

    def refuse(*args: object, **kwargs: object) -> None:
        calls.append(args)
        raise AssertionError(f"a subprocess was started: {args}")

    for module in (layers, lock, python313):
        monkeypatch.setattr(module.subprocess, "run", refuse)
    return calls


def _logical_id(stack: cdk.Stack, element: Any) -> str:
    return str(stack.resolve(element.node.default_child.logical_id))


def test_a_synth_that_skips_bundling_runs_no_pip(
    cdk_context: dict[str, Any], outdir: str, no_subprocesses: list[object]
) -> None:
    # Given the stack, with bundling skipped as in every test synth
    app = cdk.App(context=cdk_context, outdir=outdir)
    stack = ApiStack(app, "Test")
    # When it is synthesized
    template = app.synth().get_stack_artifact(stack.artifact_id).template
    # Then nothing was installed or compiled, and every function has both layers
    assert no_subprocesses == []
    shared = [{"Ref": _logical_id(stack, layer)} for layer in stack.layers.all]
    functions = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    assert len(functions) >= 10
    for function in functions:
        # (in CDK's order of a function's layers, not ours: none overlaps another)
        assert all(layer in function["Layers"] for layer in shared)


def _layer_keys(context: dict[str, Any], outdir: str, decoys: int = 0) -> dict[str, str]:
    """The S3 key of each shared layer's asset in a stack of its own (after `decoys` other layers)."""
    app = cdk.App(context=context, outdir=outdir)
    stack = cdk.Stack(app, "Layers")
    for i in range(decoys):
        code = bundled_code(Path(outdir).parent, "0" * 64, LocalBuild("x", print))
        lambda_.LayerVersion(stack, f"Decoy{i}", code=code)
    shared = SharedLayers(stack, "Shared")
    template = app.synth().get_stack_artifact(stack.artifact_id).template
    resources = template["Resources"]
    return {
        name: resources[_logical_id(stack, layer)]["Properties"]["Content"]["S3Key"]
        for name, layer in (("dependencies", shared.dependencies), ("package", shared.package))
    }


def test_the_asset_hashes_are_the_fingerprints(
    cdk_context: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the same inputs, whatever else the app holds: the same asset (CDK hashes our
    # fingerprint with the bundling options, which hold nothing that varies)
    first = _layer_keys(cdk_context, str(tmp_path / "a"))
    assert _layer_keys(cdk_context, str(tmp_path / "b"), decoys=2) == first
    # Given another package fingerprint, another package asset, and the same dependency asset
    monkeypatch.setattr(layers, "package_fingerprint", lambda *args: "1" * 64)
    changed = _layer_keys(cdk_context, str(tmp_path / "c"))
    assert changed["package"] != first["package"]
    assert changed["dependencies"] == first["dependencies"]


def _tree(root: Path) -> Path:
    source = root / "python"
    for relative in ("openai_cf/__init__.py", "openai_cf/api/app.py", "openai_cf/local/cli.py"):
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        (source / relative).write_text(f"# {relative}\n")
    return source


def test_the_package_hash_follows_the_shipped_files_only(tmp_path: Path) -> None:
    source = _tree(tmp_path)
    before = layers.package_fingerprint(COMPILER, source)
    assert layers.package_fingerprint(COMPILER, source) == before
    # Development tools, bytecode caches and editor files do not ship: they change nothing
    (source / "openai_cf" / "local" / "cli.py").write_text("# changed\n")
    (source / "openai_cf" / "__pycache__").mkdir()
    (source / "openai_cf" / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"\0")
    (source / "openai_cf" / ".app.py.swp").write_bytes(b"\0")
    assert layers.package_fingerprint(COMPILER, source) == before
    # A shipped file's content, a new file, a renamed file: each changes it
    (source / "openai_cf" / "api" / "app.py").write_text("# changed\n")
    changed = layers.package_fingerprint(COMPILER, source)
    assert changed != before
    (source / "openai_cf" / "api" / "new.py").write_text("")
    added = layers.package_fingerprint(COMPILER, source)
    assert added != changed
    (source / "openai_cf" / "api" / "new.py").rename(source / "openai_cf" / "api" / "other.py")
    assert layers.package_fingerprint(COMPILER, source) != added


def test_the_dependency_hash_follows_the_lock(tmp_path: Path) -> None:
    pinned = tmp_path / "requirements.txt"
    shutil.copyfile(constants.DEPENDENCY_LOCK, pinned)
    before = layers.dependencies_fingerprint(COMPILER, pinned)
    assert before == layers.dependencies_fingerprint(COMPILER, pinned)
    (tmp_path / "README").write_text("not part of the layer")
    assert layers.dependencies_fingerprint(COMPILER, pinned) == before
    pinned.write_text(pinned.read_text().replace("uvicorn==", "uvicorn==9"))
    assert layers.dependencies_fingerprint(COMPILER, pinned) != before


def test_a_layer_built_with_bytecode_is_another_asset() -> None:
    # Installing a Python 3.13 later must rebuild (and republish) the layers with bytecode
    assert layers.package_fingerprint(COMPILER) != layers.package_fingerprint(None)
    assert layers.dependencies_fingerprint(COMPILER) != layers.dependencies_fingerprint(None)
    # Which 3.13 compiled it does not matter
    assert layers.package_fingerprint(COMPILER) == layers.package_fingerprint(Compiler("/elsewhere/python3.13"))


def test_a_failed_local_build_fails_the_synth_and_never_falls_back_to_docker(tmp_path: Path, outdir: str) -> None:
    # Given a layer whose local build fails (bundling not skipped)
    def fail(out: Path) -> None:
        raise BundlingError("pip could not install it")

    stack = cdk.Stack(cdk.App(outdir=outdir), "Bundled")
    # Then the synth stops with the build's own message (Docker would have said something else)
    with pytest.raises(Exception, match="cannot build the test layer: pip could not install it"):
        lambda_.LayerVersion(stack, "Layer", code=bundled_code(tmp_path, "f" * 64, LocalBuild("test", fail)))


def test_a_local_build_is_the_asset(tmp_path: Path, outdir: str) -> None:
    def build(out: Path) -> None:
        (out / "python").mkdir()
        (out / "python" / "built.py").write_text("")

    app = cdk.App(outdir=outdir)
    stack = cdk.Stack(app, "Bundled")
    lambda_.LayerVersion(stack, "Layer", code=bundled_code(tmp_path, "a" * 64, LocalBuild("test", build)))
    app.synth()
    (asset,) = Path(outdir).glob("asset.*")
    assert [p.relative_to(asset).as_posix() for p in asset.rglob("*")] == ["python", "python/built.py"]


# -- the lock ----------------------------------------------------------------------------------


def test_the_lock_pins_what_pyproject_pins(repo_root: Path) -> None:
    text = constants.DEPENDENCY_LOCK.read_text()
    pinned = lock.pins(text)
    wanted = lock.pins("\n".join(tomllib.loads((repo_root / "pyproject.toml").read_text())["project"]["dependencies"]))
    # Every runtime dependency at pyproject's version: after changing one, `make layer-lock`
    assert {name: pinned.get(name) for name in wanted} == wanted
    # Each pin with the hash of its one wheel, nothing the Lambda runtime already has
    assert text.count("--hash=sha256:") == len(pinned)
    assert not set(pinned) & lock.RUNTIME_PROVIDED


def test_the_lock_is_rendered_from_what_pip_chose() -> None:
    text = lock.render([lock.Pin("pydantic-core", "2.50.4", "ab" * 32), lock.Pin("uvicorn", "0.54.0", "cd" * 32)])
    assert lock.pins(text) == {"pydantic-core": "2.50.4", "uvicorn": "0.54.0"}
    assert f"uvicorn==0.54.0 \\\n    --hash=sha256:{'cd' * 32}\n" in text
    with pytest.raises(BundlingError, match="botocore"):
        lock.render([lock.Pin("botocore", "1.0", "ef" * 32)])
