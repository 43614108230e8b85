"""The offline Workers AI emulator: a development and test double, NOT Cloudflare Workers AI.

It speaks Workers AI's REST contract (`/client/v4/accounts/{account}/ai/run/{model}`,
`/ai/models/search`, `/ai/models/schema`; envelopes, error codes, both SSE dialects, tool-call
shapes, JSON mode, embeddings) with deterministic fake outputs, so the bridge can be developed,
tested and benchmarked without a Cloudflare account. It runs no model.

Use `create_app()` with Starlette's TestClient, `EmulatorServer` for a real loopback socket, or
`python -m openai_cf.local.emulator --port N` in the foreground.

Steering directives: whitespace-separated words in the last user message (or `prompt`, or the first
embedding input), removed from echoed text:

- `emulate:echo`: reply with the user's text (directives removed, whitespace normalised).
- `emulate:tokens=N`: the default reply has exactly N tokens (still capped by max_tokens).
- `emulate:error=CODE`: fail with that Workers AI code (status/message from `errors.ERROR_TABLE`);
  `emulate:status=NNN` overrides the HTTP status of that failure envelope (e.g. 502, 503).
- `emulate:http=STATUS`: a bare HTTP status with a plain-text body, no envelope (a proxy failure).
- `emulate:times=K`: with `error`/`http`, only the first K identical requests fail.
- `emulate:delay_ms=N`: wait N ms before answering (before the first byte of a stream).
- `emulate:token_delay_ms=N`: wait N ms between streamed events.
- `emulate:break_after=N`: streams end (EOF) after N content events, without usage or `[DONE]`.
- `emulate:tool=NAME` (repeatable, or `NAME,NAME`): call those tools (if the request offers them);
  `emulate:args={"k":"v"}` (JSON without spaces) sets the first call's arguments.
- `emulate:stream_json`: answer a `stream: true` request with a plain JSON envelope.
- `emulate:reasoning`: OpenAI-dialect models emit `reasoning_content` first.
- `emulate:json`: JSON mode without a `response_format`.
- `emulate:unsafe=S1,S10`: Llama Guard models answer `unsafe` with those hazard codes (S1-S14; bare
  `emulate:unsafe` means S1) instead of `safe` (see `guard.py`).
- `emulate:tag=NAME`: record in `app.state.emulator.journal` how far the request got (events sent, completed or
  abandoned by its client), for tests that prove the bridge stops upstream work early.
"""

from __future__ import annotations

from .app import create_app
from .errors import ERROR_TABLE, EmulatorError
from .server import EmulatorServer

__all__ = ["ERROR_TABLE", "EmulatorError", "EmulatorServer", "create_app"]
