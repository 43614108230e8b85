"""The state: one DynamoDB table for objects, one S3 bucket for bytes (docs/storage.md).

The table is on-demand with point-in-time recovery, a TTL attribute and (by default) deletion
protection; the bucket is private, encrypted and TLS-only. Lifecycle rules clear what nothing
refers to any more: part bytes (`uploads/`) of uploads nobody completed or cancelled, S3 multipart
uploads a crashed assembly never aborted, and generated images (`images/`) after a day.

`bind` gives a function the names and exactly the access its code needs (`ACCESS`, by function).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import cast

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra import constants
from infra.config import DeployConfig
from openai_cf.storage.blobs import EXPIRY_TAG, EXPIRY_TAG_MAX_DAYS

# Every DynamoDB call the storage layer makes (openai_cf.storage.table, and Powertools' idempotency
# records in openai_cf.executor.idempotency): GetItem, BatchGetItem, Query, PutItem, UpdateItem,
# DeleteItem, BatchWriteItem, and TransactWriteItems, which IAM checks as the Put/Update/Delete/
# ConditionCheckItem it contains. `grant_read_write_data` would add Scan (nothing scans: every list
# is one Query), DescribeTable and the stream reads. The storage functions share this list rather
# than each get a subset: they write the same items, any one of PutItem/UpdateItem/DeleteItem
# already reaches every item, and a per-function subset would break at run time (moto enforces no
# IAM) the day a repository starts to use a call it did not before.
TABLE_ACTIONS = (
    "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem",
    "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem", "dynamodb:BatchWriteItem",
)  # fmt: skip
_GET, _PUT, _DELETE, _ABORT = "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"
# A PutObject or CreateMultipartUpload that carries tags (the expiry of a file with `expires_after`).
_TAG = "s3:PutObjectTagging"


@dataclass(frozen=True)
class Access:
    """What a function may do to the state: `table` actions, object actions by key prefix, and the
    key prefixes it may list."""

    table: tuple[str, ...] = TABLE_ACTIONS
    objects: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    lists: tuple[str, ...] = ()


# By function, from the services each one's routes call. PutObject also covers a multipart
# upload's create/part/complete calls; UploadPartCopy is GetObject on the source and PutObject on
# the destination; DeleteObjects is DeleteObject on each key.
ACCESS: dict[str, Access] = {
    # Upload (PutObject), download (GetObject), delete (DeleteObjects) of files/<id>.
    "files": Access(objects={constants.FILES_PREFIX: (_GET, _PUT, _TAG, _DELETE)}),
    # Part bytes: written, read and copied into the file, deleted (listed first: `delete_prefix`,
    # on the upload's own prefix only). The file: a multipart upload, aborted or deleted on failure.
    "uploads": Access(
        objects={
            constants.UPLOAD_PARTS_PREFIX: (_GET, _PUT, _DELETE),
            constants.FILES_PREFIX: (_PUT, _TAG, _DELETE, _ABORT),
        },
        lists=(constants.UPLOAD_PARTS_PREFIX,),
    ),
    # Generated images: written once (PutObject), opened through presigned links it signs (GetObject);
    # no table: nothing about an image is recorded.
    "images": Access(table=(), objects={constants.IMAGES_PREFIX: (_GET, _PUT)}),
    # Objects only: a message's file ids are checked against the file records, never the bytes.
    "assistants": Access(),
    "threads": Access(),
    # Streaming runs and the executor send a message's `image_file` parts to the model (GetObject).
    "runs": Access(objects={constants.FILES_PREFIX: (_GET,)}),
    constants.EXECUTOR_NAME: Access(objects={constants.FILES_PREFIX: (_GET,)}),
    # Reads a run (and the step it may settle) and moves it with conditional updates, in a
    # transaction whose items are updates (openai_cf.services.run_ledger): nothing else.
    constants.DEAD_LETTERS_NAME: Access(table=("dynamodb:GetItem", "dynamodb:UpdateItem")),
}
# A function with storage routes that lands later, before it has its own entry above (e.g. the
# audio endpoints): every object action of the bucket, and listing, as before this table existed.
DEFAULT_ACCESS = Access(objects={"": (_GET, _PUT, _DELETE, _ABORT)}, lists=("",))


def access_of(function_name: str) -> Access:
    return ACCESS.get(function_name, DEFAULT_ACCESS)


class Storage(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig | None = None) -> None:
        super().__init__(scope, construct_id)
        config = config or DeployConfig.from_node(self.node)
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
            # Retained when the stack goes, and (unless the operator turned it off to delete the
            # table by hand) protected from a DeleteTable call in the meantime.
            deletion_protection=config.table_deletion_protection,
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
            lifecycle_rules=_lifecycle_rules(),
        )
        Validations.of(self).acknowledge(
            Acknowledgment(
                id="AwsSolutions-S1",
                reason="The bucket holds the API's own file contents, written and read only by its functions, "
                "whose requests are already logged per API call; server access logs would add a second "
                "bucket without new information.",
            )
        )

    def bind(self, function: lambda_.Function, *, name: str) -> None:
        """The table's name and the table actions of function `name`; the bucket's name and its
        object actions, on its key prefixes only, if it has any (`access_of`)."""
        access = access_of(name)
        if access.table:
            function.add_environment(constants.TABLE_ENV, self.table.table_name)
            self.table.grant(function, *access.table)
        if not access.objects:
            return
        function.add_environment(constants.BUCKET_ENV, self.bucket.bucket_name)
        for prefix, actions in access.objects.items():
            function.add_to_role_policy(
                iam.PolicyStatement(actions=list(actions), resources=[self.bucket.arn_for_objects(f"{prefix}*")])
            )
            self._acknowledge_keys(function, prefix)
        for prefix in access.lists:
            # Listing under `prefix` only (no condition for the whole bucket).
            conditions = {"StringLike": {"s3:prefix": [f"{prefix}*"]}} if prefix else None
            function.add_to_role_policy(
                iam.PolicyStatement(
                    actions=["s3:ListBucket"], resources=[self.bucket.bucket_arn], conditions=conditions
                )
            )

    def _acknowledge_keys(self, function: lambda_.Function, prefix: str) -> None:
        cfn_bucket = cast(s3.CfnBucket, self.bucket.node.default_child)
        bucket_id = Stack.of(self).resolve(Stack.of(self).get_logical_id(cfn_bucket))
        # The statement lands in the role's default policy, so the acknowledgment goes on the role.
        Validations.of(function.role or function).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{bucket_id}.Arn>/{prefix}*]",
                reason="Object keys are made at run time, one per file and per upload part (files/<id>, "
                "uploads/<id>/<part>); the statement names its actions and covers one key prefix of this "
                "one bucket.",
            )
        )


def _lifecycle_rules() -> list[s3.LifecycleRule]:
    return [
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
        # A file with `expires_after` carries its expiry in whole days as a tag (openai_cf.storage.blobs):
        # its bytes go when its record does (DynamoDB's TTL), at most a day or so later.
        *(
            s3.LifecycleRule(
                id=f"ExpireFilesAfter{days}Days",
                prefix=constants.FILES_PREFIX,
                tag_filters={EXPIRY_TAG: str(days)},
                expiration=Duration.days(days),
            )
            for days in range(1, EXPIRY_TAG_MAX_DAYS + 1)
        ),
        # A generated image is handed out once (a URL valid for an hour, as OpenAI's are); no object
        # refers to it later, so nothing else would ever delete it.
        s3.LifecycleRule(
            id="ExpireGeneratedImages",
            prefix=constants.IMAGES_PREFIX,
            expiration=constants.IMAGES_EXPIRY,
        ),
    ]
