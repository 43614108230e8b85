"""Local development tools: the `openai-cf` CLI, embedded moto, the offline Workers AI emulator.

Not part of the Lambda layer.
"""
