"""Serving an ASGI app with uvicorn on a socket we bind ourselves.

Binding first gives tests and benchmarks a known port before the server thread runs. The socket
must be created with `proto=IPPROTO_TCP`: asyncio turns TCP_NODELAY on for accepted connections
only then, and a pre-bound `socket.socket()` (proto 0) made every keep-alive response stall
~40 ms on Nagle + delayed ACK (uvicorn's own `--host/--port` path is fine; its `--fd` and
multi-worker paths are not). One launcher for every case keeps that right everywhere.

    python -m openai_cf.api.server app:app --port 8000     # what each Lambda function runs
"""

from __future__ import annotations

import argparse
import importlib
import os
import socket
import sys
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn

BACKLOG = 2048


def bind_socket(host: str = "127.0.0.1", port: int = 0, backlog: int = BACKLOG) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def uvicorn_config(app: Any, sock: socket.socket, **overrides: Any) -> uvicorn.Config:
    host, port = sock.getsockname()[:2]
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "log_config": None,
        "lifespan": "off",
        "access_log": False,
        "backlog": BACKLOG,
        "timeout_keep_alive": 60,
        "timeout_graceful_shutdown": 2,
    }
    return uvicorn.Config(app, **{**options, **overrides})


def serve(app: Any, host: str, port: int, **overrides: Any) -> None:
    """Serve in the foreground until SIGINT/SIGTERM."""
    sock = bind_socket(host, port)
    uvicorn.Server(uvicorn_config(app, sock, **overrides)).run(sockets=[sock])


class BackgroundServer:
    """An app on a loopback port in a daemon thread (tests, benchmarks, the local emulator)."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._app = app
        self.host = host
        self._requested_port = port
        self._socket: socket.socket | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def app(self) -> Any:
        return self._app

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the server is not started")
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        if self._thread is not None:
            return self
        self._socket = bind_socket(self.host, self._requested_port)
        self._server = uvicorn.Server(uvicorn_config(self._app, self._socket))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the background server did not start")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m openai_cf.api.server")
    parser.add_argument("app", help="module:attribute of the ASGI app, e.g. app:app")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    args = parser.parse_args(argv)
    sys.path.insert(0, os.getcwd())
    module, _, attribute = args.app.partition(":")
    serve(getattr(importlib.import_module(module), attribute or "app"), args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
