from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from openai_cf.api.app import services
from openai_cf.api.forms import file_field, read_form, text_fields
from openai_cf.api.handlers import in_thread
from openai_cf.api.parsing import parse_model, parse_query
from openai_cf.api.responses import json_response
from openai_cf.errors import InvalidRequestError
from openai_cf.schemas.files import FileCreateFields, FileListParams

MAX_FILENAME = 255


async def create_file(request: Request) -> Response:
    svc = services(request)
    form = await read_form(request, max_bytes=svc.settings.max_binary_request_bytes)
    try:
        upload = file_field(form, "file")
        fields = parse_model(FileCreateFields, text_fields(form))
        if not upload.size:
            raise InvalidRequestError("The file is empty.", param="file", code="empty_file")
        filename = (upload.filename or "upload")[-MAX_FILENAME:]
        created = await in_thread(
            request, lambda: svc.files.create(
                upload.file, size=upload.size or 0, filename=filename, purpose=fields.purpose,
                content_type=upload.content_type or "application/octet-stream",
                expires_after=fields.expires_after, owner=request.state.owner,
            ),
        )  # fmt: skip
    finally:
        await form.close()
    return json_response(created)


async def list_files(request: Request) -> Response:
    params = parse_query(FileListParams, request)
    return json_response(await in_thread(request, services(request).files.list, params))


async def retrieve_file(request: Request) -> Response:
    return json_response(await in_thread(request, services(request).files.retrieve, request.path_params["file_id"]))


async def delete_file(request: Request) -> Response:
    return json_response(await in_thread(request, services(request).files.delete, request.path_params["file_id"]))


async def retrieve_file_content(request: Request) -> Response:
    record, blob = await in_thread(request, services(request).files.content, request.path_params["file_id"])
    headers = {"content-length": str(blob.size), "content-disposition": f'attachment; filename="{record.id}"'}
    # A plain iterator: Starlette pulls each S3 chunk in a worker thread as the client reads.
    return StreamingResponse(blob.chunks, media_type=blob.content_type, headers=headers)
