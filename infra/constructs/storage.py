"""The state: one DynamoDB table for objects, one S3 bucket for bytes (docs/storage.md).

The table is on-demand with point-in-time recovery and a TTL attribute; the bucket is private,
encrypted and TLS-only. `bind` gives a function the names and read/write access to exactly these
two resources. (Retention, lifecycle rules and deletion protection settings come with the
deployment issue.)
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, RemovalPolicy, Stack, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import constants


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.TableV2(
            self,
            "Table",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing=dynamodb.Billing.on_demand(),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=constants.TABLE_TTL_ATTRIBUTE,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=False,
            removal_policy=RemovalPolicy.RETAIN,
        )
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason="The bucket holds the API's own file contents, written and read only by its functions, "
                "whose requests are already logged per API call; server access logs would add a second "
                "bucket without new information.",
            )
        )

    def bind(self, function: lambda_.Function) -> None:
        """Names and read/write access to the table and the bucket (and nothing else)."""
        function.add_environment(constants.TABLE_ENV, self.table.table_name)
        function.add_environment(constants.BUCKET_ENV, self.bucket.bucket_name)
        self.table.grant_read_write_data(function)
        self.bucket.grant_read_write(function)
        # CDK's read/write grant on one bucket uses action groups and `<bucket>/*`: objects are named
        # by ids made at run time, so no narrower resource exists. Acknowledged finding by finding,
        # so a wildcard anything else adds to the role still fails the synth.
        reason = (
            "Read/write on this one bucket and its objects (CDK's grant_read_write): object keys are ids "
            "made at run time, so the objects cannot be listed more narrowly than <bucket>/*."
        )
        findings = [f"Action::s3:{group}" for group in _GRANT_ACTION_GROUPS] + [
            f"Resource::<{Stack.of(self).get_logical_id(self.bucket.node.default_child)}.Arn>/*"  # type: ignore[arg-type]
        ]
        Validations.of(function.role).acknowledge(  # type: ignore[arg-type]
            *(Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[{finding}]", reason=reason) for finding in findings)
        )


# The action groups `Bucket.grant_read_write` grants.
_GRANT_ACTION_GROUPS = ("GetObject*", "GetBucket*", "List*", "DeleteObject*", "Abort*")
