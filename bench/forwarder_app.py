"""Overhead floor: the barest bridge on the project's own stack, to separate stack cost from project code.

Started like a function (a copy of run.sh beside this file as app.py): Starlette on uvicorn,
forwarding the body unchanged to `FORWARD_TO` + the request path, in Starlette's threadpool, with
the HTTP client `FORWARD_CLIENT` names: `requests` (default: one pooled Session, as the bridge
uses), `urllib3` (a PoolManager) or `http.client` (one connection per worker thread). No auth,
validation, translation, models or logging.
"""

from __future__ import annotations

import http.client
import os
import threading
from collections.abc import Callable
from urllib.parse import urlsplit

import requests
import urllib3
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

UPSTREAM = os.environ.get("FORWARD_TO", "http://127.0.0.1:8787")
CLIENT = os.environ.get("FORWARD_CLIENT", "requests")
_session = requests.Session()
_pool = urllib3.PoolManager(maxsize=8)
_local = threading.local()


def _via_requests(path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    response = _session.post(UPSTREAM + path, data=body, headers=headers)
    return response.status_code, response.content


def _via_urllib3(path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    response = _pool.request("POST", UPSTREAM + path, body=body, headers=headers)
    return response.status, response.data


def _via_http_client(path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    conn: http.client.HTTPConnection | None = getattr(_local, "conn", None)
    if conn is None:
        parts = urlsplit(UPSTREAM)
        conn = _local.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80)
    conn.request("POST", path, body, headers)
    response = conn.getresponse()
    return response.status, response.read()


CLIENTS: dict[str, Callable[[str, bytes, dict[str, str]], tuple[int, bytes]]] = {
    "requests": _via_requests,
    "urllib3": _via_urllib3,
    "http.client": _via_http_client,
}
_send = CLIENTS[CLIENT]


async def forward(request: Request) -> Response:
    body = await request.body()
    headers = {"Authorization": request.headers.get("authorization", ""), "Content-Type": "application/json"}
    status, content = await run_in_threadpool(_send, request.url.path, body, headers)
    return Response(content, status_code=status, media_type="application/json")


app = Starlette(routes=[Route("/{path:path}", forward, methods=["POST"])])
