from __future__ import annotations

from functools import partial

from starlette.requests import Request
from starlette.responses import Response

from openai_cf.api.app import services
from openai_cf.api.beta import assistants_v2
from openai_cf.api.handlers import in_thread
from openai_cf.api.parsing import parse_model, parse_query, read_json, read_optional_json
from openai_cf.api.responses import json_response
from openai_cf.schemas.assistants import AssistantCreateParams, AssistantListParams, AssistantUpdateParams


@assistants_v2
async def create_assistant(request: Request) -> Response:
    params = parse_model(AssistantCreateParams, await read_json(request))
    create = partial(services(request).assistants.create, params, owner=request.state.owner)
    return json_response(await in_thread(request, create))


@assistants_v2
async def list_assistants(request: Request) -> Response:
    params = parse_query(AssistantListParams, request)
    return json_response(await in_thread(request, services(request).assistants.list, params))


@assistants_v2
async def retrieve_assistant(request: Request) -> Response:
    assistant_id = request.path_params["assistant_id"]
    return json_response(await in_thread(request, services(request).assistants.retrieve, assistant_id))


@assistants_v2
async def update_assistant(request: Request) -> Response:
    params = parse_model(AssistantUpdateParams, await read_optional_json(request))
    assistant_id = request.path_params["assistant_id"]
    return json_response(await in_thread(request, services(request).assistants.update, assistant_id, params))


@assistants_v2
async def delete_assistant(request: Request) -> Response:
    assistant_id = request.path_params["assistant_id"]
    return json_response(await in_thread(request, services(request).assistants.delete, assistant_id))
