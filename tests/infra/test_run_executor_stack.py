"""The run queue and the run executor in the synthesized stack: an encrypted, TLS-only queue with a
dead-letter queue, consumed with partial batch responses by a plain-handler function, and the
least each function needs: the runs function may only send to the queue."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.infra

cdk = pytest.importorskip("aws_cdk", reason="CDK tests need requirements-infra.txt installed")

from infra import constants  # noqa: E402
from infra.stacks.api_stack import ApiStack  # noqa: E402


class Synth:
    def __init__(self, stack: ApiStack, template: dict[str, Any]) -> None:
        self.stack = stack
        self.resources: dict[str, Any] = template["Resources"]

    def logical_id(self, element: Any) -> str:
        return str(self.stack.resolve(element.node.default_child.logical_id))

    def props(self, element: Any) -> dict[str, Any]:
        props: dict[str, Any] = self.resources[self.logical_id(element)]["Properties"]
        return props

    def of_type(self, resource_type: str) -> list[dict[str, Any]]:
        return [r["Properties"] for r in self.resources.values() if r["Type"] == resource_type]

    def statements(self, function: Any) -> list[dict[str, Any]]:
        role_ref = {"Ref": self.props(function)["Role"]["Fn::GetAtt"][0]}
        return [
            statement
            for policy in self.of_type("AWS::IAM::Policy")
            if role_ref in policy["Roles"]
            for statement in policy["PolicyDocument"]["Statement"]
        ]

    def actions(self, function: Any, prefix: str) -> set[str]:
        found = set()
        for statement in self.statements(function):
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            found |= {a for a in actions if a.startswith(prefix)}
        return found


@pytest.fixture(scope="module")
def synth(cdk_context: dict[str, Any], repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Synth:
    app = cdk.App(context=cdk_context, outdir=str(tmp_path_factory.mktemp("cdk.out")))
    stack = ApiStack(app, "Test")
    return Synth(stack, app.synth().get_stack_artifact(stack.artifact_id).template)


def test_the_queue_is_encrypted_tls_only_and_drains_into_a_dead_letter_queue(synth: Synth) -> None:
    queue = synth.props(synth.stack.run_queue.queue)
    dead_letters_id = synth.logical_id(synth.stack.run_queue.dead_letters)
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dead_letters_id, "Arn"]},
        "maxReceiveCount": constants.RUN_QUEUE_MAX_RECEIVES,
    }
    assert synth.props(synth.stack.run_queue.dead_letters)["SqsManagedSseEnabled"] is True
    # Both queues refuse anything but TLS
    policies = synth.of_type("AWS::SQS::QueuePolicy")
    assert len(policies) == 2
    for policy in policies:
        (deny,) = policy["PolicyDocument"]["Statement"]
        assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})


def test_a_message_outlives_six_executor_timeouts(synth: Synth) -> None:
    queue = synth.props(synth.stack.run_queue.queue)
    executor = synth.props(synth.stack.executor)
    assert queue["VisibilityTimeout"] >= 6 * executor["Timeout"]


def test_the_executor_is_a_plain_handler_on_the_shared_layer(synth: Synth) -> None:
    props = synth.props(synth.stack.executor)
    assert (props["Runtime"], props["Architectures"], props["Handler"]) == ("python3.13", ["arm64"], "handler.handler")
    assert props["Timeout"] == constants.EXECUTOR_TIMEOUT.to_seconds()
    # No Web Adapter: no layer but ours, no adapter variables
    shared = [{"Ref": synth.logical_id(layer)} for layer in synth.stack.layers.all]
    assert sorted(props["Layers"], key=str) == sorted(shared, key=str)
    variables = props["Environment"]["Variables"]
    assert not any(name.startswith("AWS_LWA") or name == "AWS_LAMBDA_EXEC_WRAPPER" for name in variables)
    assert variables[constants.TABLE_ENV] == {"Ref": synth.logical_id(synth.stack.storage.table)}
    assert variables[constants.CLOUDFLARE_SECRET_ENV] == {"Ref": synth.logical_id(synth.stack.secrets.cloudflare_token)}
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "openai-cf"
    # It knows the last delivery of a message, to fail its run before the message goes to the DLQ
    redrive = synth.props(synth.stack.run_queue.queue)["RedrivePolicy"]
    assert variables["OPENAI_CF_RUN_MAX_RECEIVES"] == str(redrive["maxReceiveCount"])
    # Its code is functions/run_executor, whose handler.py re-exports the package's handler
    assert (
        "from openai_cf.executor.handler import handler"
        in (constants.FUNCTIONS_DIR / constants.EXECUTOR_NAME / "handler.py").read_text()
    )


def test_the_queue_feeds_the_executor_with_partial_batch_responses(synth: Synth) -> None:
    executor = {"Ref": synth.logical_id(synth.stack.executor)}
    (mapping,) = [m for m in synth.of_type("AWS::Lambda::EventSourceMapping") if m["FunctionName"] == executor]
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": [synth.logical_id(synth.stack.run_queue.queue), "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == constants.EXECUTOR_BATCH_SIZE


def test_the_runs_function_may_only_send_to_the_queue(synth: Synth) -> None:
    runs = synth.stack.functions["runs"]
    queue_arn = {"Fn::GetAtt": [synth.logical_id(synth.stack.run_queue.queue), "Arn"]}
    sends = [s for s in synth.statements(runs) if "sqs:" in json.dumps(s["Action"])]
    assert [(s["Action"], s["Resource"]) for s in sends] == [("sqs:SendMessage", queue_arn)]
    assert synth.props(runs)["Environment"]["Variables"][constants.RUN_QUEUE_URL_ENV] == {
        "Ref": synth.logical_id(synth.stack.run_queue.queue)
    }
    # And no other function reaches the queue at all
    for name, function in synth.stack.functions.items():
        if name != "runs":
            assert synth.actions(function, "sqs:") == set(), name


def test_the_executor_consumes_reads_files_and_uses_the_table(synth: Synth) -> None:
    executor = synth.stack.executor
    assert synth.actions(executor, "sqs:") == {
        "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes",
        "sqs:GetQueueUrl",
    }  # fmt: skip
    assert synth.actions(executor, "s3:") == {"s3:GetObject"}
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:DeleteItem"} <= synth.actions(
        executor, "dynamodb:"
    )
    # The secret (Cloudflare credentials), and nothing of the dead-letter queue
    dead_letters = synth.logical_id(synth.stack.run_queue.dead_letters)
    assert dead_letters not in json.dumps(synth.statements(executor))
