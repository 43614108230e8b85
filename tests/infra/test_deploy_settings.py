"""CDK context reaches the state and the functions: deletion protection, and the upstream settings
(account id, base URL, model aliases, default max tokens, secret TTL) as the app's variables."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytestmark = pytest.mark.infra

cdk = pytest.importorskip("aws_cdk", reason="CDK tests need requirements-infra.txt installed")

from aws_cdk import aws_lambda as lambda_  # noqa: E402
from aws_cdk.assertions import Annotations, Match, Template  # noqa: E402

from infra.config import ConfigError  # noqa: E402
from infra.constructs.secrets import AppSecrets  # noqa: E402
from infra.constructs.storage import Storage  # noqa: E402

GATEWAY = "https://gateway.ai.cloudflare.com/v1/acct123/my-gateway/workers-ai"


def stack_with(context: dict[str, Any], outdir: str) -> tuple[Any, AppSecrets, lambda_.Function]:
    """A bare stack with the secrets, the storage and one function bound as an upstream caller."""
    app = cdk.App(context=context, outdir=outdir)
    stack = cdk.Stack(app, "Settings")
    secrets = AppSecrets(stack, "Secrets")
    Storage(stack, "Storage")
    function = lambda_.Function(
        stack, "Fn", runtime=lambda_.Runtime.PYTHON_3_13, handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): return None"),
    )  # fmt: skip
    secrets.bind_upstream(function)
    return stack, secrets, function


def test_context_reaches_the_functions_as_the_apps_variables(outdir: str) -> None:
    # Given the values a user passes with -c (strings)
    aliases = {"gpt-4o": "@cf/meta/llama-3.3-70b-instruct-fp8-fast"}
    context = {
        "cloudflare_account_id": "acct123", "cloudflare_api_base_url": GATEWAY, "model_aliases": json.dumps(aliases),
        "default_max_tokens": "2048", "secret_ttl_seconds": "60", "table_deletion_protection": "false",
    }  # fmt: skip
    stack, _, _ = stack_with(context, outdir)
    template = Template.from_stack(stack)
    # Then the function gets them under the names openai_cf.settings reads
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    variables = function["Properties"]["Environment"]["Variables"]
    assert {k: v for k, v in variables.items() if not isinstance(v, dict)} == {
        "CLOUDFLARE_ACCOUNT_ID": "acct123", "CLOUDFLARE_API_BASE_URL": GATEWAY,
        "MODEL_ALIASES": json.dumps(aliases, separators=(",", ":")), "OPENAI_CF_DEFAULT_MAX_TOKENS": "2048",
        "OPENAI_CF_SECRET_TTL_SECONDS": "60",
    }  # fmt: skip
    # And the table may be deleted (the operator asked for it)
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable", {"Replicas": [Match.object_like({"DeletionProtectionEnabled": False})]}
    )
    # And, an account id given, no warning
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp("Cloudflare account id"))


def test_without_an_account_id_the_synth_warns(outdir: str) -> None:
    stack, _, _ = stack_with({}, outdir)
    Annotations.from_stack(stack).has_warning("*", Match.string_like_regexp("cloudflare_account_id"))
    template = Template.from_stack(stack)
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable", {"Replicas": [Match.object_like({"DeletionProtectionEnabled": True})]}
    )


def test_aliases_too_long_for_lambdas_environment_fail_the_synth(outdir: str) -> None:
    aliases = {f"model-{n}": "@cf/meta/llama-3.3-70b-instruct-fp8-fast" for n in range(60)}
    with pytest.raises(ConfigError, match="model_aliases"):
        stack_with({"model_aliases": json.dumps(aliases)}, outdir)


def test_context_can_name_another_web_adapter_layer(outdir: str) -> None:
    from infra.constructs.endpoint_function import EndpointFunction

    arn = "arn:aws:lambda:eu-west-1:111122223333:layer:MyAdapterArm64:31"
    app = cdk.App(context={"web_adapter_layer_arn": arn}, outdir=outdir)
    stack = cdk.Stack(app, "Adapter")
    EndpointFunction(stack, "Models", name="models", layers=[])
    (function,) = Template.from_stack(stack).find_resources("AWS::Lambda::Function").values()
    assert function["Properties"]["Layers"] == [arn]
