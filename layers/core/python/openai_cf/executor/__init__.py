"""The run executor: the Lambda function that reads the run queue and does each run's steps.

`handler.handler` is the entry point (`functions/run_executor/handler.py` re-exports it, and
`openai-cf serve` feeds it SQS events locally); the work of one step is `services.run_worker`.
`dead_letters.handler` ends the runs whose messages went to the dead-letter queue (the
`run_dead_letters` function, and `serve`'s second poller).
This package is the only code that imports aws-lambda-powertools.
"""
