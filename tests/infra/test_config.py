"""CDK context → DeployConfig: strings from `-c`, JSON from cdk.json, and bad values named."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.infra

pytest.importorskip("aws_cdk", reason="CDK tests need requirements-infra.txt installed")

from infra.config import ConfigError, DeployConfig  # noqa: E402


def test_defaults_when_nothing_is_given() -> None:
    config = DeployConfig.from_mapping({})
    assert config == DeployConfig()
    assert config.cors_allowed_origins == ()
    assert config.table_deletion_protection is True


def test_cli_strings_and_json_values_both_parse() -> None:
    from_cli = DeployConfig.from_mapping(
        {
            "default_max_tokens": "2048",
            "model_aliases": '{"gpt-4o": "@cf/meta/llama-3.3-70b-instruct-fp8-fast"}',
            "cors_allowed_origins": "https://a.example, https://b.example",
            "table_deletion_protection": "false",
            "throttle_rate_limit": "10",
        }
    )
    from_json = DeployConfig.from_mapping(
        {
            "default_max_tokens": 2048,
            "model_aliases": {"gpt-4o": "@cf/meta/llama-3.3-70b-instruct-fp8-fast"},
            "cors_allowed_origins": ["https://a.example", "https://b.example"],
            "table_deletion_protection": False,
            "throttle_rate_limit": 10,
        }
    )
    assert from_cli == from_json
    assert from_cli.cors_allowed_origins == ("https://a.example", "https://b.example")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("default_max_tokens", "many"),
        ("default_max_tokens", "0"),
        ("secret_ttl_seconds", "5m"),
        ("model_aliases", "[1, 2]"),
        ("cors_allowed_origins", "a.example"),
        ("table_deletion_protection", "yes"),
        ("throttle_burst_limit", "-1"),
        ("api_gateway_cloudwatch_role", "no"),
        ("no_such_key", "1"),
    ],
)
def test_a_bad_value_names_its_key(key: str, value: str) -> None:
    with pytest.raises(ConfigError, match=key):
        DeployConfig.from_mapping({key: value})
