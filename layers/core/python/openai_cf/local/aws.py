"""The embedded AWS emulation (moto server: DynamoDB, S3, SQS, Secrets Manager) for `serve`."""

from __future__ import annotations

import logging
import os
from collections.abc import MutableMapping

LOCAL_REGION = "us-east-1"


class LocalAWS:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        from moto.server import ThreadedMotoServer  # heavy: imported only when serving

        from openai_cf.local import moto_patches

        moto_patches.apply()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.endpoint_url = ""

    def start(self, env: MutableMapping[str, str] = os.environ) -> str:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        # botocore honours AWS_ENDPOINT_URL: the same storage code talks to moto locally, AWS deployed.
        env["AWS_ENDPOINT_URL"] = self.endpoint_url
        env.setdefault("AWS_ACCESS_KEY_ID", "local")
        env.setdefault("AWS_SECRET_ACCESS_KEY", "local")
        env.setdefault("AWS_DEFAULT_REGION", LOCAL_REGION)
        return self.endpoint_url

    def stop(self) -> None:
        self._server.stop()


def main(argv: list[str] | None = None) -> int:
    """`python -m openai_cf.local.aws --port N`: the embedded AWS alone, in the foreground."""
    import argparse
    import time

    parser = argparse.ArgumentParser(prog="python -m openai_cf.local.aws")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(argv)
    server = LocalAWS(args.host, args.port)
    print(server.start({}), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
