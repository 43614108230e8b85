"""`openai-cf serve` on an installation without the `local` extra: advice, not a traceback.

Each case runs the CLI in a subprocess whose import system refuses some modules, as if `pip install
openai-cf` had been run without `[local]`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from openai_cf.local import cli

REFUSER = textwrap.dedent(
    """
    import sys

    REFUSED = set(sys.argv.pop(1).split(","))

    class Refuse:
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in REFUSED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, Refuse())
    from openai_cf.local.cli import main

    sys.exit(main(sys.argv[1:]))
    """
)


def run_cli(tmp_path: Path, refused: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "refusing_cli.py"
    script.write_text(REFUSER)
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("CLOUDFLARE_", "AWS_ENDPOINT"))}
    return subprocess.run(
        [sys.executable, str(script), refused, "serve", "--port", "0", *args],
        capture_output=True, text=True, timeout=30, env={**clean, **env},
    )  # fmt: skip


@pytest.mark.parametrize("refused", ["moto,boto3,jsonschema", "moto", "jsonschema", "uvicorn"])
def test_serve_without_the_local_extra_says_what_to_install(tmp_path: Path, refused: str) -> None:
    # Given an installation without some of the modules `serve` needs
    # When `openai-cf serve` runs
    done = run_cli(tmp_path, refused)
    # Then it exits non-zero, naming the missing modules and the install command, without a traceback
    assert done.returncode == 1
    assert "pip install 'openai-cf[local]'" in done.stderr
    for module in refused.split(","):
        assert repr(module) in done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_dependency_of_the_extra_gets_the_same_advice(tmp_path: Path) -> None:
    # Given moto installed without its server's dependencies (flask): found up front, fails on import
    done = run_cli(tmp_path, "flask")
    # Then the advice is the same
    assert done.returncode == 1
    assert "pip install 'openai-cf[local]'" in done.stderr
    assert "'flask'" in done.stderr
    assert "Traceback" not in done.stderr


def test_only_what_this_serve_uses_is_required() -> None:
    # Real Workers AI and another local AWS endpoint: neither moto nor the emulator's jsonschema
    env = {"CLOUDFLARE_ACCOUNT_ID": "a", "CLOUDFLARE_API_TOKEN": "t", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}
    assert cli.needed_modules(env, with_aws=True) == ["uvicorn", "boto3"]
    assert cli.needed_modules({}, with_aws=False) == ["uvicorn", "jsonschema"]
    assert cli.needed_modules({}, with_aws=True) == ["uvicorn", "moto", "boto3", "jsonschema"]
