"""Each function's role, statement by statement: exactly the actions its code calls, on exactly this
stack's table, key prefixes, queue and secrets. Also the state around them: the dead-letter queue's
function, the bucket's lifecycle for generated images, the table's deletion protection, the two
secrets, and the upstream settings only where Workers AI is called."""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from openai_cf.routes import FUNCTIONS, STORAGE_FUNCTIONS, routes_for

pytestmark = pytest.mark.infra

cdk = pytest.importorskip("aws_cdk", reason="CDK tests need requirements-infra.txt installed")

from infra import constants  # noqa: E402
from infra.constructs.secrets import NO_UPSTREAM_FUNCTIONS  # noqa: E402
from infra.stacks.api_stack import ApiStack, construct_id  # noqa: E402

# (action, resource, condition): one line of a role's permissions, whichever statement holds it.
Grant = tuple[str, str, str]

TABLE_ACTIONS = (
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem",
    "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem", "dynamodb:BatchWriteItem",
)  # fmt: skip
CONSUME = (
    "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
)  # fmt: skip
GET, PUT, DELETE, ABORT = "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"
# Files with `expires_after` are written with their expiry tag.
TAG = "s3:PutObjectTagging"
WORKERS = (constants.EXECUTOR_NAME, constants.DEAD_LETTERS_NAME)


class Synth:
    def __init__(self, stack: ApiStack, template: dict[str, Any]) -> None:
        self.stack = stack
        self.template = template
        self.resources: dict[str, Any] = template["Resources"]
        self.functions = {**stack.functions, constants.EXECUTOR_NAME: stack.executor,
                          constants.DEAD_LETTERS_NAME: stack.dead_letters}  # fmt: skip

    def logical_id(self, element: Any) -> str:
        return str(self.stack.resolve(element.node.default_child.logical_id))

    def arn(self, element: Any) -> dict[str, Any]:
        return {"Fn::GetAtt": [self.logical_id(element), "Arn"]}

    def ref(self, element: Any) -> dict[str, Any]:
        return {"Ref": self.logical_id(element)}

    def props(self, element: Any) -> dict[str, Any]:
        props: dict[str, Any] = self.resources[self.logical_id(element)]["Properties"]
        return props

    def of_type(self, resource_type: str) -> list[dict[str, Any]]:
        return [r["Properties"] for r in self.resources.values() if r["Type"] == resource_type]

    def grants(self, name: str) -> set[Grant]:
        """Every (action, resource, condition) the function's role allows, from all its policies."""
        role_ref = {"Ref": self.props(self.functions[name])["Role"]["Fn::GetAtt"][0]}
        found: set[Grant] = set()
        for policy in self.of_type("AWS::IAM::Policy"):
            if role_ref not in policy["Roles"]:
                continue
            for statement in policy["PolicyDocument"]["Statement"]:
                assert statement["Effect"] == "Allow"
                found |= grants(statement["Action"], statement["Resource"], statement.get("Condition"))
        return found

    def variables(self, name: str) -> dict[str, Any]:
        variables: dict[str, Any] = self.props(self.functions[name])["Environment"]["Variables"]
        return variables


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def grants(actions: Any, resources: Any, condition: Any = None) -> set[Grant]:
    return {
        (action, json.dumps(resource, sort_keys=True), json.dumps(condition, sort_keys=True))
        for action in _listed(actions)
        for resource in _listed(resources)
    }


@pytest.fixture(scope="module")
def synth(cdk_context: dict[str, Any], repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Synth:
    app = cdk.App(context=cdk_context, outdir=str(tmp_path_factory.mktemp("cdk.out")))
    stack = ApiStack(app, "Test")
    return Synth(stack, app.synth().get_stack_artifact(stack.artifact_id).template)


def expected(synth: Synth, name: str) -> set[Grant]:
    """What each function's routes (or handler) need, written out by hand from the code."""
    stack = synth.stack
    table, queue, dead_letters = synth.arn(stack.storage.table), stack.run_queue.queue, stack.run_queue.dead_letters
    bucket = synth.arn(stack.storage.bucket)

    def objects(prefix: str, *actions: str) -> set[Grant]:
        return grants(actions, {"Fn::Join": ["", [bucket, f"/{prefix}*"]]})

    log_group = stack.node.find_child(construct_id(name)).node.find_child("Logs")
    result = grants(["logs:CreateLogStream", "logs:PutLogEvents"], synth.arn(log_group))
    access_token = grants("secretsmanager:GetSecretValue", synth.ref(stack.secrets.access_token))
    cloudflare = grants("secretsmanager:GetSecretValue", synth.ref(stack.secrets.cloudflare_token))
    everything_stored = grants(TABLE_ACTIONS, table)
    by_function: dict[str, set[Grant]] = {
        "models": access_token | cloudflare,
        "chat_completions": access_token | cloudflare,
        "completions": access_token | cloudflare,
        "embeddings": access_token | cloudflare,
        "audio": access_token | cloudflare,
        "moderations": access_token | cloudflare,
        "files": access_token | everything_stored | objects("files/", GET, PUT, TAG, DELETE),
        "uploads": access_token | everything_stored | objects("uploads/", GET, PUT, DELETE)
        | objects("files/", PUT, TAG, DELETE, ABORT)
        | grants("s3:ListBucket", bucket, {"StringLike": {"s3:prefix": ["uploads/*"]}}),
        "images": access_token | cloudflare | objects("images/", GET, PUT),
        "assistants": access_token | cloudflare | everything_stored,
        "threads": access_token | everything_stored,
        "runs": access_token | cloudflare | everything_stored | objects("files/", GET)
        | grants("sqs:SendMessage", synth.arn(queue)),
        constants.EXECUTOR_NAME: cloudflare | everything_stored | objects("files/", GET)
        | grants(CONSUME, synth.arn(queue)),
        constants.DEAD_LETTERS_NAME: grants(["dynamodb:GetItem", "dynamodb:UpdateItem"], table)
        | grants(CONSUME, synth.arn(dead_letters)),
    }  # fmt: skip
    if name in by_function:
        return result | by_function[name]
    # A function that lands later: the defaults until it has its own entries.
    result |= access_token | cloudflare
    if name in STORAGE_FUNCTIONS:
        result |= everything_stored | objects("", GET, PUT, DELETE, ABORT) | grants("s3:ListBucket", bucket)
    return result


@pytest.mark.parametrize("name", [*FUNCTIONS, *WORKERS])
def test_each_role_allows_exactly_what_its_code_calls(synth: Synth, name: str) -> None:
    assert sorted(synth.grants(name)) == sorted(expected(synth, name))


@pytest.mark.parametrize("name", [*FUNCTIONS, *WORKERS])
def test_each_function_is_told_only_where_its_resources_are(synth: Synth, name: str) -> None:
    variables = synth.variables(name)
    reached = json.dumps(sorted(synth.grants(name)))
    stack = synth.stack
    for variable, resource in [
        (constants.TABLE_ENV, stack.storage.table),
        (constants.BUCKET_ENV, stack.storage.bucket),
        (constants.ACCESS_TOKEN_SECRET_ENV, stack.secrets.access_token),
        (constants.CLOUDFLARE_SECRET_ENV, stack.secrets.cloudflare_token),
        (constants.RUN_QUEUE_URL_ENV, stack.run_queue.queue),
    ]:
        # A variable names a resource exactly when the role reaches it (the queue's consumers are
        # told by their event source, not a variable)
        granted = synth.logical_id(resource) in reached and not (
            variable == constants.RUN_QUEUE_URL_ENV and name in WORKERS
        )
        assert (variable in variables) == granted, variable
        if granted:
            assert variables[variable] == synth.ref(resource)


@pytest.mark.parametrize("name", [*FUNCTIONS, *WORKERS])
def test_upstream_settings_go_where_workers_ai_is_called(synth: Synth, name: str) -> None:
    variables = synth.variables(name)
    calls_upstream = name == constants.EXECUTOR_NAME or (name in FUNCTIONS and name not in NO_UPSTREAM_FUNCTIONS)
    # Then the context's defaults (no account id given: the API says it is not configured)
    assert ("CLOUDFLARE_API_BASE_URL" in variables) == calls_upstream
    if calls_upstream:
        assert variables["CLOUDFLARE_API_BASE_URL"] == "https://api.cloudflare.com/client/v4"
        assert variables["OPENAI_CF_DEFAULT_MAX_TOKENS"] == "4096"
        assert "CLOUDFLARE_ACCOUNT_ID" not in variables and "MODEL_ALIASES" not in variables
    secrets = constants.ACCESS_TOKEN_SECRET_ENV in variables or constants.CLOUDFLARE_SECRET_ENV in variables
    assert variables.get("OPENAI_CF_SECRET_TTL_SECONDS") == ("300" if secrets else None)


@pytest.mark.parametrize("name", sorted(NO_UPSTREAM_FUNCTIONS))
def test_functions_without_the_cloudflare_secret_never_build_the_workers_ai_client(name: str) -> None:
    from openai_cf.services.container import Services
    from openai_cf.settings import Settings

    class NoUpstream(Services):
        @property
        def workers_ai(self) -> Any:
            raise AssertionError(f"{name} reached the Workers AI client")

    # Given the services each of the function's handler modules asks for
    modules = {route.handler.partition(":")[0] for route in routes_for(name)}
    wanted = {m for module in modules for m in re.findall(r"services\(request\)\.(\w+)", _source(module))}
    assert wanted
    # Then none of them is built on the Workers AI client (services take what they use when built)
    services = NoUpstream(Settings(aws_region="us-east-1"))
    for attribute in wanted:
        getattr(services, attribute)


def _source(module: str) -> str:
    path = importlib.import_module(module).__file__
    assert path is not None
    return Path(path).read_text()


def test_the_dead_letter_function_calls_only_what_it_may(synth: Synth, monkeypatch: pytest.MonkeyPatch) -> None:
    """moto enforces no IAM: record the handler's DynamoDB calls and hold them against its role."""
    from moto import mock_aws

    from openai_cf.local.provision import provision
    from openai_cf.settings import Settings
    from openai_cf.storage.aws import AwsClients
    from openai_cf.storage.table import Table

    allowed = {action for action, _, _ in synth.grants(constants.DEAD_LETTERS_NAME) if action.startswith("dynamodb:")}
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "test")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        provision(Settings(aws_region="us-east-1", table_name="t", bucket_name="bucket-b"))
        called, outcomes = _dead_letter_calls(Table(AwsClients(region="us-east-1"), "t"))
    # Then each run ended as it should, with calls its role allows
    assert outcomes == ["failed", "failed", "cancelled", "expired", "final"]
    assert called and called <= allowed, called - allowed


def _dead_letter_calls(table: Any) -> tuple[set[str], list[str]]:
    """The IAM actions of the DynamoDB calls the dead-letter handler makes, and its outcomes."""
    from openai_cf.executor.dead_letters import DeadLetters

    # The unit tests' run world (imported by name: the unit tests are outside mypy's files).
    world = importlib.import_module("tests.unit.run_world").World(table)
    # Given runs in each state a dead letter can find: queued, in progress, cancelling, expired, done
    tasks = []
    for state in ("queued", "in_progress", "cancelling", "expired", "completed"):
        world.start(state)
        task = world.queue.sent[-1]
        run = world.run(task.thread_id, task.run_id)
        if state in ("in_progress", "cancelling"):
            run = world.ledger.move(run, "in_progress", {"started_at": 1, "step_started_ms": 1})
        if state == "cancelling":
            world.ledger.move(run, "cancelling")
        if state == "completed":
            world.worker.execute(task)
        if state == "expired":
            world.runs.transition(run, {"expires_at": int(world.clock.now) - 1})
        tasks.append(task)
    called: set[str] = set()
    client = table._clients.client("dynamodb")

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name == "TransactWriteItems":  # IAM checks each item's own action
            kinds = {kind for item in params["TransactItems"] for kind in item}
            called.update(f"dynamodb:{'ConditionCheckItem' if k == 'ConditionCheck' else k + 'Item'}" for k in kinds)
        else:
            called.add(f"dynamodb:{model.name}")

    client.meta.events.register("before-parameter-build.dynamodb", record)
    # When the dead letters of all of them are handled
    return called, [DeadLetters(world.ledger).settle(task) for task in tasks]


# -- state ------------------------------------------------------------------------------------
def test_the_dead_letter_queue_feeds_the_function_that_fails_its_runs(synth: Synth) -> None:
    stack = synth.stack
    (mapping,) = [m for m in synth.of_type("AWS::Lambda::EventSourceMapping")
                  if m["FunctionName"] == synth.ref(stack.dead_letters)]  # fmt: skip
    assert mapping["EventSourceArn"] == synth.arn(stack.run_queue.dead_letters)
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == constants.DEAD_LETTERS_BATCH_SIZE
    # A plain handler on the shared layer, whose messages outlive six of its timeouts
    props = synth.props(stack.dead_letters)
    assert (props["Handler"], props["Runtime"], props["Architectures"]) == ("handler.handler", "python3.13", ["arm64"])
    assert synth.props(stack.run_queue.dead_letters)["VisibilityTimeout"] >= 6 * props["Timeout"]
    assert (
        "from openai_cf.executor.dead_letters import handler"
        in (constants.FUNCTIONS_DIR / constants.DEAD_LETTERS_NAME / "handler.py").read_text()
    )


def test_generated_images_expire_after_a_day(synth: Synth) -> None:
    (bucket,) = synth.of_type("AWS::S3::Bucket")
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireGeneratedImages"] == {
        "Id": "ExpireGeneratedImages", "Prefix": "images/", "ExpirationInDays": 1, "Status": "Enabled",
    }  # fmt: skip


def test_a_files_bytes_expire_by_the_day_tag_the_code_writes(synth: Synth) -> None:
    from openai_cf.storage.blobs import EXPIRY_TAG, expiry_tagging

    (bucket,) = synth.of_type("AWS::S3::Bucket")
    rules = [rule for rule in bucket["LifecycleConfiguration"]["Rules"] if rule.get("TagFilters")]
    # One rule per day count, each deleting the tagged files after that many days
    by_days = {rule["TagFilters"][0]["Value"]: rule for rule in rules}
    assert len(by_days) == len(rules) == 31
    for days in range(1, 32):
        rule = by_days[str(days)]
        assert rule["TagFilters"] == [{"Key": EXPIRY_TAG, "Value": str(days)}]
        assert (rule["Prefix"], rule["ExpirationInDays"], rule["Status"]) == ("files/", days, "Enabled")
    # And every tag the code can write has its rule (30 days is OpenAI's longest expires_after)
    assert expiry_tagging(30 * 86_400, 0) == f"{EXPIRY_TAG}=30"


def test_the_key_prefixes_are_the_ones_the_code_writes() -> None:
    from openai_cf.storage.files import FileRecord
    from openai_cf.storage.uploads import PARTS_PREFIX

    record = FileRecord(id="file-1", owner="o", bytes=1, created_at=0, filename="f", purpose="p", content_type="x")
    assert record.blob_key.startswith(constants.FILES_PREFIX)
    assert PARTS_PREFIX == constants.UPLOAD_PARTS_PREFIX


def test_the_table_is_protected_from_deletion_by_default(synth: Synth) -> None:
    (table,) = synth.of_type("AWS::DynamoDB::GlobalTable")
    assert table["Replicas"][0]["DeletionProtectionEnabled"] is True
    (resource,) = [r for r in synth.resources.values() if r["Type"] == "AWS::DynamoDB::GlobalTable"]
    assert resource["DeletionPolicy"] == "Retain"


# -- secrets ----------------------------------------------------------------------------------
def test_two_secrets_one_generated_one_for_the_operator(synth: Synth) -> None:
    access = synth.props(synth.stack.secrets.access_token)
    cloudflare = synth.props(synth.stack.secrets.cloudflare_token)
    # The access token is generated, as a bare value (what the SDK's api_key takes)
    assert access["GenerateSecretString"] == {"ExcludePunctuation": True, "PasswordLength": 48}
    assert "SecretString" not in access
    # The Cloudflare token is an empty placeholder until the operator fills it in
    assert cloudflare["SecretString"] == constants.CLOUDFLARE_SECRET_PLACEHOLDER
    assert json.loads(cloudflare["SecretString"]) == {"CLOUDFLARE_API_TOKEN": ""}
    assert "GenerateSecretString" not in cloudflare
    # And both are stack outputs, for the deploy guide's commands
    outputs = synth.template["Outputs"]
    assert outputs["AccessTokenSecretArn"]["Value"] == synth.ref(synth.stack.secrets.access_token)
    assert outputs["CloudflareTokenSecretArn"]["Value"] == synth.ref(synth.stack.secrets.cloudflare_token)
