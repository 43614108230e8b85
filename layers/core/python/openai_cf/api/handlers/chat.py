from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from openai_cf.api.app import services
from openai_cf.api.handlers import answer
from openai_cf.api.parsing import parse_model, read_json
from openai_cf.schemas.chat import ChatCompletionCreateParams


async def create_chat_completion(request: Request) -> Response:
    params = parse_model(ChatCompletionCreateParams, await read_json(request))
    svc = services(request)
    return await answer(
        request,
        params,
        stream=bool(params.stream),
        create=svc.chat.create,
        open_stream=svc.chat.stream,
        keepalive_seconds=svc.settings.sse_keepalive_seconds,
    )
