"""The run executor: the Lambda function that reads the run queue and does each run's steps.

`handler.handler` is the entry point (`functions/run_executor/handler.py` re-exports it, and
`openai-cf serve` feeds it SQS events locally); the work of one step is `services.run_worker`.
This package is the only code that imports aws-lambda-powertools.
"""
