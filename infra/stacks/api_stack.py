"""The API stack: one endpoint function per function in the route table, the REST API, the secret,
the storage, and the run queue with the run executor that consumes it.

Capabilities bind to functions here (`secret.bind(fn)`, `storage.bind(fn)` for the functions whose
routes store something, `run_queue.bind_sender` for the runs function and `bind_consumer` for the
executor), each construct granting only what a function needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import constants
from infra.constructs.api import OpenAIRestApi
from infra.constructs.core_layer import CoreLayer
from infra.constructs.endpoint_function import EndpointFunction
from infra.constructs.run_queue import RunQueue
from infra.constructs.secrets import AppSecret
from infra.constructs.storage import Storage
from infra.constructs.worker_function import WorkerFunction
from openai_cf.routes import FUNCTIONS, ROUTES, STORAGE_FUNCTIONS


def construct_id(function: str) -> str:
    """`chat_completions` → `ChatCompletions`."""
    return "".join(part.capitalize() for part in function.split("_"))


class ApiStack(Stack):
    def __init__(self, scope: Construct, stack_id: str, *, layer_source: Path | None = None, **kwargs: Any) -> None:
        super().__init__(scope, stack_id, description="openai-cf: the OpenAI HTTP API on AWS Lambda", **kwargs)
        self.secret = AppSecret(self, "AppSecret")
        self.storage = Storage(self, "Storage")
        core = CoreLayer(self, "CoreLayer", source=layer_source)

        self.functions: dict[str, lambda_.Function] = {}
        for name in FUNCTIONS:
            endpoint = EndpointFunction(
                self, construct_id(name), name=name, layers=[core.layer],
                memory_size=constants.FUNCTION_MEMORY_MB.get(name, constants.MEMORY_MB),
            )  # fmt: skip
            self.secret.bind(endpoint.function)
            if name in STORAGE_FUNCTIONS:
                self.storage.bind(endpoint.function)
            self.functions[name] = endpoint.function

        self.api = OpenAIRestApi(self, "Api", routes=ROUTES, functions=self.functions)

        self.run_queue = RunQueue(self, "RunQueue")
        self.run_queue.bind_sender(self.functions["runs"])
        executor = WorkerFunction(
            self, construct_id(constants.EXECUTOR_NAME), name=constants.EXECUTOR_NAME,
            handler=constants.EXECUTOR_HANDLER, layers=[core.layer], timeout=constants.EXECUTOR_TIMEOUT,
            environment=constants.EXECUTOR_ENVIRONMENT,
            memory_size=constants.FUNCTION_MEMORY_MB[constants.EXECUTOR_NAME],
        )  # fmt: skip
        self.executor = executor.function
        self.secret.bind(self.executor)
        self.storage.bind(self.executor, object_actions=constants.EXECUTOR_OBJECT_ACTIONS)
        self.run_queue.bind_consumer(self.executor)

        CfnOutput(
            self,
            "BaseUrl",
            description="The OpenAI SDK's base_url",
            value=self.api.rest_api.url_for_path("/v1"),
        )
        CfnOutput(
            self,
            "SecretArn",
            description="Put CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN here; clients use ACCESS_TOKEN",
            value=self.secret.secret.secret_arn,
        )
