"""Threads wire models (openai-python `types/beta/thread*.py`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from openai_cf.schemas import limits as lim
from openai_cf.schemas.assistants import ToolResources, ToolResourcesParam
from openai_cf.schemas.common import RequestModel
from openai_cf.schemas.messages import MessageCreateParams


class ThreadCreateParams(RequestModel):
    messages: Annotated[list[MessageCreateParams], Field(max_length=lim.MAX_INITIAL_MESSAGES)] = Field(
        default_factory=list
    )
    tool_resources: ToolResourcesParam | None = None
    metadata: lim.Metadata | None = None


class ThreadUpdateParams(RequestModel):
    """Only the fields a request sends change (`model_fields_set`)."""

    tool_resources: ToolResourcesParam | None = None
    metadata: lim.Metadata | None = None


class Thread(BaseModel):
    id: str
    object: Literal["thread"] = "thread"
    created_at: int
    tool_resources: ToolResources | None
    metadata: dict[str, str]


class ThreadDeleted(BaseModel):
    id: str
    object: Literal["thread.deleted"] = "thread.deleted"
    deleted: bool = True
