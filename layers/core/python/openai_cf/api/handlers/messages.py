from __future__ import annotations

from functools import partial

from starlette.requests import Request
from starlette.responses import Response

from openai_cf.api.app import services
from openai_cf.api.beta import assistants_v2
from openai_cf.api.handlers import in_thread
from openai_cf.api.parsing import parse_model, parse_query, read_json, read_optional_json
from openai_cf.api.responses import json_response
from openai_cf.schemas.messages import MessageCreateParams, MessageListParams, MessageUpdateParams


@assistants_v2
async def create_message(request: Request) -> Response:
    params = parse_model(MessageCreateParams, await read_json(request))
    thread_id = request.path_params["thread_id"]
    create = partial(services(request).messages.create, thread_id, params, owner=request.state.owner)
    return json_response(await in_thread(request, create))


@assistants_v2
async def list_messages(request: Request) -> Response:
    params = parse_query(MessageListParams, request)
    thread_id = request.path_params["thread_id"]
    return json_response(await in_thread(request, services(request).messages.list, thread_id, params))


@assistants_v2
async def retrieve_message(request: Request) -> Response:
    thread_id, message_id = request.path_params["thread_id"], request.path_params["message_id"]
    return json_response(await in_thread(request, services(request).messages.retrieve, thread_id, message_id))


@assistants_v2
async def update_message(request: Request) -> Response:
    params = parse_model(MessageUpdateParams, await read_optional_json(request))
    thread_id, message_id = request.path_params["thread_id"], request.path_params["message_id"]
    update = services(request).messages.update
    return json_response(await in_thread(request, update, thread_id, message_id, params))


@assistants_v2
async def delete_message(request: Request) -> Response:
    thread_id, message_id = request.path_params["thread_id"], request.path_params["message_id"]
    return json_response(await in_thread(request, services(request).messages.delete, thread_id, message_id))
