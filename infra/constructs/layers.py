"""The functions' two shared layers, built by CDK's local bundling when the stack is synthesized:
the third-party dependencies (pinned wheels for Lambda) and the `openai_cf` package. Every function
takes both (`SharedLayers.all`), under /opt/python.

Two layers, not one: the dependencies change rarely and are the bulk, the package changes with every
release and is small, so a code change uploads and publishes ~1 MB, not the whole.

No Docker: `try_bundle` always builds on this machine (infra/bundling) or fails saying why; it never
returns False, which would hand the job to Docker. The asset hashes are computed here from what goes
in (infra.bundling.layers), so that a synth with nothing changed finds the built asset in cdk.out and
runs no pip, and tests (which skip bundling) never do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import Annotations, AssetHashType, BundlingOptions, DockerImage, ILocalBundling, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import constants
from infra.bundling import layers
from infra.bundling.python313 import BundlingError, Compiler, find_compiler, missing_compiler_warning

# Never pulled: `try_bundle` never declines. BundlingOptions requires an image all the same.
NO_DOCKER = DockerImage.from_registry("openai-cf/layers-are-bundled-locally-without-docker")


@jsii.implements(ILocalBundling)
class LocalBuild:
    """CDK's local bundling hook: `build(output_dir)` on this machine, or an error naming the layer."""

    def __init__(self, what: str, build: Callable[[Path], None]) -> None:
        self.what = what
        self.build = build

    # CDK also passes the BundlingOptions (image, command …), which a local build has no use for.
    def try_bundle(self, output_dir: str, *_options: Any, **_kwargs: Any) -> bool:
        try:
            self.build(Path(output_dir))
        except BundlingError as exc:
            raise RuntimeError(f"openai-cf: cannot build the {self.what} layer: {exc}") from exc
        return True


def bundled_code(source: Path, asset_hash: str, build: LocalBuild) -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(source),
        asset_hash=asset_hash,
        asset_hash_type=AssetHashType.CUSTOM,
        # Where bundling is skipped (tests), the asset is `source` as it is, never uploaded.
        bundling=BundlingOptions(image=NO_DOCKER, local=build),
    )


class SharedLayers(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, compiler: Compiler | None = None) -> None:
        super().__init__(scope, construct_id)
        if compiler is None and Stack.of(self).bundling_required:
            compiler = find_compiler()
            if compiler is None:
                Annotations.of(self).add_warning_v2("openai-cf:layers-not-byte-compiled", missing_compiler_warning())
        package_source = constants.CORE_LAYER_SOURCE / "python"
        self.dependencies = lambda_.LayerVersion(
            self,
            "Dependencies",
            description="openai-cf: third-party runtime dependencies (layers/dependencies/requirements.txt)",
            code=bundled_code(
                constants.DEPENDENCY_LOCK.parent,
                layers.dependencies_fingerprint(compiler),
                LocalBuild("dependency", lambda out: layers.build_dependencies(out, compiler)),
            ),
            compatible_runtimes=[constants.RUNTIME],
            compatible_architectures=[constants.ARCHITECTURE],
        )
        self.package = lambda_.LayerVersion(
            self,
            "Package",
            description="openai-cf: the openai_cf package, without its development tools",
            code=bundled_code(
                package_source,
                layers.package_fingerprint(compiler, package_source),
                LocalBuild("package", lambda out: layers.build_package(out, compiler, package_source)),
            ),
            compatible_runtimes=[constants.RUNTIME],
            compatible_architectures=[constants.ARCHITECTURE],
        )
        # Order would matter only where layers overlap (later ones win), and none does: CDK renders a
        # function's layers in an order of its own.
        self.all: list[lambda_.ILayerVersion] = [self.dependencies, self.package]
