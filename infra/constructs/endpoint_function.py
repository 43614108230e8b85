"""The one factory for HTTP endpoint functions: an ASGI app under uvicorn behind the Lambda Web Adapter."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import constants
from infra.config import DeployConfig


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
        log_group = logs.LogGroup(self, "Logs", retention=constants.LOG_RETENTION)
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"openai-cf {name} function",
        )
        log_group.grant_write(self.role)
        self.function = lambda_.Function(
            self,
            "Function",
            description=f"openai-cf {name}: OpenAI-compatible HTTP endpoints",
            runtime=constants.RUNTIME,
            architecture=constants.ARCHITECTURE,
            handler=constants.HANDLER,
            code=lambda_.Code.from_asset(str(constants.FUNCTIONS_DIR / name), exclude=["__pycache__"]),
            layers=[web_adapter_layer(self), *layers],
            memory_size=memory_size,
            timeout=constants.FUNCTION_TIMEOUT,
            role=self.role,
            log_group=log_group,
            environment={**constants.WEB_ADAPTER_ENVIRONMENT, **(environment or {})},
        )
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions-L1",
                reason="python3.13 is the design's runtime: the layer's wheels are built for cp313 "
                "(constants.LAYER_PYTHON_VERSION) and the Lambda Web Adapter setup is proven on it. Moving "
                "to a newer runtime is a deliberate change of both.",
            )
        )
