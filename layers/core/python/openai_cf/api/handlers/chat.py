from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from openai_cf.api.app import services
from openai_cf.api.parsing import parse_model, read_json
from openai_cf.api.responses import json_response
from openai_cf.api.sse import sse_response
from openai_cf.schemas.chat import ChatCompletionCreateParams


async def create_chat_completion(request: Request) -> Response:
    params = parse_model(ChatCompletionCreateParams, await read_json(request))
    svc = services(request)
    if params.stream:
        chunks = await run_in_threadpool(svc.chat.stream, params)
        return sse_response(chunks, keepalive_seconds=svc.settings.sse_keepalive_seconds)
    return json_response(await run_in_threadpool(svc.chat.create, params))
