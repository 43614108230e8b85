"""Benchmark 4: a page of a thread's messages costs the same whatever the thread's length.

The `threads` function runs as Lambda starts it, against the embedded AWS (moto) in its own
process. One thread holds 20 messages, another 10,000; each round asks both for their newest 20
(`GET /v1/threads/{id}/messages?limit=20`, the SDK's first page), in alternating order. The ratio of
the medians is the design's claim (one Query per page, `Limit = 21`); DynamoDB's own count of the
items each Query read (`ScannedCount`) shows why. Absolute figures are moto's (its Query has a
fixed cost of tens of milliseconds), not DynamoDB's.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from typing import Any

from bench import procs, stats
from bench.stats import fmt, median, ms, percentile, verdict

SIZES = (20, 10_000)
PAGE = 20
TARGET_RATIO = 1.5
TABLE = "openai-cf-bench"
BUCKET = "openai-cf-bench"
REGION = "us-east-1"


def _storage(endpoint: str) -> Any:
    from openai_cf.local.provision import provision
    from openai_cf.settings import Settings
    from openai_cf.storage.aws import AwsClients
    from openai_cf.storage.table import Table

    settings = Settings(aws_endpoint_url=endpoint, aws_region=REGION, table_name=TABLE, bucket_name=BUCKET)
    provision(settings)
    return Table(AwsClients(region=REGION, endpoint_url=endpoint), TABLE)


def _thread(table: Any, size: int) -> str:
    """A thread holding `size` text messages, written straight into the table."""
    from openai_cf.ids import new_id, new_ids
    from openai_cf.storage.messages import MessageRecord, MessageRepository
    from openai_cf.storage.threads import ThreadRecord, ThreadRepository

    now = int(time.time())
    thread_id = new_id("thread_")
    content = [{"type": "text", "text": {"value": "A message of a long conversation. " * 6, "annotations": []}}]
    records = [
        MessageRecord(id=message_id, owner="bench", thread_id=thread_id, created_at=now, role="user", content=content)
        for message_id in new_ids("msg_", size)
    ]
    MessageRepository(table).add_all(records)
    ThreadRepository(table).add(ThreadRecord(id=thread_id, owner="bench", created_at=now))
    return thread_id


def _scanned(table: Any, thread_id: str) -> int:
    collection = {":pk": {"S": f"{thread_id}#message"}}
    answer = table._db.query(  # what one page's Query reads, as DynamoDB counts it
        TableName=TABLE, KeyConditionExpression="pk = :pk", ExpressionAttributeValues=collection,
        ScanIndexForward=False, Limit=PAGE + 1, ConsistentRead=True,
    )  # fmt: skip
    return int(answer["ScannedCount"])


def _get(conn: http.client.HTTPConnection, path: str) -> float:
    started = time.perf_counter()
    conn.request("GET", path, headers={"Authorization": f"Bearer {procs.ACCESS_TOKEN}", "OpenAI-Beta": "assistants=v2"})
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        raise RuntimeError(f"HTTP {response.status}: {body[:300]!r}")
    return time.perf_counter() - started


def main(*, quick: bool = False) -> str:
    aws = procs.start_aws()
    env = {**procs.aws_env(aws.port), "OPENAI_CF_TABLE": TABLE, "OPENAI_CF_BUCKET": BUCKET}
    table = _storage(env["AWS_ENDPOINT_URL"])
    threads = {size: _thread(table, size) for size in SIZES}
    function = procs.start_function("threads", emulator_port=0, extra_env=env)
    runs, rounds = (1, 5) if quick else (5, 40)
    conn = http.client.HTTPConnection(procs.HOST, function.port, timeout=60)
    paths = {size: f"/v1/threads/{tid}/messages?limit={PAGE}" for size, tid in threads.items()}
    with procs.running(function, aws):
        for path in paths.values():
            _get(conn, path)
        samples: dict[int, list[float]] = {size: [] for size in SIZES}
        per_run: list[float] = []
        for _ in range(runs):
            run = {size: [] for size in SIZES}  # type: dict[int, list[float]]
            for i in range(rounds):
                order = SIZES if i % 2 == 0 else tuple(reversed(SIZES))
                for size in order:
                    run[size].append(_get(conn, paths[size]))
            per_run.append(median(run[SIZES[1]]) / median(run[SIZES[0]]))
            for size in SIZES:
                samples[size] += run[size]
        scanned = {size: _scanned(table, tid) for size, tid in threads.items()}
    ratio = median(samples[SIZES[1]]) / median(samples[SIZES[0]])
    rows = [
        [
            f"{size:,} messages",
            fmt(ms(median(samples[size]))),
            fmt(ms(percentile(samples[size], 90))),
            str(scanned[size]),
        ]
        for size in SIZES
    ]
    out = [
        "### 4. Listing a thread's messages: cost follows the page, not the thread",
        "",
        f"`GET /v1/threads/{{id}}/messages?limit={PAGE}` on the `threads` function (moto as DynamoDB), "
        f"{runs} run(s) of {rounds} alternating rounds; ms.",
        "",
        stats.table(["thread", "p50", "p90", "items one page's Query read (ScannedCount)"], rows),
        "",
        f"Ratio of the medians (10,000 / 20): **{ratio:.2f}** (target ≤ {TARGET_RATIO}: "
        f"{verdict(ratio, TARGET_RATIO)}); per run: {', '.join(f'{r:.2f}' for r in per_run)}.",
    ]
    return "\n".join(out)


# -- 5. completing an upload: memory flat in the file size ---------------------------------------
PART = 4 * 1024 * 1024


def _json(conn: http.client.HTTPConnection, path: str, body: dict[str, Any]) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {procs.ACCESS_TOKEN}", "Content-Type": "application/json"}
    conn.request("POST", path, json.dumps(body), headers)
    response = conn.getresponse()
    data = response.read()
    if response.status != 200:
        raise RuntimeError(f"{path}: HTTP {response.status}: {data[:300]!r}")
    answer: dict[str, Any] = json.loads(data)
    return answer


def _part(conn: http.client.HTTPConnection, upload_id: str, data: bytes) -> str:
    boundary = "benchboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="data"; filename="upload"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = {
        "Authorization": f"Bearer {procs.ACCESS_TOKEN}",
        "Content-Type": f"multipart/form-data; boundary={boundary}",
    }
    conn.request("POST", f"/v1/uploads/{upload_id}/parts", body, headers)
    response = conn.getresponse()
    answer = json.loads(response.read())
    if response.status != 200:
        raise RuntimeError(f"part: HTTP {response.status}: {answer}")
    return str(answer["id"])


def _complete_one(size: int, env: dict[str, str]) -> tuple[float, float, float]:
    """A fresh uploads function: send `size` bytes in 4 MiB parts, complete; (MiB of peak RSS before
    completing, after completing, seconds the completion took)."""
    function = procs.start_function("uploads", emulator_port=0, extra_env=env)
    with procs.running(function):
        conn = http.client.HTTPConnection(procs.HOST, function.port, timeout=900)
        upload = _json(conn, "/v1/uploads", {"filename": "big.bin", "purpose": "assistants", "bytes": size,
                                              "mime_type": "application/octet-stream"})  # fmt: skip
        chunk = os.urandom(PART)
        part_ids = [_part(conn, upload["id"], chunk[: min(PART, size - start)]) for start in range(0, size, PART)]
        before = procs.vm_hwm_kb(function.pid) / 1024
        started = time.perf_counter()
        done = _json(conn, f"/v1/uploads/{upload['id']}/complete", {"part_ids": part_ids})
        took = time.perf_counter() - started
        after = procs.vm_hwm_kb(function.pid) / 1024
        if done["status"] != "completed" or done["file"]["bytes"] != size:
            raise RuntimeError(f"completion failed: {done}")
    return before, after, took


def uploads_main(*, quick: bool = False) -> str:
    sizes = (8 * 1024 * 1024, 24 * 1024 * 1024) if quick else (50 * 1024 * 1024, 500 * 1024 * 1024)
    aws = procs.start_aws()
    env = {**procs.aws_env(aws.port), "OPENAI_CF_TABLE": TABLE, "OPENAI_CF_BUCKET": BUCKET}
    with procs.running(aws):
        _storage(env["AWS_ENDPOINT_URL"])
        results = {size: _complete_one(size, env) for size in sizes}
    rows = [
        [f"{size // (1024 * 1024):,} MiB", f"{size // PART + (size % PART > 0)}", f"{before:.1f}", f"{after:.1f}",
         f"{after - before:.1f}", f"{took:.1f}"]
        for size, (before, after, took) in results.items()
    ]  # fmt: skip
    growth = [after - before for before, after, _ in results.values()]
    return "\n".join(
        [
            "### 5. Completing an upload: the function's memory stays flat",
            "",
            "A fresh `uploads` function per size (moto as S3), the file sent in 4 MiB parts, then "
            "`POST /v1/uploads/{id}/complete`; peak RSS (VmHWM) of the function before and after completing.",
            "",
            stats.table(
                ["file", "parts", "peak RSS before, MiB", "after, MiB", "added by completing", "seconds"], rows
            ),
            "",
            f"Completing the larger file added {growth[-1]:.1f} MiB of peak memory, the smaller {growth[0]:.1f} MiB: "
            f"{'flat' if growth[-1] <= growth[0] + 8 else '**NOT flat**'} in the file size (the join streams small "
            "parts through one 8 MiB buffer).",
        ]
    )
