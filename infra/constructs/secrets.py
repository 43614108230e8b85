"""The one secret: the API's bearer token and the Cloudflare credentials, as a JSON object.

`ACCESS_TOKEN` is generated at creation. The operator fills in `CLOUDFLARE_ACCOUNT_ID` and
`CLOUDFLARE_API_TOKEN` after the first deploy (`aws secretsmanager put-secret-value`); until then the
functions have no upstream credentials.
"""

from __future__ import annotations

import json

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra import constants


class AppSecret(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            description="openai-cf: ACCESS_TOKEN (generated), CLOUDFLARE_ACCOUNT_ID, CLOUDFLARE_API_TOKEN",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps(dict.fromkeys(constants.OPERATOR_SECRET_KEYS, "")),
                generate_string_key=constants.GENERATED_SECRET_KEY,
                exclude_punctuation=True,
                password_length=48,
            ),
        )
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SMG4",
                reason="The Cloudflare token is issued by Cloudflare and the access token is shared with "
                "clients; both are rotated by hand until a rotation function exists.",
            )
        )

    def bind(self, function: lambda_.Function) -> None:
        """Give a function the secret's ARN and read access to it (and nothing else)."""
        function.add_environment(constants.SECRET_ARN_ENV, self.secret.secret_arn)
        self.secret.grant_read(function)
