"""Functions that are plain Lambda handlers (no HTTP, no Web Adapter): the run executor and the
run queue's dead-letter function.

The sibling of `EndpointFunction`: python3.13 arm64, the shared layer, its own role with write
access to its own log group only; capabilities add what they need with `grant_*` and `bind`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import constants


class WorkerFunction(Construct):
    """`functions/<name>/handler.py` as a python3.13 arm64 function with a plain handler."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        handler: str,
        layers: Sequence[lambda_.ILayerVersion],
        timeout: Duration,
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
            description=f"openai-cf {name}",
            runtime=constants.RUNTIME,
            architecture=constants.ARCHITECTURE,
            handler=handler,
            code=lambda_.Code.from_asset(str(constants.FUNCTIONS_DIR / name), exclude=["__pycache__"]),
            layers=list(layers),
            memory_size=memory_size,
            timeout=timeout,
            role=self.role,
            log_group=log_group,
            environment=dict(environment or {}),
        )
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions-L1",
                reason="python3.13 is the design's runtime: the layer's wheels are built for cp313 "
                "(constants.LAYER_PYTHON_VERSION). Moving to a newer runtime is a deliberate change of both.",
            )
        )
