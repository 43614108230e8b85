"""The synthesized API stack: what API Gateway and Lambda will be told, checked offline."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.infra

cdk = pytest.importorskip("aws_cdk", reason="CDK tests need requirements-infra.txt installed")

from aws_cdk.assertions import Match, Template  # noqa: E402

from infra import constants  # noqa: E402
from infra.app import add_checks  # noqa: E402
from infra.stacks.api_stack import ApiStack  # noqa: E402
from openai_cf.routes import FUNCTIONS, ROUTES  # noqa: E402

STREAM_TIMEOUT_MS = 15 * 60 * 1000
# Actions CDK itself may grant on "*" (X-Ray tracing, if it is switched on later); nothing else may.
WILDCARD_ACTIONS_CDK_ADDS = {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


@dataclass(frozen=True)
class Synth:
    stack: ApiStack
    template: Template
    resources: dict[str, Any]
    assembly_dir: Path

    def logical_id(self, element: Any) -> str:
        """Logical id of a resource in the stack (a `Function`, `Role` ...)."""
        return str(self.stack.resolve(element.node.default_child.logical_id))

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        return {k: r["Properties"] for k, r in self.resources.items() if r["Type"] == resource_type}


@pytest.fixture(scope="module")
def synth(cdk_context: dict[str, Any], repo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Synth:
    # Given the stack, with bundling skipped (conftest: tests run no pip)
    app = cdk.App(context=cdk_context, outdir=str(tmp_path_factory.mktemp("cdk.out")))
    stack = ApiStack(app, "Test")
    # When the app is synthesized
    assembly = app.synth()
    template_json = assembly.get_stack_artifact(stack.artifact_id).template
    return Synth(stack, Template.from_json(template_json), template_json["Resources"], Path(assembly.directory))


def _resource_paths(synth: Synth) -> dict[str, str]:
    """Logical id of each AWS::ApiGateway::Resource → its full path."""
    resources = synth.of_type("AWS::ApiGateway::Resource")

    def path(logical_id: str) -> str:
        props = resources[logical_id]
        parent = props["ParentId"]
        prefix = path(parent["Ref"]) if "Ref" in parent else ""  # else GetAtt RestApi.RootResourceId
        return f"{prefix}/{props['PathPart']}"

    return {logical_id: path(logical_id) for logical_id in resources}


def _method(synth: Synth, http_method: str, path: str) -> dict[str, Any]:
    ids = {logical_id for logical_id, p in _resource_paths(synth).items() if p == path}
    found = [
        props
        for props in synth.of_type("AWS::ApiGateway::Method").values()
        if props["HttpMethod"] == http_method and props["ResourceId"].get("Ref") in ids
    ]
    assert len(found) == 1, f"{http_method} {path}: {len(found)} methods"
    return found[0]


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_every_route_streams_from_its_function(synth: Synth, route: Any) -> None:
    # Then the route's method exists, streams for up to 15 minutes, and invokes its own function
    method = _method(synth, route.method, route.apigw_path)
    integration = method["Integration"]
    assert integration["Type"] == "AWS_PROXY"
    assert integration["ResponseTransferMode"] == "STREAM"
    assert integration["TimeoutInMillis"] == STREAM_TIMEOUT_MS
    uri = json.dumps(integration["Uri"])
    assert "/response-streaming-invocations" in uri
    function_id = synth.logical_id(synth.stack.functions[route.function])
    assert json.dumps({"Fn::GetAtt": [function_id, "Arn"]}) in uri


def is_preflight(method: dict[str, Any]) -> bool:
    """A CORS preflight: OPTIONS answered by API Gateway itself (tests/infra/test_api_gateway.py)."""
    return bool(method["HttpMethod"] == "OPTIONS" and method["Integration"]["Type"] == "MOCK")


def test_only_the_route_table_is_served(synth: Synth) -> None:
    methods = [m for m in synth.of_type("AWS::ApiGateway::Method").values() if not is_preflight(m)]
    # Then there is one method per route and no other (no ANY, no OPTIONS but CORS preflights)
    assert len(methods) == len(ROUTES)


def test_greedy_model_resource(synth: Synth) -> None:
    # Then model ids with slashes (@cf/meta/...) reach the models function
    assert "/v1/models/{model+}" in _resource_paths(synth).values()


def test_rest_api_is_regional(synth: Synth) -> None:
    synth.template.has_resource_properties(
        "AWS::ApiGateway::RestApi",
        {
            "EndpointConfiguration": {"Types": ["REGIONAL"]},
            "BinaryMediaTypes": list(constants.BINARY_MEDIA_TYPES),
        },
    )


def test_stage_logs_access_and_errors_but_no_bodies(synth: Synth) -> None:
    synth.template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": constants.STAGE_NAME,
            "AccessLogSetting": {"DestinationArn": Match.any_value(), "Format": Match.string_like_regexp("requestId")},
            "MethodSettings": [Match.object_like({"LoggingLevel": "ERROR", "DataTraceEnabled": False})],
        },
    )


def test_gateway_errors_keep_openai_shape(synth: Synth) -> None:
    responses = synth.of_type("AWS::ApiGateway::GatewayResponse")
    by_type = {props["ResponseType"]: props for props in responses.values()}
    # Then an unknown route is a 404, as on api.openai.com
    assert by_type["MISSING_AUTHENTICATION_TOKEN"]["StatusCode"] == "404"
    for props in by_type.values():
        # When API Gateway fills in its variables, the body is an OpenAI error envelope
        body = props["ResponseTemplates"]["application/json"]
        body = body.replace("$context.error.messageString", '"Too Many Requests"').replace("$context.", "")
        assert set(json.loads(body)["error"]) == {"message", "type", "param", "code"}


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_runs_the_web_adapter(synth: Synth, name: str) -> None:
    props = synth.resources[synth.logical_id(synth.stack.functions[name])]["Properties"]
    assert props["Runtime"] == "python3.13"
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "run.sh"
    assert props["MemorySize"] == constants.FUNCTION_MEMORY_MB.get(name, constants.MEMORY_MB)
    assert props["Timeout"] == 900
    env = props["Environment"]["Variables"]
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert env["PORT"] == env["AWS_LWA_PORT"] == "8000"
    # A tokenless readiness probe gets 401: that must count as ready
    assert env["AWS_LWA_READINESS_CHECK_PATH"].startswith("/")
    low, high = (int(n) for n in env["AWS_LWA_READINESS_CHECK_HEALTHY_STATUS"].split("-"))
    assert low <= 401 <= high
    # The adapter layer of the deploying region (the stack names no region)
    layers = json.dumps(props["Layers"])
    assert '"Ref": "AWS::Region"' in layers
    assert ":753240598075:layer:LambdaAdapterLayerArm64:30" in layers
    # And both shared layers (CDK orders a function's layers its own way; none overlaps another)
    shared = [{"Ref": synth.logical_id(layer)} for layer in synth.stack.layers.all]
    assert len(props["Layers"]) == 3
    assert all(layer in props["Layers"] for layer in shared)


# The one managed policy: the account's API Gateway CloudWatch role (tests/infra/test_api_gateway.py).
API_GATEWAY_LOGGING_POLICY = ":iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"


def test_no_wildcard_resources_or_managed_policies(synth: Synth) -> None:
    for logical_id, policy in synth.of_type("AWS::IAM::Policy").items():
        for statement in policy["PolicyDocument"]["Statement"]:
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if any(isinstance(r, str) and "*" in r for r in resources):
                assert set(actions) <= WILDCARD_ACTIONS_CDK_ADDS, (logical_id, statement)
    for role in synth.of_type("AWS::IAM::Role").values():
        managed = json.dumps(role.get("ManagedPolicyArns", []))
        if API_GATEWAY_LOGGING_POLICY in managed:
            assert len(role["ManagedPolicyArns"]) == 1
            principal = role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
            assert principal == {"Service": "apigateway.amazonaws.com"}
            continue
        assert "ManagedPolicyArns" not in role


def _staged_asset(synth: Synth, resource_type: str, logical_id: str | None = None) -> Path:
    matches = [
        r["Metadata"]["aws:asset:path"]
        for k, r in synth.resources.items()
        if r["Type"] == resource_type and (logical_id is None or k == logical_id)
    ]
    assert len(matches) == 1
    return synth.assembly_dir / str(matches[0])


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_asset_is_its_directory_with_an_executable_run_sh(synth: Synth, name: str) -> None:
    asset = _staged_asset(synth, "AWS::Lambda::Function", synth.logical_id(synth.stack.functions[name]))
    assert {p.name for p in asset.iterdir()} == {"app.py", "run.sh"}
    assert os.access(asset / "run.sh", os.X_OK)


def test_template_passes_cfn_lint(synth: Synth) -> None:
    cfnlint_api = pytest.importorskip("cfnlint.api")
    # W3005: CDK's DependsOn next to a GetAtt on the same role is a known, harmless pattern
    config = cfnlint_api.ManualArgs(ignore_checks=["W3005"])
    matches = cfnlint_api.lint(json.dumps(synth.template.to_json()), config=config)
    assert [str(m) for m in matches] == []


def test_cdk_nag_passes(cdk_context: dict[str, Any], repo_root: Path, outdir: str) -> None:
    # Given AwsSolutions as a policy-validation plugin, as in `cdk synth`
    app = cdk.App(context=cdk_context, outdir=outdir)
    add_checks(app)
    ApiStack(app, "Nagged")
    # When the app is synthesized, then every finding is fixed or acknowledged with a reason
    app.synth()


def test_cdk_nag_fails_synth_on_a_finding(cdk_context: dict[str, Any], outdir: str) -> None:
    from aws_cdk import aws_secretsmanager as secretsmanager

    # Given a secret without rotation and without an acknowledgment
    app = cdk.App(context=cdk_context, outdir=outdir)
    add_checks(app)
    secretsmanager.Secret(cdk.Stack(app, "Bare"), "Secret")
    # Then the synth fails, naming the rule
    with pytest.raises(RuntimeError, match="AwsSolutions-SMG4"):
        app.synth()


# -- state: one table, one bucket (each role's access: test_least_privilege.py) ------------------
def test_the_table_matches_what_serve_creates(synth: Synth) -> None:
    (table,) = synth.of_type("AWS::DynamoDB::GlobalTable").values()
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": constants.TABLE_TTL_ATTRIBUTE, "Enabled": True}
    assert table["Replicas"][0]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_the_bucket_is_private_encrypted_and_tls_only(synth: Synth) -> None:
    (bucket,) = synth.of_type("AWS::S3::Bucket").values()
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
    }  # fmt: skip
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "AES256"
    }
    (policy,) = synth.of_type("AWS::S3::BucketPolicy").values()
    denies = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert any(s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in denies)


def test_the_bucket_clears_what_uploads_leave_behind(synth: Synth) -> None:
    (bucket,) = synth.of_type("AWS::S3::Bucket").values()
    rules = {rule["Id"]: rule for rule in bucket["LifecycleConfiguration"]["Rules"]}
    # Parts of uploads nobody completed or cancelled (an upload lives an hour) go after a day
    assert rules["ExpireUploadParts"] == {
        "Id": "ExpireUploadParts", "Prefix": "uploads/", "ExpirationInDays": 1, "Status": "Enabled",
    }  # fmt: skip
    # And so do S3 multipart uploads that an interrupted assembly never aborted
    assert rules["AbortIncompleteMultipartUploads"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    assert "Prefix" not in rules["AbortIncompleteMultipartUploads"]
