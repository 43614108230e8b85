"""The stream bridge stops reading upstream the moment a stop sequence ends the answer."""

from __future__ import annotations

from collections.abc import Iterator

from openai_cf.services.generation import UpstreamRequest, bridge_events, estimate_prompt_tokens
from openai_cf.workers_ai.text import Event, Finish, TextDelta, Usage, UsageReport


class Upstream:
    """Upstream events that count how many were read and whether the stream was closed."""

    def __init__(self, events: list[Event]) -> None:
        self.events = events
        self.read = 0
        self.closed = False

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        if self.closed or self.read >= len(self.events):
            raise StopIteration
        self.read += 1
        return self.events[self.read - 1]

    def close(self) -> None:
        self.closed = True


REQUEST = UpstreamRequest("@cf/m", {"messages": [{"role": "user", "content": "say a few words"}]}, 100, ("STOP",))
TOKENS: list[Event] = [TextDelta(w) for w in ("one ", "two ", "ST", "OP ", "three ", "four ")]


def test_stop_closes_the_upstream_before_reading_on() -> None:
    # Given a long upstream answer that contains a stop sequence split over two events
    upstream = Upstream([*TOKENS, *(TextDelta("more ") for _ in range(1000)), Finish("stop")])
    # When the bridge relays it
    out = list(bridge_events(upstream, REQUEST))
    # Then it stops reading at the stop sequence and reports what was generated up to there
    assert upstream.closed
    assert upstream.read == 4
    assert "".join(e.text for e in out if isinstance(e, TextDelta)) == "one two "
    assert out[-2] == Finish("stop")
    assert out[-1] == UsageReport(Usage(prompt_tokens=4, completion_tokens=4))


def test_a_running_usage_report_gives_the_prompt_count() -> None:
    upstream = Upstream([UsageReport(Usage(prompt_tokens=42, completion_tokens=1, cached_tokens=7)), *TOKENS])
    out = list(bridge_events(upstream, REQUEST))
    assert out[-1] == UsageReport(Usage(prompt_tokens=42, completion_tokens=4, cached_tokens=7))


def test_without_a_stop_the_whole_answer_and_its_usage_pass_through() -> None:
    final = Usage(prompt_tokens=5, completion_tokens=6)
    upstream = Upstream([*TOKENS, Finish("stop"), UsageReport(final)])
    out = list(bridge_events(upstream, UpstreamRequest("@cf/m", {}, 100)))
    assert upstream.read == len(TOKENS) + 2
    assert out[-1] == UsageReport(final)


def test_prompt_estimate_counts_text_parts_and_tools() -> None:
    payload = {
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": [{"type": "text", "text": "hello there"}, {"type": "image_url"}]},
        ],
        "tools": [{"type": "function", "function": {"name": "f"}}],
    }
    assert estimate_prompt_tokens(payload) > estimate_prompt_tokens({"messages": payload["messages"]}) == 4
    assert estimate_prompt_tokens({"prompt": "one two"}) == 2
