"""Thread messages wire models (openai-python `types/beta/threads/message*.py`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from openai_cf.schemas import limits as lim
from openai_cf.schemas.common import RequestModel
from openai_cf.schemas.pagination import ListParams

Detail = Literal["auto", "low", "high"]
FileId = Annotated[str, Field(min_length=1, max_length=lim.MAX_OBJECT_ID)]


# -- request -------------------------------------------------------------------------------------
class TextContentBlockParam(RequestModel):
    type: Literal["text"]
    text: Annotated[str, Field(max_length=lim.MAX_MESSAGE_TEXT)]


class ImageURLParam(RequestModel):
    url: Annotated[str, Field(min_length=1, max_length=lim.MAX_IMAGE_URL)]
    detail: Detail | None = None

    @field_validator("url")
    @classmethod
    def _web_or_data(cls, url: str) -> str:
        # Fetched (with the chat path's SSRF guard) only when a run sends it to a model; refuse
        # what can never be an image address now.
        if not url.lower().startswith(("https://", "http://", "data:")):
            raise ValueError("an image URL must be an http(s) or data: URL")
        return url


class ImageURLContentBlockParam(RequestModel):
    type: Literal["image_url"]
    image_url: ImageURLParam


class ImageFileParam(RequestModel):
    file_id: FileId
    detail: Detail | None = None


class ImageFileContentBlockParam(RequestModel):
    type: Literal["image_file"]
    image_file: ImageFileParam


MessageContentPartParam = Annotated[
    TextContentBlockParam | ImageURLContentBlockParam | ImageFileContentBlockParam, Field(discriminator="type")
]


class CodeInterpreterToolParam(RequestModel):
    type: Literal["code_interpreter"]


class FileSearchToolParam(RequestModel):
    type: Literal["file_search"]


AttachmentToolParam = Annotated[CodeInterpreterToolParam | FileSearchToolParam, Field(discriminator="type")]


class AttachmentParam(RequestModel):
    file_id: FileId
    tools: Annotated[list[AttachmentToolParam], Field(max_length=2)] = Field(default_factory=list)


class MessageCreateParams(RequestModel):
    role: Literal["user", "assistant"]
    content: (
        Annotated[str, Field(max_length=lim.MAX_MESSAGE_TEXT)]
        | Annotated[list[MessageContentPartParam], Field(min_length=1, max_length=lim.MAX_CONTENT_PARTS)]
    )
    attachments: Annotated[list[AttachmentParam], Field(max_length=lim.MAX_ATTACHMENTS)] | None = None
    metadata: lim.Metadata | None = None


class MessageUpdateParams(RequestModel):
    metadata: lim.Metadata | None = None


class MessageListParams(ListParams):
    run_id: str | None = Field(default=None, min_length=1, max_length=lim.MAX_OBJECT_ID)


# -- response ------------------------------------------------------------------------------------
class Text(BaseModel):
    value: str
    annotations: list[dict[str, Any]] = Field(default_factory=list)


class TextContentBlock(BaseModel):
    type: Literal["text"] = "text"
    text: Text


class ImageURL(BaseModel):
    url: str
    detail: Detail = "auto"


class ImageURLContentBlock(BaseModel):
    type: Literal["image_url"] = "image_url"
    image_url: ImageURL


class ImageFile(BaseModel):
    file_id: str
    detail: Detail = "auto"


class ImageFileContentBlock(BaseModel):
    type: Literal["image_file"] = "image_file"
    image_file: ImageFile


MessageContent = Annotated[TextContentBlock | ImageURLContentBlock | ImageFileContentBlock, Field(discriminator="type")]


class AttachmentTool(BaseModel):
    type: Literal["code_interpreter", "file_search"]


class Attachment(BaseModel):
    file_id: str
    tools: list[AttachmentTool] = Field(default_factory=list)


IncompleteReason = Literal["content_filter", "max_tokens", "run_cancelled", "run_expired", "run_failed"]


class IncompleteDetails(BaseModel):
    reason: IncompleteReason


MessageStatus = Literal["in_progress", "incomplete", "completed"]


class Message(BaseModel):
    id: str
    object: Literal["thread.message"] = "thread.message"
    created_at: int
    thread_id: str
    status: MessageStatus
    incomplete_details: IncompleteDetails | None
    completed_at: int | None
    incomplete_at: int | None
    role: Literal["user", "assistant"]
    content: list[MessageContent]
    assistant_id: str | None
    run_id: str | None
    attachments: list[Attachment] | None
    metadata: dict[str, str]


class MessageDeleted(BaseModel):
    id: str
    object: Literal["thread.message.deleted"] = "thread.message.deleted"
    deleted: bool = True
