"""Every argument the pinned SDK can send to the Assistants API's stored objects is a field we know
(accepted, or refused by name), so an SDK upgrade does not turn into 400s unnoticed."""

from __future__ import annotations

import typing

import pytest
from openai.types.beta import (
    assistant_create_params,
    assistant_update_params,
    thread_create_and_run_params,
    thread_create_params,
    thread_update_params,
)
from openai.types.beta.threads import (
    message_create_params,
    message_list_params,
    message_update_params,
    run_create_params,
    run_list_params,
    run_submit_tool_outputs_params,
    run_update_params,
)
from openai.types.beta.threads.runs import step_list_params
from pydantic import BaseModel

from openai_cf.schemas.assistants import AssistantCreateParams, AssistantListParams, AssistantUpdateParams
from openai_cf.schemas.messages import MessageCreateParams, MessageListParams, MessageUpdateParams
from openai_cf.schemas.runs import (
    RunCreateParams,
    RunListParams,
    RunStepListParams,
    RunSubmitToolOutputsParams,
    RunUpdateParams,
    ThreadCreateAndRunParams,
    ToolOutputParam,
    TruncationStrategyParam,
)
from openai_cf.schemas.threads import ThreadCreateParams, ThreadUpdateParams

# Path parameters the SDK's params types also list, and query parameters (`include[]`).
PATH = {"thread_id", "run_id", "include"}


@pytest.mark.parametrize(
    ("sdk_params", "ours"),
    [
        (assistant_create_params.AssistantCreateParams, AssistantCreateParams),
        (assistant_update_params.AssistantUpdateParams, AssistantUpdateParams),
        (thread_create_params.ThreadCreateParams, ThreadCreateParams),
        (thread_create_params.Message, MessageCreateParams),
        (thread_update_params.ThreadUpdateParams, ThreadUpdateParams),
        (message_create_params.MessageCreateParams, MessageCreateParams),
        (message_update_params.MessageUpdateParams, MessageUpdateParams),
        (message_list_params.MessageListParams, MessageListParams),
        (run_create_params.RunCreateParamsBase, RunCreateParams),
        (run_create_params.AdditionalMessage, MessageCreateParams),
        (run_create_params.TruncationStrategy, TruncationStrategyParam),
        (run_update_params.RunUpdateParams, RunUpdateParams),
        (run_list_params.RunListParams, RunListParams),
        (run_submit_tool_outputs_params.RunSubmitToolOutputsParamsBase, RunSubmitToolOutputsParams),
        (run_submit_tool_outputs_params.ToolOutput, ToolOutputParam),
        (thread_create_and_run_params.ThreadCreateAndRunParamsBase, ThreadCreateAndRunParams),
        (thread_create_and_run_params.Thread, ThreadCreateParams),
        (step_list_params.StepListParams, RunStepListParams),
    ],
)
def test_every_sdk_argument_is_known(sdk_params: type, ours: type[BaseModel]) -> None:
    assert set(typing.get_type_hints(sdk_params)) - PATH - set(ours.model_fields) == set()


def test_assistant_list_takes_the_sdks_list_arguments() -> None:
    from openai.types.beta import assistant_list_params

    assert set(typing.get_type_hints(assistant_list_params.AssistantListParams)) <= set(
        AssistantListParams.model_fields
    )
