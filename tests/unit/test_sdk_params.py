"""Every argument the pinned SDK can send is a field we know (accepted, or refused by name).

Unknown arguments are 400s, as at OpenAI; this keeps an SDK upgrade from turning into 400s."""

from __future__ import annotations

import typing

import pytest
from openai.types import completion_create_params, embedding_create_params
from openai.types.chat import completion_create_params as chat_create_params
from pydantic import BaseModel

from openai_cf.schemas.chat import ChatCompletionCreateParams
from openai_cf.schemas.completions import CompletionCreateParams
from openai_cf.schemas.embeddings import EmbeddingCreateParams


@pytest.mark.parametrize(
    ("sdk_params", "ours"),
    [
        (chat_create_params.CompletionCreateParamsBase, ChatCompletionCreateParams),
        (completion_create_params.CompletionCreateParamsBase, CompletionCreateParams),
        (embedding_create_params.EmbeddingCreateParams, EmbeddingCreateParams),
    ],
)
def test_every_sdk_argument_is_known(sdk_params: type, ours: type[BaseModel]) -> None:
    assert set(typing.get_type_hints(sdk_params)) - set(ours.model_fields) == set()
