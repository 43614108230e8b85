"""The `run_executor` function: a plain Lambda handler (not behind the Web Adapter), fed by the run
queue's SQS event source. The logic is `openai_cf.executor`, in the shared layer, so that
`openai-cf serve` calls the very same handler."""

from openai_cf.executor.handler import handler

__all__ = ["handler"]
