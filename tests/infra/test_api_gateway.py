"""API Gateway as a client meets it: throttling, CORS on and off, its own errors in OpenAI's envelope,
and access logs that deploy in a fresh account."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.infra

pytest.importorskip("aws_cdk", reason="CDK tests need requirements-infra.txt installed")

from infra import constants  # noqa: E402
from infra.constructs.api import ACCESS_LOG_FIELDS  # noqa: E402
from openai_cf.api.cors import EXPOSED_HEADERS, MAX_AGE_SECONDS  # noqa: E402
from openai_cf.routes import FUNCTIONS, ROUTES  # noqa: E402

Template = dict[str, Any]
ORIGINS = ("https://app.example", "https://admin.example")


@pytest.fixture(scope="module")
def plain(synth_with: Callable[..., Template]) -> Template:
    # Given the defaults but a throttle of its own
    return synth_with(throttle_rate_limit="7", throttle_burst_limit="11")


@pytest.fixture(scope="module")
def browser(synth_with: Callable[..., Template]) -> Template:
    # Given two browser origins (and alarm mail), as `-c cors_allowed_origins=https://app...,https://admin...`
    return synth_with(cors_allowed_origins=",".join(ORIGINS), alarm_email="ops@example.com")


@pytest.fixture(scope="module")
def one_origin(synth_with: Callable[..., Template]) -> Template:
    # Given one origin, in an account whose API Gateway logging role a landing zone manages
    return synth_with(cors_allowed_origins=ORIGINS[0], api_gateway_cloudwatch_role="false")


def of_type(template: Template, resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == resource_type}


def props(template: Template, resource_type: str) -> list[dict[str, Any]]:
    return [r["Properties"] for r in of_type(template, resource_type).values()]


def resource_paths(template: Template) -> dict[str, str]:
    resources = {k: r["Properties"] for k, r in of_type(template, "AWS::ApiGateway::Resource").items()}

    def path(logical_id: str) -> str:
        parent = resources[logical_id]["ParentId"]
        prefix = path(parent["Ref"]) if "Ref" in parent else ""  # else the root: GetAtt RootResourceId
        return f"{prefix}/{resources[logical_id]['PathPart']}"

    return {logical_id: path(logical_id) for logical_id in resources}


def methods_by_path(template: Template) -> dict[str, dict[str, dict[str, Any]]]:
    paths = resource_paths(template)
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for method in props(template, "AWS::ApiGateway::Method"):
        found.setdefault(paths[method["ResourceId"]["Ref"]], {})[method["HttpMethod"]] = method
    return found


def gateway_responses(template: Template) -> dict[str, dict[str, Any]]:
    return {p["ResponseType"]: p for p in props(template, "AWS::ApiGateway::GatewayResponse")}


def http_functions(template: Template) -> list[dict[str, Any]]:
    return [p for p in props(template, "AWS::Lambda::Function") if p["Handler"] == constants.HANDLER]


# -- throttling -----------------------------------------------------------------------------------
def test_the_stage_is_throttled_as_the_context_says(plain: Template, browser: Template) -> None:
    for template, (rate, burst) in ((plain, (7, 11)), (browser, (50, 100))):
        (stage,) = props(template, "AWS::ApiGateway::Stage")
        (settings,) = stage["MethodSettings"]
        # Then every method of the stage shares the limits (the DeployConfig defaults when not given)
        assert (settings["ResourcePath"], settings["HttpMethod"]) == ("/*", "*")
        assert (settings["ThrottlingRateLimit"], settings["ThrottlingBurstLimit"]) == (rate, burst)


# -- access logs ------------------------------------------------------------------------------------
def test_access_logs_deploy_in_a_fresh_account(plain: Template) -> None:
    # Then the stack sets the region's API Gateway CloudWatch role itself, and keeps it when deleted
    ((account_id, account),) = of_type(plain, "AWS::ApiGateway::Account").items()
    assert account["DeletionPolicy"] == account["UpdateReplacePolicy"] == "Retain"
    role_id = account["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    role = plain["Resources"][role_id]
    assert role["DeletionPolicy"] == "Retain"
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": "apigateway.amazonaws.com"
    }
    assert "AmazonAPIGatewayPushToCloudWatchLogs" in json.dumps(role["Properties"]["ManagedPolicyArns"])
    # And the stage (with its logging) is created only once the role is set
    ((_, stage),) = of_type(plain, "AWS::ApiGateway::Stage").items()
    assert account_id in stage["DependsOn"]


def test_access_logs_are_json_lines_of_structure_only(plain: Template) -> None:
    (stage,) = props(plain, "AWS::ApiGateway::Stage")
    (log_group_id,) = of_type(plain, "AWS::Logs::LogGroup").keys() & set(_refs(stage["AccessLogSetting"]))
    assert plain["Resources"][log_group_id]["Properties"]["RetentionInDays"] == 30
    # When API Gateway fills in a line (a missing value prints "-"), it is JSON
    line = stage["AccessLogSetting"]["Format"]
    for variable in sorted(ACCESS_LOG_FIELDS.values(), key=len, reverse=True):
        line = line.replace(variable, "-")
    fields = json.loads(line)
    # With what the alarms and an operator need, and no header, body or caller identity
    assert {"requestId", "status", "errorType", "timeToAllHeaders", "integrationError"} <= set(fields)
    assert not any(v in stage["AccessLogSetting"]["Format"] for v in ("$input", "identity.caller", "apiKey"))


def test_the_account_role_can_be_left_to_a_landing_zone(one_origin: Template) -> None:
    assert not of_type(one_origin, "AWS::ApiGateway::Account")
    assert "AmazonAPIGatewayPushToCloudWatchLogs" not in json.dumps(one_origin)


def _refs(value: Any) -> list[str]:
    text = json.dumps(value)
    return [part.split('"')[0] for part in text.split('{"Ref": "')[1:]]


# -- CORS -------------------------------------------------------------------------------------------
def test_without_origins_there_is_no_cors(plain: Template) -> None:
    # Then no preflight methods, no CORS headers on gateway errors, nothing for the functions to add
    assert all("OPTIONS" not in methods for methods in methods_by_path(plain).values())
    assert "Access-Control" not in json.dumps(props(plain, "AWS::ApiGateway::GatewayResponse"))
    assert all(constants.CORS_ORIGINS_ENV not in f["Environment"]["Variables"] for f in http_functions(plain))


def test_with_origins_every_route_resource_answers_the_preflight(browser: Template) -> None:
    by_path = methods_by_path(browser)
    routes: dict[str, set[str]] = {}
    for route in ROUTES:
        routes.setdefault(route.apigw_path, set()).add(route.method)
    for path, route_methods in routes.items():
        preflight = by_path[path]["OPTIONS"]
        # Then API Gateway answers it itself: no key, no function
        assert preflight["AuthorizationType"] == "NONE"
        integration = preflight["Integration"]
        assert integration["Type"] == "MOCK"
        (answer,) = integration["IntegrationResponses"]
        headers = answer["ResponseParameters"]
        assert answer["StatusCode"] == "204"
        assert headers["method.response.header.Access-Control-Allow-Origin"] == f"'{ORIGINS[0]}'"
        assert headers["method.response.header.Vary"] == "'Origin'"
        assert headers["method.response.header.Access-Control-Allow-Headers"] == "'Authorization,*'"
        assert headers["method.response.header.Access-Control-Max-Age"] == f"'{MAX_AGE_SECONDS}'"
        allowed = set(headers["method.response.header.Access-Control-Allow-Methods"].strip("'").split(","))
        assert allowed == {*route_methods, "OPTIONS"}
        # And the other allowed origin is echoed back to its own pages
        assert f'#if($origin == "{ORIGINS[1]}")' in answer["ResponseTemplates"]["application/json"]


def test_with_origins_the_route_table_is_still_all_that_is_served(browser: Template) -> None:
    served = [
        (path, verb, method)
        for path, methods in methods_by_path(browser).items()
        for verb, method in methods.items()
        if verb != "OPTIONS"
    ]
    # Then besides the preflights, one streaming Lambda method per route, and no other
    assert sorted((path, verb) for path, verb, _ in served) == sorted((r.apigw_path, r.method) for r in ROUTES)
    for _, _, method in served:
        assert (method["Integration"]["Type"], method["Integration"]["ResponseTransferMode"]) == ("AWS_PROXY", "STREAM")


def test_with_origins_the_functions_add_the_headers_to_their_answers(browser: Template) -> None:
    functions = http_functions(browser)
    assert len(functions) == len(FUNCTIONS)
    for function in functions:
        assert function["Environment"]["Variables"][constants.CORS_ORIGINS_ENV] == ",".join(ORIGINS)
    # The plain handlers (run executor, dead letters) answer no browser
    workers = [p for p in props(browser, "AWS::Lambda::Function") if p["Handler"] != constants.HANDLER]
    assert workers
    assert all(constants.CORS_ORIGINS_ENV not in w.get("Environment", {}).get("Variables", {}) for w in workers)


# -- API Gateway's own answers ----------------------------------------------------------------------
EXPECTED = {
    # response type: (status, error type, code)
    "MISSING_AUTHENTICATION_TOKEN": ("404", "invalid_request_error", "unknown_url"),
    "THROTTLED": ("429", "rate_limit_error", "rate_limit_exceeded"),
    "REQUEST_TOO_LARGE": ("413", "invalid_request_error", "request_too_large"),
    "DEFAULT_4XX": (None, "invalid_request_error", None),
    "DEFAULT_5XX": (None, "server_error", None),
}


def _filled(template: str) -> dict[str, Any]:
    """The body API Gateway sends, with its variables filled in."""
    body = template.replace("$context.error.messageString", '"Too Many Requests"')
    body = body.replace("$context.httpMethod", "GET").replace("$context.path", "/v1/nope")
    parsed: dict[str, Any] = json.loads(body)
    return parsed


@pytest.mark.parametrize("config", ["plain", "browser"])
def test_gateway_errors_are_openai_errors(config: str, request: pytest.FixtureRequest) -> None:
    responses = gateway_responses(request.getfixturevalue(config))
    assert set(responses) == set(EXPECTED)
    for response_type, (status, error_type, code) in EXPECTED.items():
        response = responses[response_type]
        assert response.get("StatusCode") == status
        error = _filled(response["ResponseTemplates"]["application/json"])["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert (error["type"], error["code"]) == (error_type, code)
        assert isinstance(error["message"], str) and error["message"]
    # The SDK waits as told before retrying a throttled request
    assert responses["THROTTLED"]["ResponseParameters"]["gatewayresponse.header.Retry-After"] == "'1'"


def test_gateway_errors_are_readable_by_allowed_pages(browser: Template, one_origin: Template) -> None:
    for template, origin in ((browser, "method.request.header.Origin"), (one_origin, f"'{ORIGINS[0]}'")):
        for response in gateway_responses(template).values():
            headers = response["ResponseParameters"]
            # With several origins the gateway cannot choose, so it echoes the caller's (fixed texts only)
            assert headers["gatewayresponse.header.Access-Control-Allow-Origin"] == origin
            assert headers["gatewayresponse.header.Vary"] == "'Origin'"
            exposed = headers["gatewayresponse.header.Access-Control-Expose-Headers"].strip("'").split(",")
            assert exposed == list(EXPOSED_HEADERS)


def test_the_url_is_an_output(browser: Template) -> None:
    assert "BaseUrl" in browser["Outputs"]


def test_templates_with_cors_pass_cfn_lint(browser: Template, one_origin: Template) -> None:
    cfnlint_api = pytest.importorskip("cfnlint.api")
    config = cfnlint_api.ManualArgs(ignore_checks=["W3005"])
    for template in (browser, one_origin):
        assert [str(m) for m in cfnlint_api.lint(json.dumps(template), config=config)] == []
