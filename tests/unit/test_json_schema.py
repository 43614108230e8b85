"""The shape check of client JSON Schemas, and the 400 it becomes when parsing a chat request."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic_core import PydanticCustomError

from openai_cf.api.parsing import parse_model
from openai_cf.errors import InvalidRequestError
from openai_cf.schemas.chat import ChatCompletionCreateParams
from openai_cf.schemas.json_schema import MAX_DEPTH, MAX_SUBSCHEMAS, check_schemas

WEATHER: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "description": "City"},
        "unit": {"anyOf": [{"type": "string", "enum": ["c", "f"]}, {"type": "null"}]},
        "days": {"type": ["integer", "null"], "minimum": 1},
        "tags": {"type": "array", "items": {"type": "string"}, "prefixItems": [True, {"const": "x"}]},
        "where": {"$ref": "#/$defs/place"},
    },
    "required": ["city"],
    "additionalProperties": False,
    "$defs": {"place": {"oneOf": [{"type": "string"}, {"not": {"type": "null"}}]}},
    "examples": [{"properties": "not a schema keyword here"}],
}


def problem(*schemas: tuple[tuple[Any, ...], Any]) -> tuple[tuple[Any, ...], str]:
    with pytest.raises(PydanticCustomError) as info:
        check_schemas(schemas)
    assert info.value.context is not None
    return info.value.context["inner_path"], info.value.message()


def test_real_schemas_pass() -> None:
    # Given a schema using maps, lists, booleans, $defs and annotations holding look-alike keys
    # Then it passes untouched
    check_schemas([(("tools", 0, "function", "parameters"), WEATHER)])


@pytest.mark.parametrize(
    ("schema", "path", "message"),
    [
        ({"properties": [1]}, ("schema", "properties"), "object whose values are JSON Schemas"),
        ({"properties": {"a": {"anyOf": 5}}}, ("schema", "properties", "a", "anyOf"), "array of JSON Schemas"),
        ({"properties": {"a": {"oneOf": [{}, 3]}}}, ("schema", "properties", "a", "oneOf", 1), "a JSON Schema"),
        ({"items": [True, "x"]}, ("schema", "items", 1), "a JSON Schema"),
        ({"items": 7}, ("schema", "items"), "a JSON Schema"),
        ({"required": "city"}, ("schema", "required"), "array of property names"),
        ({"required": ["a", 1]}, ("schema", "required"), "array of property names"),
        ({"type": 5}, ("schema", "type"), "type name"),
        ({"type": ["string", None]}, ("schema", "type"), "type name"),
        ({"enum": "abc"}, ("schema", "enum"), "array of values"),
        ({"$defs": {"x": {"additionalProperties": []}}}, ("schema", "$defs", "x", "additionalProperties"), "Schema"),
        ({"patternProperties": None}, ("schema", "patternProperties"), "object whose values"),
        ({"allOf": {"a": {}}}, ("schema", "allOf"), "array of JSON Schemas"),
        ({"not": 1}, ("schema", "not"), "a JSON Schema"),
    ],
)
def test_misshapen_keywords_are_named_by_their_path(schema: Any, path: tuple[Any, ...], message: str) -> None:
    # Given a schema with one keyword of the wrong shape
    # When it is checked
    found_path, found_message = problem((("schema",), schema))
    # Then the error points at that keyword and says what it must be
    assert found_path == path
    assert message in found_message


def test_nesting_is_bounded() -> None:
    # Given a schema nested one level deeper than allowed
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(MAX_DEPTH):
        schema = {"items": schema}
    check_schemas([((), schema)])
    # When it is checked
    path, message = problem(((), {"items": schema}))
    # Then the depth is refused where it ran out
    assert len(path) == MAX_DEPTH + 1
    assert "nest" in message


def test_size_is_bounded_across_all_schemas_of_a_request() -> None:
    # Given two schemas that are each within the bound but not together
    half = {"properties": {f"p{i}": {} for i in range(MAX_SUBSCHEMAS // 2)}}
    # When they are checked together
    path, message = problem((("a",), half), (("b",), half))
    # Then the second one is refused
    assert path[0] == "b"
    assert f"at most {MAX_SUBSCHEMAS}" in message


def chat(**kwargs: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], **kwargs}


def tool(parameters: Any) -> dict[str, Any]:
    return {"type": "function", "function": {"name": "f", "parameters": parameters}}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (chat(tools=[tool({"type": "object", "properties": [1]})]), "tools[0].function.parameters.properties"),
        (
            chat(tools=[tool({}), tool({"properties": {"a": {"anyOf": 5}}})]),
            "tools[1].function.parameters.properties.a.anyOf",
        ),
        (chat(functions=[{"name": "f", "parameters": {"required": "a"}}]), "functions[0].parameters.required"),
        (
            chat(response_format={"type": "json_schema", "json_schema": {"name": "n", "schema": {"items": 1}}}),
            "response_format.json_schema.schema.items",
        ),
    ],
)
def test_chat_requests_name_the_misshapen_key(body: dict[str, Any], param: str) -> None:
    # Given a chat request whose tool or response schema has a misshapen keyword
    # When it is parsed
    with pytest.raises(InvalidRequestError) as info:
        parse_model(ChatCompletionCreateParams, body)
    # Then the 400 names the key inside the schema
    assert info.value.param == param
    assert info.value.status == 400
