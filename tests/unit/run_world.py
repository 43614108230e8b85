"""A run's world for unit tests: the real services and repositories on a moto table, with what talks
to the rest of the world replaced: the chat service (scripted answers, whole or as the chunks
`ChatService.stream` yields), the queue (a list), the model registry, the files a message names,
and the clock."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from openai_cf import errors as e
from openai_cf import ids
from openai_cf.schemas import chat as c
from openai_cf.schemas.assistants import AssistantCreateParams
from openai_cf.schemas.common import CompletionUsage
from openai_cf.schemas.runs import RunCreateParams
from openai_cf.schemas.threads import ThreadCreateParams
from openai_cf.services.assistants import AssistantsService
from openai_cf.services.messages import MessageBuilder
from openai_cf.services.run_context import RunContext
from openai_cf.services.run_ledger import RunLedger
from openai_cf.services.run_outcome import Outcomes
from openai_cf.services.run_steps import RunStepsService
from openai_cf.services.run_streams import RunStreams
from openai_cf.services.run_worker import RunWorker
from openai_cf.services.runs import RunsConfig, RunsService
from openai_cf.services.threads import ThreadsService
from openai_cf.storage.assistants import AssistantRepository
from openai_cf.storage.messages import MessageRecord, MessageRepository
from openai_cf.storage.pages import PageRequest
from openai_cf.storage.run_queue import RunTask
from openai_cf.storage.run_steps import StepRecord, StepRepository
from openai_cf.storage.runs import RunRecord, RunRepository
from openai_cf.storage.table import Table
from openai_cf.storage.threads import ThreadRepository

START = 1_700_000_000.0
WEATHER = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}},
}


@dataclass(frozen=True)
class Torn:
    """An answer that breaks off: `text` streams, then `error` (a whole answer is just the error)."""

    text: str
    error: e.OpenAICFError


Answer = c.ChatCompletion | Exception | Torn | Callable[[c.ChatCompletionCreateParams], c.ChatCompletion]


def completion(text: str = "Hello!", *, finish: str = "stop", usage: tuple[int, int] = (10, 5)) -> c.ChatCompletion:
    message = c.ChatCompletionMessage(content=text)
    return _completion(message, finish, usage)


def tool_call(*calls: tuple[str, str], usage: tuple[int, int] = (12, 7)) -> c.ChatCompletion:
    message = c.ChatCompletionMessage(
        content=None,
        tool_calls=[
            c.ChatCompletionMessageFunctionToolCall(id=ids.new_id("call_"), function=c.Function(name=n, arguments=a))
            for n, a in calls
        ],
    )
    return _completion(message, "tool_calls", usage)


def _completion(message: c.ChatCompletionMessage, finish: str, usage: tuple[int, int]) -> c.ChatCompletion:
    return c.ChatCompletion(
        id="chatcmpl-1", created=int(START), model="@cf/meta/llama", usage=CompletionUsage(
            prompt_tokens=usage[0], completion_tokens=usage[1], total_tokens=sum(usage)),
        choices=[c.Choice(index=0, message=message, finish_reason=finish)],  # type: ignore[arg-type]
    )  # fmt: skip


class ScriptedChat:
    """Answers in order (the last one again when they run out); records every request."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers) or [completion()]
        self.requests: list[c.ChatCompletionCreateParams] = []

    def _next(self, params: c.ChatCompletionCreateParams) -> Answer:
        self.requests.append(params)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def create(self, params: c.ChatCompletionCreateParams) -> c.ChatCompletion:
        answer = self._next(params)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, Torn):
            raise answer.error
        if isinstance(answer, c.ChatCompletion):
            return answer
        return answer(params)

    def stream(self, params: c.ChatCompletionCreateParams) -> Iterator[dict[str, Any]]:
        """The next answer as `ChatService.stream` yields it: a role chunk, the text a word at a time,
        each call's first fragment (id, name, no arguments) then its arguments, the finish, the usage."""
        answer = self._next(params)
        if isinstance(answer, Exception):
            raise answer  # the upstream refused the request: before any chunk
        if isinstance(answer, Torn):
            return _torn(answer)
        return _chunks(answer if isinstance(answer, c.ChatCompletion) else partial(answer, params))


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": int(START), "model": "@cf/meta/llama",
            "choices": [choice], "usage": None}  # fmt: skip


def _words(text: str) -> list[str]:
    return re.findall(r"\s*\S+|\s+", text)


def _chunks(answer: c.ChatCompletion | Callable[[], c.ChatCompletion]) -> Iterator[dict[str, Any]]:
    yield _chunk({"role": "assistant", "content": ""})
    # A scripted function runs once the stream is read (it may sleep, or look at the run).
    completion = answer if isinstance(answer, c.ChatCompletion) else answer()
    choice = completion.choices[0]
    for word in _words(choice.message.content or ""):
        yield _chunk({"content": word})
    for index, call in enumerate(choice.message.tool_calls or ()):
        function = {"name": call.function.name, "arguments": ""}
        yield _chunk({"tool_calls": [{"index": index, "id": call.id, "type": "function", "function": function}]})
        yield _chunk({"tool_calls": [{"index": index, "function": {"arguments": call.function.arguments}}]})
    yield _chunk({}, choice.finish_reason)
    usage = completion.usage.model_dump() if completion.usage else None
    yield {**_chunk({}), "choices": [], "usage": usage}


def _torn(answer: Torn) -> Iterator[dict[str, Any]]:
    yield _chunk({"role": "assistant", "content": ""})
    for word in _words(answer.text):
        yield _chunk({"content": word})
    raise answer.error


class Clock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Queue:
    def __init__(self) -> None:
        self.sent: list[RunTask] = []

    def send(self, task: RunTask) -> None:
        self.sent.append(task)


class Models:
    def resolve(self, requested: str, *, task: str) -> object:
        return object()


class NoFiles:
    def retrieve(self, file_id: str) -> object:
        return object()

    def data_url(self, file_id: str) -> str:
        return "data:image/png;base64,iVBORw0KGgo="


class World:
    def __init__(self, table: Table, chat: ScriptedChat | None = None, *, check_seconds: float = 0.02) -> None:
        self.table = table
        self.clock = Clock()
        self.chat = chat or ScriptedChat()
        self.queue = Queue()
        self.threads = ThreadRepository(table)
        self.messages = MessageRepository(table)
        self.runs = RunRepository(table)
        self.steps = StepRepository(table)
        self.ledger = RunLedger(self.runs, self.steps, self.clock)
        builder = MessageBuilder(NoFiles(), self.clock)
        self.thread_service = ThreadsService(self.threads, self.messages, builder, self.clock, runs=self.runs)
        self.assistants = AssistantsService(AssistantRepository(table), Models(), self.clock)
        self.service = RunsService(
            self.ledger, self.threads, AssistantRepository(table), self.messages, builder, self.thread_service,
            Models(), RunsConfig(self.queue), self.clock,  # type: ignore[arg-type]
        )  # fmt: skip
        self.run_steps = RunStepsService(self.threads, self.runs, self.steps, self.clock)
        self.worker = RunWorker(
            self.ledger, self.threads, RunContext(self.messages, self.steps, NoFiles()),
            Outcomes(self.messages, self.steps), self.chat, check_seconds=check_seconds, clock=self.clock,
        )  # fmt: skip
        self.streams = RunStreams(self.service, self.ledger, self.worker, self.clock)

    def assistant(self, **values: Any) -> str:
        params = AssistantCreateParams.model_validate({"model": "gpt-4o-mini", "instructions": "Be brief.", **values})
        return self.assistants.create(params, owner="key_1").id

    def thread(self, *texts: str) -> str:
        messages = [{"role": "user", "content": text} for text in texts]
        return self.thread_service.create(ThreadCreateParams.model_validate({"messages": messages}), owner="key_1").id

    def start(self, *texts: str, **params: Any) -> tuple[str, str]:
        """A thread with `texts` and a queued run on it: (thread id, run id)."""
        thread_id = self.thread(*texts or ("Hi",))
        run = self.service.create(thread_id, self.run_params(**params), owner="key_1")
        return thread_id, run.id

    def run_params(self, **params: Any) -> RunCreateParams:
        body = {"assistant_id": params.pop("assistant_id", None) or self.assistant(), **params}
        return RunCreateParams.model_validate(body)

    def run(self, thread_id: str, run_id: str) -> RunRecord:
        found = self.runs.get(thread_id, run_id)
        assert found is not None
        return found

    def run_messages(self, thread_id: str, run_id: str) -> list[MessageRecord]:
        return self.messages.page(thread_id, PageRequest(limit=100, order="asc"), run_id=run_id).items

    def thread_messages(self, thread_id: str) -> list[MessageRecord]:
        return self.messages.page(thread_id, PageRequest(limit=100, order="asc")).items

    def run_steps_of(self, run_id: str) -> list[StepRecord]:
        return self.steps.all(run_id)
