"""openai-cf: the OpenAI HTTP API on AWS Lambda, answered by Cloudflare Workers AI."""

__version__ = "0.1.0"
