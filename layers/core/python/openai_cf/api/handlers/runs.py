"""Runs and run steps. Every run answer carries `openai-poll-after-ms`, which the SDK's poll
helpers (`create_and_poll`, `poll`) wait between reads of a run. With `stream: true`, creating a
run, creating a thread and run, and submitting tool outputs answer the run's events instead."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from starlette.requests import Request
from starlette.responses import Response

from openai_cf.api.app import services
from openai_cf.api.beta import assistants_v2
from openai_cf.api.handlers import in_thread, stream_answer
from openai_cf.api.parsing import parse_model, parse_query, read_json, read_optional_json
from openai_cf.api.responses import json_response
from openai_cf.schemas import runs as r
from openai_cf.schemas.streams import ServerEvent


def _run_response(request: Request, value: object) -> Response:
    poll_after = request.app.state.settings().run_poll_after_ms
    return json_response(value, headers={"openai-poll-after-ms": str(poll_after)})


async def _run_or_events(
    request: Request, stream: bool | None, create: Callable[[], object],
    open_stream: Callable[[], Iterator[ServerEvent]],
) -> Response:  # fmt: skip
    if stream:
        keepalive = services(request).settings.sse_keepalive_seconds
        return await stream_answer(request, open_stream, keepalive_seconds=keepalive, named=True)
    return _run_response(request, await in_thread(request, create))


@assistants_v2
async def create_run(request: Request) -> Response:
    params = parse_model(r.RunCreateParams, await read_json(request))
    thread_id, owner, svc = request.path_params["thread_id"], request.state.owner, services(request)
    return await _run_or_events(
        request, params.stream, partial(svc.runs.create, thread_id, params, owner=owner),
        lambda: svc.run_streams.create(thread_id, params, owner=owner),
    )  # fmt: skip


@assistants_v2
async def create_thread_and_run(request: Request) -> Response:
    params = parse_model(r.ThreadCreateAndRunParams, await read_json(request))
    owner, svc = request.state.owner, services(request)
    return await _run_or_events(
        request, params.stream, partial(svc.runs.create_and_run, params, owner=owner),
        lambda: svc.run_streams.create_and_run(params, owner=owner),
    )  # fmt: skip


@assistants_v2
async def list_runs(request: Request) -> Response:
    params = parse_query(r.RunListParams, request)
    thread_id = request.path_params["thread_id"]
    return _run_response(request, await in_thread(request, services(request).runs.list, thread_id, params))


@assistants_v2
async def retrieve_run(request: Request) -> Response:
    thread_id, run_id = request.path_params["thread_id"], request.path_params["run_id"]
    return _run_response(request, await in_thread(request, services(request).runs.retrieve, thread_id, run_id))


@assistants_v2
async def update_run(request: Request) -> Response:
    params = parse_model(r.RunUpdateParams, await read_optional_json(request))
    thread_id, run_id = request.path_params["thread_id"], request.path_params["run_id"]
    update = services(request).runs.update
    return _run_response(request, await in_thread(request, update, thread_id, run_id, params))


@assistants_v2
async def cancel_run(request: Request) -> Response:
    thread_id, run_id = request.path_params["thread_id"], request.path_params["run_id"]
    return _run_response(request, await in_thread(request, services(request).runs.cancel, thread_id, run_id))


@assistants_v2
async def submit_tool_outputs(request: Request) -> Response:
    params = parse_model(r.RunSubmitToolOutputsParams, await read_json(request))
    thread_id, run_id, svc = request.path_params["thread_id"], request.path_params["run_id"], services(request)
    return await _run_or_events(
        request, params.stream, partial(svc.runs.submit_tool_outputs, thread_id, run_id, params),
        lambda: svc.run_streams.submit_tool_outputs(thread_id, run_id, params),
    )  # fmt: skip


@assistants_v2
async def list_run_steps(request: Request) -> Response:
    params = parse_query(r.RunStepListParams, request)
    thread_id, run_id = request.path_params["thread_id"], request.path_params["run_id"]
    steps = services(request).run_steps.list
    return json_response(await in_thread(request, steps, thread_id, run_id, params))


@assistants_v2
async def retrieve_run_step(request: Request) -> Response:
    parse_query(r.RunStepRetrieveParams, request)
    thread_id, run_id, step_id = (request.path_params[k] for k in ("thread_id", "run_id", "step_id"))
    step = services(request).run_steps.retrieve
    return json_response(await in_thread(request, step, thread_id, run_id, step_id))
