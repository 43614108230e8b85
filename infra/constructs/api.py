"""The REST API, built from the route table: every route streams from its function.

Every integration uses `responseTransferMode: STREAM` (design decision: one HTTP model everywhere), so
no route has API Gateway's 29 s timeout or 10 MB response cap. Errors API Gateway answers by itself
(unknown route, throttling, integration failure) keep OpenAI's `{"error": {...}}` shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra import constants
from openai_cf.routes import Route


def _error_body(message: str, error_type: str, code: str | None = None) -> str:
    # `message` is a JSON string literal or a mapping-template expression that yields one.
    code_json = f'"{code}"' if code else "null"
    return f'{{"error": {{"message": {message}, "type": "{error_type}", "param": null, "code": {code_json}}}}}'


class OpenAIRestApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        routes: Iterable[Route],
        functions: Mapping[str, lambda_.IFunction],
    ) -> None:
        super().__init__(scope, construct_id)
        access_logs = logs.LogGroup(self, "AccessLogs", retention=constants.LOG_RETENTION)
        self.rest_api = apigw.RestApi(
            self,
            "RestApi",
            description="openai-cf: the OpenAI HTTP API, answered by Cloudflare Workers AI",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            # No account-wide AWS::ApiGateway::Account from this stack: see the deployment notes.
            cloud_watch_role=False,
            binary_media_types=list(constants.BINARY_MEDIA_TYPES),
            deploy_options=apigw.StageOptions(
                stage_name=constants.STAGE_NAME,
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
                # Errors only, and never bodies: prompts and tokens stay out of the logs.
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
            ),
        )
        self._integrations = {name: self._integration(fn) for name, fn in functions.items()}
        for route in routes:
            self.resource_for(route.apigw_path).add_method(route.method, self._integrations[route.function])
        self._add_error_responses()
        self._acknowledge()

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

    def _add_error_responses(self) -> None:
        api = self.rest_api
        # Without IAM auth, API Gateway says "Missing Authentication Token" (403) only for an unknown route.
        api.add_gateway_response(
            "UnknownRoute",
            type=apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN,
            status_code="404",
            templates={
                "application/json": _error_body(
                    '"Invalid URL ($context.httpMethod $context.path)"', "invalid_request_error", "unknown_url"
                )
            },
        )
        api.add_gateway_response(
            "Throttled",
            type=apigw.ResponseType.THROTTLED,
            templates={"application/json": _error_body("$context.error.messageString", "rate_limit_error")},
        )
        api.add_gateway_response(
            "Default4xx",
            type=apigw.ResponseType.DEFAULT_4_XX,
            templates={"application/json": _error_body("$context.error.messageString", "invalid_request_error")},
        )
        api.add_gateway_response(
            "Default5xx",
            type=apigw.ResponseType.DEFAULT_5_XX,
            templates={"application/json": _error_body("$context.error.messageString", "server_error")},
        )

    def _acknowledge(self) -> None:
        reasons = {
            "AwsSolutions-APIG2": "Requests are validated in the app (pydantic), so that failures keep "
            "OpenAI's error shape and status (400 with `param`), which API Gateway's validator cannot give.",
            "AwsSolutions-APIG3": "WAF is deployment polish, outside the minimal app; add a WebACL per deployment.",
            "AwsSolutions-APIG4": "Clients send `Authorization: Bearer <ACCESS_TOKEN>` as the OpenAI SDK "
            "does; the app checks it, so API Gateway has no authorizer.",
            "AwsSolutions-COG4": "No Cognito: OpenAI clients authenticate with a bearer API key, checked in the app.",
        }
        Validations.of(self).acknowledge(*(Acknowledgment(id=rule, reason=reason) for rule, reason in reasons.items()))
