"""`sam local invoke -t cdk.out/OpenAICf.template.json <Function> -e events/<file>.json`: every
function has a name SAM CLI finds and an event that is what API Gateway (or SQS) would send it.
(tests/integration/test_lambda_events.py invokes each function with its event.)"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.infra

pytest.importorskip("aws_cdk", reason="CDK tests need requirements-infra.txt installed")

import aws_cdk as cdk  # noqa: E402

from infra import constants  # noqa: E402
from infra.sam import SAM_RESOURCE_ID  # noqa: E402
from infra.stacks.api_stack import ApiStack, construct_id  # noqa: E402
from openai_cf.routes import FUNCTIONS, routes_for  # noqa: E402
from openai_cf.storage.run_queue import RunTask  # noqa: E402

EVENTS = Path(__file__).resolve().parents[2] / "events"


def _event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return event


@pytest.fixture(scope="module")
def sam_ids(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """SamResourceId → the function's CDK path, from the synthesized template."""
    app = cdk.App(context={**cdk_context, "aws:cdk:enable-path-metadata": True},
                  outdir=str(tmp_path_factory.mktemp("cdk.out")))  # fmt: skip
    stack = ApiStack(app, constants.STACK_ID)
    template = app.synth().get_stack_artifact(stack.artifact_id).template
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    return {r["Metadata"][SAM_RESOURCE_ID]: r["Metadata"].get("aws:cdk:path", "") for r in functions}


@pytest.mark.parametrize("name", [*FUNCTIONS, constants.EXECUTOR_NAME])
def test_sam_finds_each_function_by_its_construct_id(sam_ids: dict[str, str], name: str) -> None:
    sam_id = construct_id(name)
    assert sam_ids[sam_id] == f"{constants.STACK_ID}/{sam_id}/Function/Resource"
    assert (EVENTS / f"{name}.json").is_file()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_http_event_is_a_rest_proxy_event_for_a_route_of_its_function(name: str) -> None:
    event = _event(name)
    context = event["requestContext"]
    # A route this function serves, as API Gateway names it (`resource`) and as the client sent it
    routes = {(r.method, r.apigw_path) for r in routes_for(name)}
    assert (event["httpMethod"], event["resource"]) in routes
    pattern = re.sub(r"\{(\w+)\+\}", r"(?P<\1>.+)", event["resource"])
    matched = re.fullmatch(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern), event["path"])
    assert matched is not None
    assert (event["pathParameters"] or {}) == matched.groupdict()
    # The request context of a REST API stage (the v1 payload a streaming integration also gets)
    assert (context["httpMethod"], context["resourcePath"]) == (event["httpMethod"], event["resource"])
    assert context["path"] == f"/{context['stage']}{event['path']}"
    assert context["stage"] == constants.STAGE_NAME
    assert context["requestId"] and context["identity"]["sourceIp"]
    # Headers twice, as API Gateway sends them, with the client's bearer token
    assert event["multiValueHeaders"] == {k: [v] for k, v in event["headers"].items()}
    assert event["headers"]["Authorization"].startswith("Bearer ")
    # A body base64-encoded exactly when its type is one of the API's binary media types
    content_type = event["headers"].get("Content-Type", "").split(";")[0]
    binary = any(fnmatch.fnmatch(content_type, t) for t in constants.BINARY_MEDIA_TYPES)
    assert event["isBase64Encoded"] is binary
    if event["httpMethod"] == "GET":
        assert event["body"] is None


def test_the_executor_event_is_an_sqs_batch_of_one_run_task() -> None:
    (record,) = _event(constants.EXECUTOR_NAME)["Records"]
    assert record["eventSource"] == "aws:sqs"
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()
    task = RunTask.model_validate_json(record["body"])
    assert task.run_id.startswith("run_")
    assert task.thread_id.startswith("thread_")
    assert int(record["attributes"]["ApproximateReceiveCount"]) >= 1
