"""Each function deploys with the memory chosen for it by measurement (`python -m bench sizing`,
docs/deploying.md, "Memory and cost"): less where its billed time waits on a model, 1 GB where it is our own work."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.infra

cdk = pytest.importorskip("aws_cdk", reason="CDK tests need requirements-infra.txt installed")

from infra import constants  # noqa: E402
from infra.stacks.api_stack import ApiStack  # noqa: E402
from openai_cf.routes import FUNCTIONS  # noqa: E402

# Lambda's bounds for a function's memory.
LAMBDA_MIN_MB, LAMBDA_MAX_MB = 128, 10_240
WAITS_ON_A_MODEL = ("chat_completions", "completions", "embeddings", "moderations", "runs", constants.EXECUTOR_NAME)
OWN_WORK = ("models", "assistants", "threads", "files", "uploads", constants.DEAD_LETTERS_NAME)
WORKERS = (constants.EXECUTOR_NAME, constants.DEAD_LETTERS_NAME)


@pytest.fixture(scope="module")
def memory(cdk_context: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, int]:
    """MemorySize of each of our functions in the synthesized template, by function name."""
    # Given the stack synthesized offline (bundling skipped: conftest)
    app = cdk.App(context=cdk_context, outdir=str(tmp_path_factory.mktemp("cdk.out")))
    stack = ApiStack(app, "Test")
    resources = app.synth().get_stack_artifact(stack.artifact_id).template["Resources"]
    functions = {**stack.functions, constants.EXECUTOR_NAME: stack.executor,
                 constants.DEAD_LETTERS_NAME: stack.dead_letters}  # fmt: skip
    sizes = {}
    for name, function in functions.items():
        resource: Any = function.node.default_child  # the CfnFunction
        sizes[name] = int(resources[stack.resolve(resource.logical_id)]["Properties"]["MemorySize"])
    return sizes


@pytest.mark.parametrize("name", [*FUNCTIONS, *WORKERS])
def test_each_function_gets_the_memory_chosen_for_it(memory: dict[str, int], name: str) -> None:
    # Then the template asks for the size in the map (a function added later: the default, until measured)
    assert memory[name] == constants.FUNCTION_MEMORY_MB.get(name, constants.MEMORY_MB)
    assert LAMBDA_MIN_MB <= memory[name] <= LAMBDA_MAX_MB


def test_functions_that_wait_on_a_model_bill_half_a_gigabyte(memory: dict[str, int]) -> None:
    # Then a streamed generation, a streamed run or an executor step bills 512 MB for its wait, not 1 GB
    assert {name: memory[name] for name in WAITS_ON_A_MODEL} == dict.fromkeys(WAITS_ON_A_MODEL, 512)


def test_functions_doing_their_own_work_keep_a_gigabyte(memory: dict[str, int]) -> None:
    # Then short storage requests, the catalogue, file bytes and dead letters keep 1 GB's CPU for their cold starts
    assert {name: memory[name] for name in OWN_WORK} == dict.fromkeys(OWN_WORK, 1024)


def test_the_memory_map_names_only_deployed_functions() -> None:
    # Then no entry is a typo that would leave its function on the default
    assert set(constants.FUNCTION_MEMORY_MB) <= {*FUNCTIONS, *WORKERS}
