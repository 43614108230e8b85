from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from openai_cf.api.app import services
from openai_cf.api.handlers import in_thread
from openai_cf.api.parsing import parse_model, read_json
from openai_cf.api.responses import json_response
from openai_cf.schemas.images import ImageGenerateParams


async def create_image(request: Request) -> Response:
    params = parse_model(ImageGenerateParams, await read_json(request))
    return json_response(await in_thread(request, services(request).images.generate, params))
