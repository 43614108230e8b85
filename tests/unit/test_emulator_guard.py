"""The emulator's Llama Guard verdicts: steered by `emulate:unsafe`, valid against the model's schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from starlette.testclient import TestClient

from openai_cf.local.emulator import create_app
from openai_cf.workers_ai.catalog import packaged_models

GUARD = "@cf/meta/llama-guard-3-8b"
TOKEN = "emulator-token"
URL = f"/client/v4/accounts/acct/ai/run/{GUARD}"


@pytest.fixture
def emulator() -> Iterator[TestClient]:
    with TestClient(create_app(api_token=TOKEN)) as client:
        yield client


def _run(client: TestClient, text: str, **extra: Any) -> dict[str, Any]:
    body = {"messages": [{"role": "user", "content": text}], **extra}
    response = client.post(URL, json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["result"]
    jsonschema.validate(result, packaged_models()[GUARD].output_schema or {})
    return result


def test_emulator_verdicts_are_steered_and_match_the_output_schema(emulator: TestClient) -> None:
    assert _run(emulator, "hello")["response"] == "safe"
    assert _run(emulator, "hello emulate:unsafe=S1,S10")["response"] == "unsafe\nS1,S10"
    assert _run(emulator, "emulate:unsafe")["response"] == "unsafe\nS1"
    json_mode = {"response_format": {"type": "json_object"}}
    assert _run(emulator, "x emulate:unsafe=S11", **json_mode)["response"] == {"safe": False, "categories": ["S11"]}
    assert _run(emulator, "x", **json_mode)["response"] == {"safe": True, "categories": []}
    assert _run(emulator, "x")["usage"]["total_tokens"] > 0


def test_emulator_validates_guard_input_against_its_schema(emulator: TestClient) -> None:
    response = emulator.post(URL, json={"prompt": "x"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 5006
