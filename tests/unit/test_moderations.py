"""Moderations: Llama Guard verdicts read and mapped onto OpenAI's categories, inputs checked."""

from __future__ import annotations

from typing import Any

import pytest

from openai_cf.errors import BadGatewayError, InvalidRequestError
from openai_cf.schemas.moderations import CATEGORIES
from openai_cf.services.moderation_verdicts import HAZARDS, Verdict, read_verdict, to_moderation
from openai_cf.services.moderations import moderation_inputs


@pytest.mark.parametrize(
    ("result", "verdict"),
    [
        ({"response": "safe"}, Verdict(True)),
        ({"response": " safe\n"}, Verdict(True)),
        ({"response": "unsafe\nS1,S10"}, Verdict(False, ("S1", "S10"))),
        ({"response": "unsafe\nS10, S1\n"}, Verdict(False, ("S10", "S1"))),
        ({"response": "unsafe\nS99"}, Verdict(False, ())),
        ({"response": {"safe": True, "categories": []}}, Verdict(True)),
        ({"response": {"safe": False, "categories": ["S4", "S12"]}}, Verdict(False, ("S4", "S12"))),
    ],
)
def test_both_answer_shapes_are_read(result: dict[str, Any], verdict: Verdict) -> None:
    assert read_verdict(result) == verdict


@pytest.mark.parametrize("result", [{"response": "I cannot help"}, {"response": 3}, {}, None, {"response": {}}])
def test_an_answer_without_a_verdict_is_a_bad_gateway(result: Any) -> None:
    with pytest.raises(BadGatewayError):
        read_verdict(result)


def test_every_map_holds_all_thirteen_categories() -> None:
    for verdict in (Verdict(True), Verdict(False, tuple(HAZARDS))):
        result = to_moderation(verdict).model_dump()
        for key in ("categories", "category_scores", "category_applied_input_types"):
            assert list(result[key]) == list(CATEGORIES)
        assert set(result["category_applied_input_types"]["hate"]) == {"text"}


def test_a_safe_verdict_flags_nothing_and_scores_zero() -> None:
    result = to_moderation(Verdict(True))
    assert not result.flagged
    assert not any(result.categories.values())
    assert set(result.category_scores.values()) == {0.0}


def test_codes_map_to_categories_and_subcategories_imply_their_parent() -> None:
    # Given violent crimes (S1) and hate (S10)
    result = to_moderation(Verdict(False, ("S1", "S10")))
    # Then those categories are true with score 1.0, and illicit/violent brings illicit along
    hit = {name for name, value in result.categories.items() if value}
    assert hit == {"violence", "illicit/violent", "illicit", "hate"}
    assert {name for name, score in result.category_scores.items() if score == 1.0} == hit
    assert result.flagged
    assert to_moderation(Verdict(False, ("S4",))).categories["sexual"]


@pytest.mark.parametrize("code", ["S6", "S7", "S8", "S13"])
def test_hazards_without_an_openai_counterpart_do_not_flag(code: str) -> None:
    assert not to_moderation(Verdict(False, (code,))).flagged


def test_inputs_one_per_string_and_one_for_all_parts() -> None:
    assert moderation_inputs("a") == ["a"]
    assert moderation_inputs(["a", "b"]) == ["a", "b"]
    parts = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    assert moderation_inputs(parts) == ["a\nb"]


@pytest.mark.parametrize(
    ("value", "param"),
    [
        ("", "input"),
        ("   ", "input"),
        ([], "input"),
        (["ok", ""], "input[1]"),
        (["ok", 3], "input[1]"),
        ([[1, 2]], "input[0]"),
        ("x" * 131_073, "input"),
        ([{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "https://x/y.png"}}],
         "input[1].image_url"),
        ([{"type": "text", "text": "a"}, "b"], "input[1]"),
        ([{"type": "audio", "text": "a"}], "input[0].type"),
        ([{"type": "text"}], "input[0].text"),
        ([{"type": "text", "text": "a", "extra": 1}], "input[0]"),
    ],
)  # fmt: skip
def test_bad_inputs_name_their_param(value: Any, param: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        moderation_inputs(value)
    assert info.value.param == param
