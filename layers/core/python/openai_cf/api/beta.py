"""The `OpenAI-Beta` header on the Assistants API's routes.

The SDK sends `OpenAI-Beta: assistants=v2` on every assistants and threads request. Other clients
(curl, older tools) often send no header at all, and what they mean is the only version there is,
so that is accepted. `assistants=v1` asks for OpenAI's retired first version, whose shapes differ
(`file_ids`, `retrieval` tools): answering it with v2 objects would break such a client quietly,
so it is a 400 that says what to send.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from openai_cf.errors import InvalidRequestError

Handler = Callable[[Request], Awaitable[Response]]


def requested_version(request: Request) -> str | None:
    """The `assistants=` version among the header's comma-separated features, if any."""
    for header in request.headers.getlist("openai-beta"):
        for feature in header.split(","):
            name, _, version = feature.partition("=")
            if name.strip().lower() == "assistants":
                return version.strip()
    return None


def assistants_v2(handler: Handler) -> Handler:
    """Wrap a route handler so that a request for another Assistants API version is refused."""

    @functools.wraps(handler)
    async def checked(request: Request) -> Response:
        version = requested_version(request)
        if version is not None and version != "v2":
            raise InvalidRequestError(
                f"The Assistants API version '{version}' is not supported: send the header "
                "'OpenAI-Beta: assistants=v2' (the official SDKs do), or no OpenAI-Beta header.",
                code="invalid_beta",
            )
        return await handler(request)

    return checked
