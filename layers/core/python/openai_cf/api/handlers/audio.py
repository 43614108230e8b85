from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from openai_cf.api.app import services
from openai_cf.api.forms import file_field, read_form, text_fields
from openai_cf.api.handlers import in_thread
from openai_cf.api.parsing import parse_model, read_json
from openai_cf.api.responses import json_response
from openai_cf.schemas.audio import SpeechCreateParams, TranscriptionCreateFields, TranslationCreateFields
from openai_cf.services.audio import AudioUpload, check_upload
from openai_cf.services.audio_transcripts import Rendered

F = TypeVar("F", bound=BaseModel)


async def _audio_request(request: Request, fields_model: type[F]) -> tuple[AudioUpload, F]:
    # The multipart reader and binary limit of `POST /v1/files` (413 past ~4.4 MiB).
    form = await read_form(request, max_bytes=services(request).settings.max_binary_request_bytes)
    try:
        part = file_field(form, "file")
        fields = parse_model(fields_model, text_fields(form))
        upload = AudioUpload(data=await part.read(), filename=part.filename or "upload")
    finally:
        await form.close()
    check_upload(upload)
    return upload, fields


def _respond(rendered: Rendered) -> Response:
    if rendered.model is not None:
        return json_response(rendered.model)
    return Response(rendered.body.encode("utf-8"), media_type=rendered.content_type)


async def create_transcription(request: Request) -> Response:
    upload, fields = await _audio_request(request, TranscriptionCreateFields)
    return _respond(await in_thread(request, services(request).audio.transcribe, upload, fields))


async def create_translation(request: Request) -> Response:
    upload, fields = await _audio_request(request, TranslationCreateFields)
    return _respond(await in_thread(request, services(request).audio.translate, upload, fields))


async def create_speech(request: Request) -> Response:
    params = parse_model(SpeechCreateParams, await read_json(request))
    audio = await in_thread(request, services(request).speech.create, params)
    # A plain iterator: Starlette pulls each upstream chunk in a worker thread as the client reads.
    return StreamingResponse(iter(audio.chunks), media_type=audio.content_type)
