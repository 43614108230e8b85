"""`EmulatorServer`: the emulator app on a real loopback socket, served by uvicorn in a background thread.

This is a development and test double, not Workers AI. The socket is bound (with TCP_NODELAY on
accepted connections, see `openai_cf.api.server`) before the thread starts, so `port` is known at
once; `start()` returns only once uvicorn has started.
"""

from __future__ import annotations

from openai_cf.api.server import BackgroundServer

from .app import create_app
from .errors import DEFAULT_API_TOKEN


class EmulatorServer(BackgroundServer):
    """Run the emulator on `http://127.0.0.1:<port>/client/v4` until `stop()` (or the `with` block ends)."""

    def __init__(self, *, port: int = 0, host: str = "127.0.0.1", api_token: str = DEFAULT_API_TOKEN) -> None:
        super().__init__(create_app(api_token=api_token), host=host, port=port)
        self.api_token = api_token

    @property
    def base_url(self) -> str:
        return f"{self.url}/client/v4"

    def start(self, timeout: float = 10.0) -> EmulatorServer:
        super().start(timeout)
        return self

    def __enter__(self) -> EmulatorServer:
        return self.start()
