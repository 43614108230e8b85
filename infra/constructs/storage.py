"""The state: one DynamoDB table for objects, one S3 bucket for bytes (docs/storage.md).

The table is on-demand with point-in-time recovery and a TTL attribute; the bucket is private,
encrypted and TLS-only. `bind` gives a function the names and read/write access to exactly these
two resources: the S3 actions the code calls, by name, rather than `grant_read_write`'s wildcards.
Lifecycle rules clear what the Uploads API can leave behind: part bytes (`uploads/`) of uploads
nobody completed or cancelled, and S3 multipart uploads a crashed assembly never aborted.
(Retention and deletion protection settings come with the deployment issue.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from aws_cdk import Acknowledgment, RemovalPolicy, Stack, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
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
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="AbortIncompleteMultipartUploads",
                    abort_incomplete_multipart_upload_after=constants.INCOMPLETE_MULTIPART_EXPIRY,
                ),
                # An upload lives an hour; its parts are deleted when it completes or is cancelled.
                s3.LifecycleRule(
                    id="ExpireUploadParts",
                    prefix=constants.UPLOAD_PARTS_PREFIX,
                    expiration=constants.UPLOAD_PARTS_EXPIRY,
                ),
            ],
        )
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason="The bucket holds the API's own file contents, written and read only by its functions, "
                "whose requests are already logged per API call; server access logs would add a second "
                "bucket without new information.",
            )
        )

    def bind(
        self, function: lambda_.Function, *, object_actions: Sequence[str] = constants.BUCKET_OBJECT_ACTIONS
    ) -> None:
        """Names and read/write access to the table, and `object_actions` on the bucket's objects
        (and nothing else). Only a function that may delete objects may also list them."""
        function.add_environment(constants.TABLE_ENV, self.table.table_name)
        function.add_environment(constants.BUCKET_ENV, self.bucket.bucket_name)
        self.table.grant_read_write_data(function)
        function.add_to_role_policy(
            iam.PolicyStatement(actions=list(object_actions), resources=[self.bucket.arn_for_objects("*")])
        )
        if "s3:DeleteObject" in object_actions:
            # Listing one upload's part keys (`uploads/<id>/`) to delete them.
            function.add_to_role_policy(
                iam.PolicyStatement(actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn])
            )
        cfn_bucket = cast(s3.CfnBucket, self.bucket.node.default_child)
        bucket_id = Stack.of(self).resolve(Stack.of(self).get_logical_id(cfn_bucket))
        # The statement lands in the role's default policy, so the acknowledgment goes on the role.
        Validations.of(function.role or function).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/*]",
                reason="Object keys are made at run time, one per file and per upload part (files/<id>, "
                "uploads/<id>/<part>); the statement names its actions and covers the objects of this one "
                "bucket only.",
            )
        )
