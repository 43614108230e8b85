from __future__ import annotations

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response

from openai_cf.api.app import services
from openai_cf.api.forms import file_field, file_fields, read_form, text_fields
from openai_cf.api.handlers import in_thread
from openai_cf.api.parsing import parse_model, read_json
from openai_cf.api.responses import json_response
from openai_cf.schemas.images import ImageEditFields, ImageGenerateParams, ImageVariationFields
from openai_cf.services.image_edits import Picture

# OpenAI takes up to 16 input images and a mask; the body limit bounds their bytes.
MAX_EDIT_FILES = 17


async def create_image(request: Request) -> Response:
    params = parse_model(ImageGenerateParams, await read_json(request))
    return json_response(await in_thread(request, services(request).images.generate, params))


async def _picture(upload: UploadFile, param: str) -> Picture:
    return Picture(param=param, data=await upload.read())


async def _form(request: Request, max_files: int) -> FormData:
    return await read_form(request, max_bytes=services(request).settings.max_binary_request_bytes, max_files=max_files)


async def create_image_edit(request: Request) -> Response:
    form = await _form(request, MAX_EDIT_FILES)
    try:
        fields = parse_model(ImageEditFields, text_fields(form))
        pictures = [await _picture(upload, "image") for upload in file_fields(form, "image")]
        mask_file = form.get("mask")
        mask = await _picture(mask_file, "mask") if isinstance(mask_file, UploadFile) else None
    finally:
        await form.close()
    return json_response(await in_thread(request, services(request).image_edits.edit, fields, pictures, mask))


async def create_image_variation(request: Request) -> Response:
    form = await _form(request, 1)
    try:
        fields = parse_model(ImageVariationFields, text_fields(form))
        picture = await _picture(file_field(form, "image"), "image")
    finally:
        await form.close()
    return json_response(await in_thread(request, services(request).image_edits.vary, fields, picture))
