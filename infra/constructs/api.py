"""The REST API, built from the route table: every route streams from its function.

Every integration uses `responseTransferMode: STREAM` (design decision: one HTTP model everywhere), so
no route has API Gateway's 29 s timeout or 10 MB response cap. The stage is throttled (context
`throttle_rate_limit` / `throttle_burst_limit`) and writes JSON access logs. Errors API Gateway
answers by itself (unknown route, throttling, a body over its limit, integration failures) keep
OpenAI's `{"error": {...}}` shape.

CORS (context `cors_allowed_origins`, off by default): API Gateway answers each route resource's
preflight `OPTIONS` with a MOCK integration (no function runs, no key needed), its own error answers
carry `Access-Control-Allow-Origin`, and the functions get the origins in
`OPENAI_CF_CORS_ALLOWED_ORIGINS`: their answers stream through Lambda proxy integrations, so the
app adds the headers to them (openai_cf/api/cors.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import constants
from infra.config import DeployConfig
from openai_cf.api.cors import ALLOWED_HEADERS, EXPOSED_HEADERS, MAX_AGE_SECONDS
from openai_cf.routes import Route

# What each access log line records: who, what, how it ended, and where the time went. Never bodies,
# headers or the caller's key. `errorType` names the gateway response for answers API Gateway gave
# itself (THROTTLED, MISSING_AUTHENTICATION_TOKEN ...: the throttling alarm counts THROTTLED);
# `timeToAllHeaders` is the stream's time to its status line, `integrationLatency` its whole length.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationStatus": "$context.integration.status",
    "integrationLatency": "$context.integration.latency",
    "timeToAllHeaders": "$context.integration.timeToAllHeaders",
    "integrationError": "$context.integration.error",
    "errorType": "$context.error.responseType",
}


# The managed policy CDK gives the account's API Gateway CloudWatch role (as nag names it).
CLOUDWATCH_ROLE_POLICY = "arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"


def _error_body(message: str, error_type: str, code: str | None = None) -> str:
    # `message` is a JSON string literal or a mapping-template expression that yields one.
    code_json = f'"{code}"' if code else "null"
    return f'{{"error": {{"message": {message}, "type": "{error_type}", "param": null, "code": {code_json}}}}}'


def _quoted(value: str) -> str:
    """A static header value in API Gateway's parameter-mapping syntax."""
    return f"'{value}'"


class OpenAIRestApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        routes: Iterable[Route],
        functions: Mapping[str, lambda_.Function],
        config: DeployConfig | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        config = config or DeployConfig.from_node(self.node)
        self.cors_allowed_origins = config.cors_allowed_origins
        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=constants.LOG_RETENTION)
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            # The name CloudWatch files API Gateway's metrics under (monitoring.py reads them by it).
            rest_api_name=Stack.of(self).stack_name,
            description="openai-cf: the OpenAI HTTP API, answered by Cloudflare Workers AI",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # API Gateway writes access and execution logs only with a CloudWatch role set in the
            # account's API Gateway settings, one per region; a fresh account has none, and the stage
            # then fails to deploy ("CloudWatch Logs role ARN must be set in account settings"). So
            # the stack sets it (AWS::ApiGateway::Account). That setting is the region's, shared with
            # every other REST API of the account: it is retained when the stack is deleted, so that
            # those APIs keep logging. Context `api_gateway_cloudwatch_role=false` leaves it alone
            # (where a landing zone manages it).
            cloud_watch_role=config.api_gateway_cloudwatch_role,
            cloud_watch_role_removal_policy=RemovalPolicy.RETAIN if config.api_gateway_cloudwatch_role else None,
            binary_media_types=list(constants.BINARY_MEDIA_TYPES),
            deploy_options=apigw.StageOptions(
                stage_name=constants.STAGE_NAME,
                throttling_rate_limit=config.throttle_rate_limit,
                throttling_burst_limit=config.throttle_burst_limit,
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.custom(_json_format(ACCESS_LOG_FIELDS)),
                # Errors only, and never bodies: prompts and tokens stay out of the logs.
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
            ),
        )
        self.stage = self.rest_api.deployment_stage
        self._integrations = {name: self._integration(fn) for name, fn in functions.items()}
        methods: dict[str, list[str]] = {}
        for route in routes:
            self.resource_for(route.apigw_path).add_method(route.method, self._integrations[route.function])
            methods.setdefault(route.apigw_path, []).append(route.method)
        if self.cors_allowed_origins:
            for path, path_methods in methods.items():
                self._add_preflight(self.resource_for(path), path_methods)
            origins = ",".join(self.cors_allowed_origins)
            for function in functions.values():
                function.add_environment(constants.CORS_ORIGINS_ENV, origins)
        self._add_error_responses()
        self._acknowledge(config)

    @staticmethod
    def _integration(function: lambda_.IFunction) -> apigw.LambdaIntegration:
        return apigw.LambdaIntegration(
            function,
            response_transfer_mode=apigw.ResponseTransferMode.STREAM,
            timeout=constants.INTEGRATION_TIMEOUT,
            # Halves the resource-policy statements per method; the console's test-invoke is not used.
            allow_test_invoke=False,
        )

    def resource_for(self, path: str) -> apigw.IResource:
        """The resource for `path` (e.g. `/v1/models/{model+}`), creating the missing parents."""
        resource: apigw.IResource = self.rest_api.root
        for part in path.strip("/").split("/"):
            resource = resource.get_resource(part) or resource.add_resource(part)
        return resource

    def _add_preflight(self, resource: apigw.IResource, methods: list[str]) -> None:
        # A MOCK integration: answered by API Gateway itself, without a function or a key. With
        # several origins, CDK's response template echoes the caller's origin when it is listed.
        resource.add_cors_preflight(
            allow_origins=list(self.cors_allowed_origins),
            allow_methods=sorted({*methods, "OPTIONS"}),
            allow_headers=list(ALLOWED_HEADERS),
            # As long as the app's local preflight says (openai_cf/api/cors.py).
            max_age=Duration.seconds(MAX_AGE_SECONDS),
            status_code=204,
        )

    def _cors_headers(self) -> dict[str, str]:
        """Headers for API Gateway's own error answers, so that a browser can read them."""
        if not self.cors_allowed_origins:
            return {}
        origins = self.cors_allowed_origins
        if "*" in origins:
            origin = _quoted("*")
        elif len(origins) == 1:
            origin = _quoted(origins[0])
        else:
            # Gateway responses cannot choose among several origins (no template logic there), so
            # they echo the caller's: these answers carry nothing but a fixed error message.
            origin = "method.request.header.Origin"
        return {
            "Access-Control-Allow-Origin": origin,
            "Vary": _quoted("Origin"),
            "Access-Control-Expose-Headers": _quoted(",".join(EXPOSED_HEADERS)),
        }

    def _add_error_responses(self) -> None:
        api = self.rest_api
        cors = self._cors_headers()

        def respond(name: str, kind: apigw.ResponseType, body: str, status: str | None = None, **headers: str) -> None:
            api.add_gateway_response(
                name,
                type=kind,
                status_code=status,
                response_headers={**cors, **headers} or None,
                templates={"application/json": body},
            )

        # Without IAM auth, API Gateway says "Missing Authentication Token" (403) only for an unknown route.
        respond(
            "UnknownRoute",
            apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
            _error_body('"Invalid URL ($context.httpMethod $context.path)"', "invalid_request_error", "unknown_url"),
            status="404",
        )
        # Stage throttling (context throttle_rate_limit / throttle_burst_limit). The token bucket
        # refills every second, so a second is the honest wait; the SDK honours `retry-after`.
        respond(
            "Throttled",
            apigw.ResponseType.THROTTLED,
            _error_body(
                '"Rate limit reached for requests to this API. Retry after a short wait."',
                "rate_limit_error",
                "rate_limit_exceeded",
            ),
            status="429",
            **{"Retry-After": _quoted("1")},
        )
        # API Gateway's own 10 MB cap; the app refuses smaller bodies over Lambda's 6 MB itself.
        respond(
            "RequestTooLarge",
            apigw.ResponseType.REQUEST_TOO_LARGE,
            _error_body(
                '"Request body is too large for this API. Send files larger than 4 MiB in parts with the '
                'Uploads API (POST /v1/uploads)."',
                "invalid_request_error",
                "request_too_large",
            ),
            status="413",
        )
        respond(
            "Default4xx",
            apigw.ResponseType.DEFAULT_4_XX,
            _error_body("$context.error.messageString", "invalid_request_error"),
        )
        respond(
            "Default5xx",
            apigw.ResponseType.DEFAULT_5_XX,
            _error_body("$context.error.messageString", "server_error"),
        )

    def _acknowledge(self, config: DeployConfig) -> None:
        reasons = {
            "AwsSolutions-APIG2": "Requests are validated in the app (pydantic), so that failures keep "
            "OpenAI's error shape and status (400 with `param`), which API Gateway's validator cannot give.",
            "AwsSolutions-APIG3": "WAF is deployment polish, outside the minimal app; add a WebACL per deployment.",
            "AwsSolutions-APIG4": "Clients send `Authorization: Bearer <ACCESS_TOKEN>` as the OpenAI SDK "
            "does; the app checks it, so API Gateway has no authorizer. CORS preflights (OPTIONS) carry "
            "no credentials by definition and are answered by a MOCK integration.",
            "AwsSolutions-COG4": "No Cognito: OpenAI clients authenticate with a bearer API key, checked in the app.",
        }
        if config.api_gateway_cloudwatch_role:
            reasons[f"AwsSolutions-IAM4[Policy::{CLOUDWATCH_ROLE_POLICY}]"] = (
                "The account's API Gateway CloudWatch role uses AWS's AmazonAPIGatewayPushToCloudWatchLogs: "
                "it serves every REST API of the account in this region (an account setting), so it cannot "
                "be scoped to this API's log groups without breaking the others' logging."
            )
        Validations.of(self).acknowledge(*(Acknowledgment(id=rule, reason=reason) for rule, reason in reasons.items()))


def _json_format(fields: Mapping[str, str]) -> str:
    # Every value quoted: a variable without a value prints "-", which would break unquoted JSON.
    return "{" + ",".join(f'"{key}":"{value}"' for key, value in fields.items()) + "}"
