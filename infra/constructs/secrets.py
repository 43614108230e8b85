"""The two secrets and the upstream settings, each given only to the functions that use them.

    access token secret      generated at creation: the bearer token clients send.
                             Every HTTP function (the auth check), nothing else.
    Cloudflare token secret  filled in by the operator after the first deploy; until then its
                             placeholder reads as "not configured" (500 `upstream_not_configured`).
                             The functions that call Workers AI, and the run executor.

The account id, base URL (Cloudflare's API or an AI Gateway), model aliases and default max tokens
are not secret: CDK context (`infra.config`), handed to the functions that call Workers AI as the
environment variables the app reads. The functions read the secrets through a cache with a TTL
(`openai_cf.credentials`), so a changed secret reaches warm functions within `secret_ttl_seconds`.
"""

from __future__ import annotations

import json

from aws_cdk import Acknowledgment, Annotations, SecretValue, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import constants
from infra.config import ConfigError, DeployConfig

# HTTP functions whose routes never call Workers AI (files, uploads, threads and messages: their
# services are built without the Workers AI client), so they get neither the Cloudflare secret nor
# the upstream settings. A function that lands later gets both until it is listed here.
NO_UPSTREAM_FUNCTIONS = frozenset({"files", "uploads", "threads"})
# Lambda allows 4 KB of environment per function, all variables together.
MAX_ALIASES_BYTES = 2048


def upstream_environment(config: DeployConfig) -> dict[str, str]:
    """The upstream settings as the app's environment variables (openai_cf.settings)."""
    environment = {
        "CLOUDFLARE_API_BASE_URL": config.cloudflare_api_base_url,
        "OPENAI_CF_DEFAULT_MAX_TOKENS": str(config.default_max_tokens),
    }
    if config.cloudflare_account_id:
        environment["CLOUDFLARE_ACCOUNT_ID"] = config.cloudflare_account_id
    if config.model_aliases:
        aliases = json.dumps(config.model_aliases, separators=(",", ":"), sort_keys=True)
        if len(aliases.encode()) > MAX_ALIASES_BYTES:
            raise ConfigError(
                f"context model_aliases is {len(aliases.encode())} bytes of JSON; Lambda's environment takes "
                f"4 KB in all, so keep it under {MAX_ALIASES_BYTES}"
            )
        environment["MODEL_ALIASES"] = aliases
    return environment


class AppSecrets(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig | None = None) -> None:
        super().__init__(scope, construct_id)
        config = config or DeployConfig.from_node(self.node)
        self.access_token = secretsmanager.Secret(
            self,
            "AccessToken",
            description="openai-cf: the API's bearer token (several, comma-separated, while rotating)",
            generate_secret_string=secretsmanager.SecretStringGenerator(exclude_punctuation=True, password_length=48),
        )
        self.cloudflare_token = secretsmanager.Secret(
            self,
            "CloudflareToken",
            description="openai-cf: the Cloudflare API token (Workers AI Read and Edit); put it here after deploying",
            # Not a secret: an empty value that the operator replaces. It never changes in the template,
            # so no deploy writes it over the operator's token.
            secret_string_value=SecretValue.unsafe_plain_text(constants.CLOUDFLARE_SECRET_PLACEHOLDER),
        )
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SMG4",
                reason="The Cloudflare token is issued by Cloudflare and the access token is shared with "
                "clients: neither can be rotated by a Lambda alone. Both are rotated by hand (docs: a new "
                "value reaches warm functions within the secret TTL).",
            )
        )
        self._ttl = str(config.secret_ttl_seconds)
        self._upstream = upstream_environment(config)
        if not config.cloudflare_account_id:
            Annotations.of(self).add_warning_v2(
                "openai-cf:no-cloudflare-account-id",
                "No Cloudflare account id: deploy with -c cloudflare_account_id=<id> (or set it in cdk.json); "
                "until then the API answers 500 upstream_not_configured.",
            )

    def bind_endpoint(self, function: lambda_.Function, *, name: str) -> None:
        """An HTTP function: the access token, and what calling Workers AI takes if its routes do."""
        self._grant(function, self.access_token, constants.ACCESS_TOKEN_SECRET_ENV)
        if name not in NO_UPSTREAM_FUNCTIONS:
            self.bind_upstream(function)

    def bind_upstream(self, function: lambda_.Function) -> None:
        """The Cloudflare token and the upstream settings (nothing of the access token)."""
        self._grant(function, self.cloudflare_token, constants.CLOUDFLARE_SECRET_ENV)
        for key, value in self._upstream.items():
            function.add_environment(key, value)

    def _grant(self, function: lambda_.Function, secret: secretsmanager.Secret, variable: str) -> None:
        # GetSecretValue alone: `grant_read` adds DescribeSecret, which the code never calls. The
        # secrets use the account's aws/secretsmanager key, which needs no grant of ours.
        function.add_environment(variable, secret.secret_arn)
        function.add_environment("OPENAI_CF_SECRET_TTL_SECONDS", self._ttl)
        function.add_to_role_policy(
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[secret.secret_arn])
        )
