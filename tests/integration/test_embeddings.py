"""POST /v1/embeddings: order, batching above 100 inputs, float and base64."""

from __future__ import annotations

import base64
import struct

import openai
import pytest
from openai import OpenAI


def test_default_sdk_call_decodes_base64_vectors(client: OpenAI) -> None:
    # The SDK asks for base64 when the caller names no encoding, and decodes it.
    response = client.embeddings.create(model="text-embedding-3-small", input="hello world")
    assert response.object == "list"
    assert len(response.data) == 1
    assert len(response.data[0].embedding) == 768
    assert response.usage.prompt_tokens == 2
    assert response.model == "@cf/baai/bge-base-en-v1.5"


def test_float_and_explicit_base64_agree(client: OpenAI) -> None:
    floats = client.embeddings.create(model="text-embedding-3-small", input="same", encoding_format="float")
    b64 = client.embeddings.create(model="text-embedding-3-small", input="same", encoding_format="base64")
    raw = base64.b64decode(b64.data[0].embedding)  # type: ignore[arg-type]
    decoded = struct.unpack(f"<{len(raw) // 4}f", raw)
    assert decoded == pytest.approx(floats.data[0].embedding, rel=1e-6)


def test_large_batches_are_split_and_order_kept(client: OpenAI) -> None:
    texts = [f"text number {i}" for i in range(250)]
    batch = client.embeddings.create(model="text-embedding-3-small", input=texts, encoding_format="float")
    assert [d.index for d in batch.data] == list(range(250))
    single = client.embeddings.create(model="text-embedding-3-small", input=texts[137], encoding_format="float")
    assert batch.data[137].embedding == single.data[0].embedding


def test_dimensions_other_than_native_are_refused_clearly(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.embeddings.create(model="text-embedding-3-small", input="x", dimensions=256)
    assert info.value.param == "dimensions"


def test_token_arrays_and_empty_strings_are_refused(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.embeddings.create(model="text-embedding-3-small", input=[[1, 2]])
    assert info.value.param == "input[0]"
    with pytest.raises(openai.BadRequestError) as info:
        client.embeddings.create(model="text-embedding-3-small", input=["ok", ""])
    assert info.value.param == "input[1]"


def test_chat_model_is_not_an_embedding_model(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.embeddings.create(model="gpt-4o", input="x")
    assert info.value.param == "model"
