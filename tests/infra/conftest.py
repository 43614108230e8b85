"""CDK tests: offline, no bundling, the same feature flags as `cdk synth` (cdk.json's context)."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# jsii reads these when it boots, i.e. at the first `import aws_cdk`: set them before any test imports it.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("CDK_DISABLE_VERSION_CHECK", "1")
os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")

REPO_ROOT = Path(__file__).resolve().parents[2]
# `infra` is a package at the repository root (cdk.json runs `python3 -m infra.app` from there).
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def cdk_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    return {
        **context,
        # Skip asset bundling: synth never runs pip or Docker in tests.
        "aws:cdk:bundling-stacks": [],
        # As the CLI does: resources name their staged asset directory (`aws:asset:path`).
        "aws:cdk:enable-asset-metadata": True,
    }


@pytest.fixture
def outdir(tmp_path: Path) -> str:
    """A cloud assembly directory that pytest cleans up (cdk.App otherwise leaves one in /tmp per app)."""
    return str(tmp_path / "cdk.out")


@pytest.fixture(scope="session")
def synth_with(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Callable[..., dict[str, Any]]:
    """The API stack's template for these extra context values (`cdk deploy -c key=value`), synthesized
    once per session with cdk-nag on, as `cdk synth` runs it: a finding fails the synth."""
    import aws_cdk as cdk

    from infra.app import add_checks
    from infra.stacks.api_stack import ApiStack

    templates: dict[tuple[tuple[str, str], ...], dict[str, Any]] = {}

    def synth(**context: str) -> dict[str, Any]:
        key = tuple(sorted(context.items()))
        if key not in templates:
            outdir = str(tmp_path_factory.mktemp("cdk.out"))
            app = cdk.App(context={**cdk_context, **context}, outdir=outdir)
            add_checks(app)
            stack = ApiStack(app, "Test")
            templates[key] = app.synth().get_stack_artifact(stack.artifact_id).template
        return templates[key]

    return synth
