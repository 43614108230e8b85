from __future__ import annotations

from functools import partial

from starlette.requests import Request
from starlette.responses import Response

from openai_cf.api.app import services
from openai_cf.api.beta import assistants_v2
from openai_cf.api.handlers import in_thread
from openai_cf.api.parsing import parse_model, read_optional_json
from openai_cf.api.responses import json_response
from openai_cf.schemas.threads import ThreadCreateParams, ThreadUpdateParams


@assistants_v2
async def create_thread(request: Request) -> Response:
    params = parse_model(ThreadCreateParams, await read_optional_json(request))
    create = partial(services(request).threads.create, params, owner=request.state.owner)
    return json_response(await in_thread(request, create))


@assistants_v2
async def retrieve_thread(request: Request) -> Response:
    thread_id = request.path_params["thread_id"]
    return json_response(await in_thread(request, services(request).threads.retrieve, thread_id))


@assistants_v2
async def update_thread(request: Request) -> Response:
    params = parse_model(ThreadUpdateParams, await read_optional_json(request))
    thread_id = request.path_params["thread_id"]
    return json_response(await in_thread(request, services(request).threads.update, thread_id, params))


@assistants_v2
async def delete_thread(request: Request) -> Response:
    thread_id = request.path_params["thread_id"]
    return json_response(await in_thread(request, services(request).threads.delete, thread_id))
