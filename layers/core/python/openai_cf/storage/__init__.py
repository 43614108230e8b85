"""Where state lives: DynamoDB for objects, S3 for bytes, SQS for queued runs.

One table holds every object; its key design is in `docs/storage.md`. `table.Table` speaks
DynamoDB (items as plain dicts, conditional writes, one Query per page), `blobs.BlobStore` speaks
S3, and one repository per resource maps its storage records to and from the wire models
explicitly; `assembly` joins an upload's parts into one S3 object without holding the file.
Clients come from `aws.AwsClients`, built on first use: boto3 is imported only by the functions
that store something, never at import time.
"""
