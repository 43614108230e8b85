"""The CDK CLI is pinned in the repository, reads what this aws-cdk-lib writes, and runs the app from
the venv that `make cdk-setup` makes, without telemetry or notices (no calls to AWS during a synth)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.infra

pytest.importorskip("aws_cdk", reason="CDK tests need requirements-infra.txt installed")

import aws_cdk as cdk  # noqa: E402

from infra import constants  # noqa: E402
from infra.stacks.api_stack import ApiStack  # noqa: E402

CLI_VERSION = "2.1148.1"


def test_the_cli_version_is_pinned(repo_root: Path) -> None:
    package = json.loads((repo_root / "package.json").read_text())
    lock = json.loads((repo_root / "package-lock.json").read_text())
    assert package["devDependencies"] == {"aws-cdk": CLI_VERSION}
    assert lock["packages"]["node_modules/aws-cdk"]["version"] == CLI_VERSION


def test_cdk_json_runs_the_app_from_the_venv_quietly(repo_root: Path) -> None:
    settings: dict[str, Any] = json.loads((repo_root / "cdk.json").read_text())
    assert settings["app"] == ".venv/bin/python -m infra.app"
    # Notices and telemetry are the CLI's only calls to AWS during a synth
    assert settings["notices"] is False
    assert settings["context"]["cli-telemetry"] is False


def test_the_pinned_cli_reads_this_libraries_cloud_assembly(
    repo_root: Path, cdk_context: dict[str, Any], outdir: str
) -> None:
    cli = repo_root / "node_modules" / ".bin" / "cdk"
    if not cli.exists():
        pytest.skip("the CDK CLI is not installed (make cdk-setup)")
    # Given the stack synthesized by aws-cdk-lib (bundling skipped)
    app = cdk.App(context=cdk_context, outdir=outdir)
    ApiStack(app, constants.STACK_ID)
    app.synth()
    # When the pinned CLI lists the assembly's stacks, offline
    env = {**os.environ, "CDK_DISABLE_VERSION_CHECK": "1", "CDK_DISABLE_CLI_TELEMETRY": "true"}
    done = subprocess.run(
        [str(cli), "ls", "--app", outdir, "--no-notices"],
        capture_output=True, text=True, timeout=120, cwd=repo_root, env=env,
    )  # fmt: skip
    # Then it understands it
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [constants.STACK_ID]
