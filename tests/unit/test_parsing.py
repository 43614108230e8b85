"""Request bodies → 400s that name the parameter, for the shapes limits and validators produce."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from pydantic import BaseModel, Field, field_validator
from starlette.testclient import TestClient

from openai_cf.api.app import create_app
from openai_cf.api.parsing import parse_model
from openai_cf.errors import InvalidRequestError
from openai_cf.schemas.common import invalid_at
from openai_cf.settings import Settings


class Body(BaseModel):
    stop: str | Annotated[list[str], Field(max_length=2)] | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")

    @field_validator("schema_")
    @classmethod
    def _no_lists(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        for key, inner in (value or {}).items():
            if isinstance(inner, list):
                raise invalid_at((key,), "must not be a list")
        return value


def refusal(data: dict[str, Any]) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        parse_model(Body, data)
    return info.value


def test_a_broken_limit_beats_another_union_branchs_type_error() -> None:
    # Given `stop` as a list one item too long (the `str` branch fails too, with "not a string")
    # When it is parsed
    error = refusal({"stop": ["a", "b", "c"]})
    # Then the 400 names the parameter and says what limit was broken
    assert error.param == "stop"
    assert "at most 2 items" in error.message


def test_a_validator_can_name_a_key_inside_its_value() -> None:
    # Given a validator that finds a bad key deep inside the field's value
    error = refusal({"schema": {"ok": 1, "items": [1]}})
    # Then `param` continues into the value, following what the client sent
    assert error.param == "schema.items"
    assert error.message == "Invalid value for 'schema.items': must not be a list."


def test_json_nested_too_deeply_for_the_decoder_is_a_400_not_a_500() -> None:
    # Given a body whose nesting makes json.loads raise RecursionError
    settings = Settings(access_tokens=("t",))
    client = TestClient(create_app("chat_completions", settings=lambda: settings))
    body = '{"model": "m", "messages": ' + "[" * 100_000 + "]" * 100_000 + "}"
    # When it is posted
    response = client.post(
        "/v1/chat/completions", content=body, headers={"Authorization": "Bearer t", "Content-Type": "application/json"}
    )
    # Then it is refused as bad input in OpenAI's envelope
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
