from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from openai_cf.api.app import services
from openai_cf.api.handlers import answer
from openai_cf.api.parsing import parse_model, read_json
from openai_cf.schemas.completions import CompletionCreateParams


async def create_completion(request: Request) -> Response:
    params = parse_model(CompletionCreateParams, await read_json(request))
    svc = services(request)
    return await answer(
        request,
        params,
        stream=bool(params.stream),
        create=svc.completions.create,
        open_stream=svc.completions.stream,
        keepalive_seconds=svc.settings.sse_keepalive_seconds,
    )
