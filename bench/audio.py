"""8. Audio uploads: multipart parse time and peak memory for a 4 MiB file.

Two measurements, in this process: the multipart reader alone (`api.forms.read_form` fed the body
in 64 KiB messages, as uvicorn delivers it, then the file part read back), and a whole
`POST /v1/audio/transcriptions` through the `audio` app on uvicorn against the offline emulator
(base64 encoding, the upstream JSON body, the emulator's answer). Peak memory is Python's own
allocations (tracemalloc) above what was allocated before the request, so it shows how many copies
of the file one request holds.
"""

from __future__ import annotations

import asyncio
import os
import time
import tracemalloc
from collections.abc import Callable

import requests
from starlette.requests import Request
from starlette.types import Message

from bench import stats
from openai_cf.api.app import create_app
from openai_cf.api.forms import file_field, read_form
from openai_cf.api.server import BackgroundServer
from openai_cf.local.emulator import create_app as create_emulator
from openai_cf.local.emulator.audio import tagged_wav
from openai_cf.settings import Settings

SIZE = 4 * 1024 * 1024
BOUNDARY = "benchaudioboundary0123456789"
TOKEN = "sk-bench"
EMULATOR_TOKEN = "bench-emulator"


def _body(size: int) -> bytes:
    # A tagged WAV padded with random bytes up to `size` (random: nothing compresses or dedups it).
    audio = tagged_wav("Benchmark audio.")
    audio += os.urandom(size - len(audio))
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="model"\r\n\r\nwhisper-1\r\n'
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    return head + audio + f"\r\n--{BOUNDARY}--\r\n".encode()


async def _parse(body: bytes) -> int:
    chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]

    async def receive() -> Message:
        return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)} if chunks else {}

    scope = {"type": "http", "method": "POST", "path": "/", "query_string": b"",
             "headers": [(b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode())]}  # fmt: skip
    form = await read_form(Request(scope, receive), max_bytes=len(body) + 1)
    try:
        return len(await file_field(form, "file").read())
    finally:
        await form.close()


def _measure(run: Callable[[], object], repeats: int) -> tuple[list[float], float]:
    """Wall times (s) of each run, and the largest tracemalloc peak above the start, in MiB."""
    times, peak = [], 0.0
    for _ in range(repeats):
        tracemalloc.start()
        base = tracemalloc.get_traced_memory()[0]
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
        peak = max(peak, (tracemalloc.get_traced_memory()[1] - base) / (1024 * 1024))
        tracemalloc.stop()
    return times, peak


def _row(label: str, times: list[float], peak: float) -> list[str]:
    return [label, str(len(times)), stats.fmt(stats.ms(stats.median(times)), 1),
            stats.fmt(stats.ms(max(times)), 1), f"{peak:.1f}"]  # fmt: skip


def main(*, quick: bool = False) -> str:
    # The app logs each request at INFO; the tables are what this prints.
    previous = os.environ.get("LOG_LEVEL")
    os.environ["LOG_LEVEL"] = "WARNING"
    try:
        return _run(quick)
    finally:
        if previous is None:
            os.environ.pop("LOG_LEVEL", None)
        else:
            os.environ["LOG_LEVEL"] = previous


def _run(quick: bool) -> str:
    repeats = 3 if quick else 20
    body = _body(SIZE)
    parse_times, parse_peak = _measure(lambda: asyncio.run(_parse(body)), repeats)
    with BackgroundServer(create_emulator(api_token=EMULATOR_TOKEN)) as emulator:
        settings = Settings.model_validate({
            "access_tokens": (TOKEN,), "cloudflare_account_id": "bench", "cloudflare_api_token": EMULATOR_TOKEN,
            "cloudflare_api_base_url": f"{emulator.url}/client/v4", "upstream_max_retries": 0,
        })  # fmt: skip
        with BackgroundServer(create_app("audio", settings=lambda: settings)) as api, requests.Session() as http:
            headers = {"Authorization": f"Bearer {TOKEN}",
                       "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}  # fmt: skip
            url = f"{api.url}/v1/audio/transcriptions"

            def transcribe() -> None:
                answer = http.post(url, data=body, headers=headers, timeout=60)
                answer.raise_for_status()

            transcribe()  # warm: imports, model catalogue, connections
            request_times, request_peak = _measure(transcribe, repeats)
    rows = [
        _row("multipart parse + read the file part", parse_times, parse_peak),
        _row("whole transcription (client, API, emulator)", request_times, request_peak),
    ]
    return "\n".join(
        [
            "### 8. Audio uploads: a 4 MiB file",
            "",
            f"A {SIZE // (1024 * 1024)} MiB WAV in a multipart body ({len(body):,} bytes). Peak = Python "
            "allocations (tracemalloc) above the start of the request; the whole-request row counts the client, "
            "the API and the emulator, all in this process.",
            "",
            stats.table(["what", "runs", "median ms", "max ms", "peak MiB"], rows),
            "",
            f"The parse holds {parse_peak / (SIZE / (1024 * 1024)):.1f}x the file (python-multipart spools parts "
            "over 1 MB to a temporary file; reading the part back makes one copy).",
        ]
    )
