"""functions/ agrees with the route table: one directory per function, each wired to its own name.

No CDK here (unmarked): this runs with the fast suite too.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from openai_cf.routes import FUNCTIONS

FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"


def _function_dirs() -> set[str]:
    return {p.name for p in FUNCTIONS_DIR.iterdir() if p.is_dir() and not p.name.startswith(("_", "."))}


def _app_factory_argument(app_py: Path) -> object:
    """The argument of `app = create_app(<arg>)` in an app.py, after checking the import."""
    tree = ast.parse(app_py.read_text())
    imports = [n for n in tree.body if isinstance(n, ast.ImportFrom)]
    assert [(n.module, [a.name for a in n.names]) for n in imports] == [("openai_cf.api.app", ["create_app"])]
    assigns = [n for n in tree.body if isinstance(n, ast.Assign)]
    assert len(assigns) == 1
    (assign,) = assigns
    assert [t.id for t in assign.targets if isinstance(t, ast.Name)] == ["app"]
    call = assign.value
    assert isinstance(call, ast.Call)
    assert isinstance(call.func, ast.Name)
    assert call.func.id == "create_app"
    assert len(call.args) == 1
    assert not call.keywords
    return ast.literal_eval(call.args[0])


def test_one_directory_per_function() -> None:
    # Then functions/ has exactly the route table's HTTP functions (non-HTTP functions, such as the run
    # executor, have a handler.py instead of an app.py)
    http = {name for name in _function_dirs() if (FUNCTIONS_DIR / name / "app.py").exists()}
    other = {name for name in _function_dirs() - http if not (FUNCTIONS_DIR / name / "handler.py").exists()}
    assert http == set(FUNCTIONS)
    assert other == set()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_app_builds_its_own_function(name: str) -> None:
    assert _app_factory_argument(FUNCTIONS_DIR / name / "app.py") == name


@pytest.mark.parametrize("name", FUNCTIONS)
def test_run_sh_is_executable_and_shared(name: str) -> None:
    run_sh = FUNCTIONS_DIR / name / "run.sh"
    reference = FUNCTIONS_DIR / FUNCTIONS[0] / "run.sh"
    # Then the Lambda Web Adapter can exec it, and every copy is the same script
    assert os.access(run_sh, os.X_OK)
    assert run_sh.read_bytes() == reference.read_bytes()
    assert "exec python -m openai_cf.api.server app:app" in run_sh.read_text()
