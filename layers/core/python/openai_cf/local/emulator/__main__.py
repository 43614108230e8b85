"""`python -m openai_cf.local.emulator --port N`: run the offline Workers AI emulator in the foreground.

This is a development and test double, not Workers AI. It prints one line with the base URL once
the socket is listening, then serves until interrupted (Ctrl-C / SIGTERM).
"""

from __future__ import annotations

import argparse
import os
import sys

import uvicorn

from openai_cf.api.server import bind_socket, uvicorn_config

from .app import create_app
from .errors import DEFAULT_API_TOKEN


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m openai_cf.local.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8787, help="port to bind; 0 picks a free one (default 8787)")
    parser.add_argument(
        "--api-token",
        default=os.environ.get("EMULATOR_API_TOKEN", DEFAULT_API_TOKEN),
        help="bearer token clients must send (default $EMULATOR_API_TOKEN or 'emulator-token')",
    )
    parser.add_argument("--log-level", default="warning", help="uvicorn log level (default warning)")
    args = parser.parse_args(argv)
    sock = bind_socket(args.host, args.port)
    port = sock.getsockname()[1]
    config = uvicorn_config(create_app(api_token=args.api_token), sock, log_level=args.log_level)
    print(
        f"Workers AI emulator (offline test double) listening on http://{args.host}:{port}/client/v4",
        flush=True,
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
