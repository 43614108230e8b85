"""The `run_dead_letters` function: a plain Lambda handler fed by the run queue's dead-letter queue.
It ends the runs whose messages the queue gave up on (`openai_cf.executor.dead_letters`, in the
shared layer, so that `openai-cf serve` calls the very same handler)."""

from openai_cf.executor.dead_letters import handler

__all__ = ["handler"]
