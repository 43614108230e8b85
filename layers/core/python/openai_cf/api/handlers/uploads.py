from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from openai_cf.api.app import services
from openai_cf.api.forms import file_field, read_form, text_fields
from openai_cf.api.handlers import in_thread
from openai_cf.api.parsing import parse_model, read_json
from openai_cf.api.responses import json_response
from openai_cf.schemas.uploads import AddPartFields, UploadCompleteParams, UploadCreateParams


async def create_upload(request: Request) -> Response:
    params = parse_model(UploadCreateParams, await read_json(request))
    owner = request.state.owner
    return json_response(await in_thread(request, lambda: services(request).uploads.create(params, owner=owner)))


async def add_upload_part(request: Request) -> Response:
    svc = services(request)
    upload_id = request.path_params["upload_id"]
    form = await read_form(request, max_bytes=svc.settings.max_binary_request_bytes)
    try:
        data = file_field(form, "data")
        parse_model(AddPartFields, text_fields(form))
        part = await in_thread(
            request, lambda: svc.uploads.add_part(upload_id, data.file, size=data.size or 0, owner=request.state.owner)
        )
    finally:
        await form.close()
    return json_response(part)


async def complete_upload(request: Request) -> Response:
    params = parse_model(UploadCompleteParams, await read_json(request))
    upload_id = request.path_params["upload_id"]
    owner = request.state.owner
    svc = services(request)
    return json_response(await in_thread(request, lambda: svc.uploads.complete(upload_id, params, owner=owner)))


async def cancel_upload(request: Request) -> Response:
    return json_response(await in_thread(request, services(request).uploads.cancel, request.path_params["upload_id"]))
