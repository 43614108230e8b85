"""The API stack: one endpoint function per function in the route table, the REST API, the secret,
the storage, and the run queue with the run executor that consumes it.

Capabilities bind to functions here (`secrets.bind_endpoint(fn)` and `bind_upstream`, `storage.bind(fn)`
for the functions whose routes store something, `run_queue.bind_sender` for the runs function,
`bind_consumer` for the executor and `bind_dead_letter_consumer` for the dead-letter function), each
construct granting only what a function needs.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Aspects, CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra import constants
from infra.constructs.api import OpenAIRestApi
from infra.constructs.endpoint_function import EndpointFunction
from infra.constructs.layers import SharedLayers
from infra.constructs.monitoring import Monitoring
from infra.constructs.run_queue import RunQueue
from infra.constructs.secrets import AppSecrets
from infra.constructs.storage import Storage
from infra.constructs.worker_function import WorkerFunction
from infra.sam import SamFunctionIds
from openai_cf.routes import FUNCTIONS, ROUTES, STORAGE_FUNCTIONS


def construct_id(function: str) -> str:
    """`chat_completions` → `ChatCompletions`."""
    return "".join(part.capitalize() for part in function.split("_"))


class ApiStack(Stack):
    def __init__(self, scope: Construct, stack_id: str, **kwargs: Any) -> None:
        super().__init__(scope, stack_id, description="openai-cf: the OpenAI HTTP API on AWS Lambda", **kwargs)
        self.secrets = AppSecrets(self, "Secrets")
        self.storage = Storage(self, "Storage")
        self.layers = SharedLayers(self, "Layers")
        # `sam local invoke <ConstructId>` for every function (infra/sam.py).
        Aspects.of(self).add(SamFunctionIds())

        self.functions: dict[str, lambda_.Function] = {}
        for name in FUNCTIONS:
            endpoint = EndpointFunction(
                self, construct_id(name), name=name, layers=self.layers.all,
                memory_size=constants.FUNCTION_MEMORY_MB.get(name, constants.MEMORY_MB),
            )  # fmt: skip
            self.secrets.bind_endpoint(endpoint.function, name=name)
            if name in STORAGE_FUNCTIONS:
                self.storage.bind(endpoint.function, name=name)
            self.functions[name] = endpoint.function

        self.api = OpenAIRestApi(self, "Api", routes=ROUTES, functions=self.functions)

        self.run_queue = RunQueue(self, "RunQueue")
        self.run_queue.bind_sender(self.functions["runs"])
        executor = WorkerFunction(
            self, construct_id(constants.EXECUTOR_NAME), name=constants.EXECUTOR_NAME,
            handler=constants.EXECUTOR_HANDLER, layers=self.layers.all, timeout=constants.EXECUTOR_TIMEOUT,
            environment=constants.EXECUTOR_ENVIRONMENT,
            memory_size=constants.FUNCTION_MEMORY_MB[constants.EXECUTOR_NAME],
        )  # fmt: skip
        self.executor = executor.function
        self.secrets.bind_upstream(self.executor)
        self.storage.bind(self.executor, name=constants.EXECUTOR_NAME)
        self.run_queue.bind_consumer(self.executor)

        # Fails the runs whose messages the run queue gave up on: the table only.
        dead_letters = WorkerFunction(
            self, construct_id(constants.DEAD_LETTERS_NAME), name=constants.DEAD_LETTERS_NAME,
            handler=constants.DEAD_LETTERS_HANDLER, layers=self.layers.all, timeout=constants.DEAD_LETTERS_TIMEOUT,
            environment=constants.DEAD_LETTERS_ENVIRONMENT,
            memory_size=constants.FUNCTION_MEMORY_MB[constants.DEAD_LETTERS_NAME],
        )  # fmt: skip
        self.dead_letters = dead_letters.function
        self.storage.bind(self.dead_letters, name=constants.DEAD_LETTERS_NAME)
        self.run_queue.bind_dead_letter_consumer(self.dead_letters)
        self.monitoring = Monitoring(
            self, "Monitoring", api=self.api, functions=self.functions, executor=self.executor,
            run_queue=self.run_queue, workers={constants.DEAD_LETTERS_NAME: self.dead_letters},
        )  # fmt: skip

        CfnOutput(
            self,
            "BaseUrl",
            description="The OpenAI SDK's base_url",
            value=self.api.rest_api.url_for_path("/v1"),
        )
        CfnOutput(
            self,
            "AccessTokenSecretArn",
            description="The API's bearer token (the SDK's api_key)",
            value=self.secrets.access_token.secret_arn,
        )
        CfnOutput(
            self,
            "CloudflareTokenSecretArn",
            description="Put your Cloudflare API token here (aws secretsmanager put-secret-value)",
            value=self.secrets.cloudflare_token.secret_arn,
        )
