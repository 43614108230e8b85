"""The one factory for HTTP endpoint functions: an ASGI app under uvicorn behind the Lambda Web Adapter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import constants
from infra.config import DeployConfig
from infra.constructs.worker_function import python_function


def web_adapter_layer(scope: Construct) -> lambda_.ILayerVersion:
    """The public LWA layer of the stack's region (an `Fn::Join` on `AWS::Region`: no environment needed),
    or the layer context `web_adapter_layer_arn` names (another version, a copy in a private account)."""
    region = Stack.of(scope).region
    arn = DeployConfig.from_node(scope.node).web_adapter_layer_arn or (
        f"arn:aws:lambda:{region}:{constants.LWA_LAYER_ACCOUNT}:layer:"
        f"{constants.LWA_LAYER_NAME}:{constants.LWA_LAYER_VERSION}"
    )
    return lambda_.LayerVersion.from_layer_version_arn(scope, "WebAdapter", arn)


class EndpointFunction(Construct):
    """`functions/<name>/` as a python3.13 arm64 function that streams its responses.

    The role is the function's own, with write access to its own log group only (no managed
    policy); capabilities add what they need with `grant_*`.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        layers: Sequence[lambda_.ILayerVersion],
        environment: Mapping[str, str] | None = None,
        memory_size: int = constants.MEMORY_MB,
    ) -> None:
        super().__init__(scope, construct_id)
        self.name = name
        self.role, self.function = python_function(
            self, name=name, description=f"openai-cf {name}: OpenAI-compatible HTTP endpoints",
            handler=constants.HANDLER, layers=[web_adapter_layer(self), *layers], timeout=constants.FUNCTION_TIMEOUT,
            memory_size=memory_size, environment={**constants.WEB_ADAPTER_ENVIRONMENT, **(environment or {})},
        )  # fmt: skip
