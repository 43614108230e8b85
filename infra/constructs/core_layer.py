"""The shared layer: the `openai_cf` package and its runtime dependencies, under `/opt/python`."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Annotations
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import constants

# Never shipped: the local server and the offline emulator are development tools.
LAYER_EXCLUDES = ("python/openai_cf/local",)
# The checked-in tree also holds this machine's bytecode caches and the editable install's metadata (the
# built layer's caches are compiled for Lambda's Python on purpose, and stay).
SOURCE_EXCLUDES = (*LAYER_EXCLUDES, "**/__pycache__", "**/*.pyc", "python/*.egg-info")


def layer_source_dir(built: Path = constants.BUILT_LAYER_DIR, source: Path = constants.CORE_LAYER_SOURCE) -> Path:
    """`build/layer` when `python -m infra.build_layer` has made it, else the package alone (synth, tests)."""
    return built if (built / "python").is_dir() else source


class CoreLayer(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, source: Path | None = None) -> None:
        super().__init__(scope, construct_id)
        self.source = layer_source_dir() if source is None else source
        built = self.source == constants.BUILT_LAYER_DIR
        if not built:
            Annotations.of(self).add_warning_v2(
                "openai-cf:layer-not-built",
                f"The layer holds {self.source} without its dependencies; run `python -m infra.build_layer` "
                "before deploying.",
            )
        self.layer = lambda_.LayerVersion(
            self,
            "Layer",
            description="openai-cf: the openai_cf package and its runtime dependencies",
            code=lambda_.Code.from_asset(str(self.source), exclude=list(LAYER_EXCLUDES if built else SOURCE_EXCLUDES)),
            compatible_runtimes=[constants.RUNTIME],
            compatible_architectures=[constants.ARCHITECTURE],
        )
