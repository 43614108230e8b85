from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from openai_cf.api.app import services
from openai_cf.api.handlers import in_thread
from openai_cf.api.responses import json_response


async def list_models(request: Request) -> Response:
    return json_response(await in_thread(request, services(request).models.list_models))


async def retrieve_model(request: Request) -> Response:
    model_id = request.path_params["model"]
    return json_response(await in_thread(request, services(request).models.retrieve, model_id))
