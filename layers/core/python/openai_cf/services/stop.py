"""Stop sequences, enforced by the bridge (most Workers AI models ignore `stop`).

`StopScanner` holds back only the tail that could still become a stop sequence, so a stop split
across chunk boundaries is caught and everything before it streams without delay.
"""

from __future__ import annotations


def normalize_stop(stop: str | list[str] | None) -> tuple[str, ...]:
    if stop is None:
        return ()
    values = [stop] if isinstance(stop, str) else stop
    return tuple(s for s in values if s)


def truncate_at_stop(text: str, stops: tuple[str, ...]) -> tuple[str, bool]:
    positions = [i for i in (text.find(s) for s in stops) if i >= 0]
    if not positions:
        return text, False
    return text[: min(positions)], True


class StopScanner:
    def __init__(self, stops: tuple[str, ...]) -> None:
        self.stops = stops
        self.held = ""
        self.stopped = False

    def feed(self, text: str) -> str:
        """Text that is safe to emit now. Sets `stopped` once a stop sequence appeared."""
        if self.stopped:
            return ""
        if not self.stops:
            return text
        buffer = self.held + text
        cut, found = truncate_at_stop(buffer, self.stops)
        if found:
            self.stopped = True
            self.held = ""
            return cut
        keep = self._partial_suffix(buffer)
        self.held = buffer[len(buffer) - keep :] if keep else ""
        return buffer[: len(buffer) - keep]

    def flush(self) -> str:
        held, self.held = self.held, ""
        return "" if self.stopped else held

    def _partial_suffix(self, buffer: str) -> int:
        longest = 0
        for stop in self.stops:
            for size in range(min(len(stop) - 1, len(buffer)), longest, -1):
                if buffer.endswith(stop[:size]):
                    longest = size
                    break
        return longest
