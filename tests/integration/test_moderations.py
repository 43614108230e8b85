"""POST /v1/moderations through the official SDK: Llama Guard verdicts in OpenAI's shape."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from openai import OpenAI

from tests.contract.validate import assert_matches

GUARD = "@cf/meta/llama-guard-3-8b"
MODELS = ("omni-moderation-latest", "omni-moderation-2024-09-26", "text-moderation-latest",
          "text-moderation-stable", GUARD)  # fmt: skip


def test_a_string_gets_one_result_and_the_default_model(client: OpenAI) -> None:
    # Given a harmless string and no model (OpenAI defaults to omni-moderation-latest)
    response = client.moderations.create(input="Have a lovely day.")
    # Then one result, not flagged, from Llama Guard
    assert response.id.startswith("modr-")
    assert response.model == GUARD
    [result] = response.results
    assert result.flagged is False
    assert result.category_scores.violence == 0.0
    assert result.category_applied_input_types.hate == ["text"]


@pytest.mark.parametrize("model", MODELS)
def test_every_model_name_is_served_by_llama_guard(client: OpenAI, model: str) -> None:
    response = client.moderations.create(model=model, input="hello emulate:unsafe=S10")
    assert response.model == GUARD
    assert response.results[0].categories.hate is True


def test_a_list_gets_one_result_per_input_in_order(client: OpenAI) -> None:
    # Given a list mixing safe and unsafe inputs (more of them than are classified at once)
    texts = [f"text {i}" + (" emulate:unsafe=S1" if i % 3 == 0 else "") for i in range(20)]
    response = client.moderations.create(model="omni-moderation-latest", input=texts)
    # Then each result belongs to its input
    assert [r.flagged for r in response.results] == [i % 3 == 0 for i in range(20)]


def test_a_flagged_input_maps_hazards_to_categories(client: OpenAI) -> None:
    # Given Llama Guard finding violent crimes (S1) and self-harm (S11)
    result = client.moderations.create(input="emulate:unsafe=S1,S11").results[0]
    # Then the mapped categories (and the parent of a subcategory) are true with score 1.0
    assert result.flagged is True
    flagged = {k for k, v in result.categories.model_dump(by_alias=True).items() if v}
    assert flagged == {"violence", "illicit", "illicit/violent", "self-harm"}
    scores = result.category_scores.model_dump(by_alias=True)
    assert {k for k, v in scores.items() if v == 1.0} == flagged
    assert {v for k, v in scores.items() if k not in flagged} == {0.0}


def test_text_parts_are_classified_together(client: OpenAI) -> None:
    parts: Any = [{"type": "text", "text": "part one"}, {"type": "text", "text": "emulate:unsafe=S12"}]
    response = client.moderations.create(input=parts)
    assert len(response.results) == 1
    assert response.results[0].categories.sexual is True


def test_answers_match_openais_spec(client: OpenAI) -> None:
    for text in ("fine", "emulate:unsafe=S1,S2,S3,S4,S5,S6,S7,S8,S9,S10,S11,S12,S13,S14"):
        raw = client.moderations.with_raw_response.create(input=[text, "also fine"])
        assert_matches("CreateModerationResponse", raw.http_response.json())


def refused(client: OpenAI, **kwargs: Any) -> openai.BadRequestError:
    with pytest.raises(openai.BadRequestError) as info:
        client.moderations.create(**kwargs)
    return info.value


@pytest.mark.parametrize(
    ("value", "param"),
    [
        ("", "input"),
        ([], "input"),
        (["fine", ""], "input[1]"),
        (["fine", 7], "input[1]"),
        (42, "input"),
        ({"text": "x"}, "input"),
        (["x"] * 101, "input"),
        ("x" * 131_073, "input"),
        ([{"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}], "input[0].image_url"),
        ([{"type": "text", "text": 5}], "input[0].text"),
    ],
)
def test_bad_inputs_are_400s_naming_the_param(client: OpenAI, value: Any, param: str) -> None:
    error = refused(client, input=value)
    assert error.status_code == 400
    assert error.param == param


def test_missing_input_is_a_400(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.post("/moderations", body={"model": "omni-moderation-latest"}, cast_to=object)
    assert info.value.param == "input"


def test_unknown_and_non_moderation_models_are_refused(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as missing:
        client.moderations.create(model="omni-moderation-9000", input="x")
    assert missing.value.param == "model"
    error = refused(client, model="gpt-4o", input="x")
    assert (error.param, error.code) == ("model", "model_not_supported")
    error = refused(client, model="text-embedding-3-small", input="x")
    assert error.param == "model"


def test_an_upstream_failure_is_reported_not_hidden(client: OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as info:
        client.moderations.create(input=["fine", "emulate:error=3040"])
    assert info.value.status_code >= 429
