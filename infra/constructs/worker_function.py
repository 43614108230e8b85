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


def python_function(
    scope: Construct, *, name: str, description: str, handler: str, layers: Sequence[lambda_.ILayerVersion],
    timeout: Duration, memory_size: int, environment: Mapping[str, str],
) -> tuple[iam.Role, lambda_.Function]:  # fmt: skip
    """`functions/<name>/` as a python3.13 arm64 function under `scope`, with a role of its own that
    may write to its own log group only (no managed policy): what every function of the stack shares."""
    log_group = logs.LogGroup(scope, "Logs", retention=constants.LOG_RETENTION)
    role = iam.Role(
        scope, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description=f"openai-cf {name} function"
    )
    log_group.grant_write(role)
    function = lambda_.Function(
        scope,
        "Function",
        description=description,
        runtime=constants.RUNTIME,
        architecture=constants.ARCHITECTURE,
        handler=handler,
        code=lambda_.Code.from_asset(str(constants.FUNCTIONS_DIR / name), exclude=["__pycache__"]),
        layers=list(layers),
        memory_size=memory_size,
        timeout=timeout,
        role=role,
        log_group=log_group,
        environment=dict(environment),
    )
    Validations.of(scope).acknowledge(
        Acknowledgment(
            id="AwsSolutions-L1",
            reason="python3.13 is the design's runtime: the layers' wheels are built for cp313 "
            "(constants.LAYER_PYTHON_VERSION) and the Lambda Web Adapter setup is proven on it. Moving to a "
            "newer runtime is a deliberate change of both.",
        )
    )
    return role, function


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
        self.role, self.function = python_function(
            self, name=name, description=f"openai-cf {name}", handler=handler, layers=layers, timeout=timeout,
            memory_size=memory_size, environment=environment or {},
        )  # fmt: skip
