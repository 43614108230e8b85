from __future__ import annotations

import pytest

from openai_cf.services.stop import StopScanner, normalize_stop, truncate_at_stop


def feed_all(scanner: StopScanner, pieces: list[str]) -> str:
    out = "".join(scanner.feed(p) for p in pieces)
    return out + scanner.flush()


def test_stop_split_across_chunks_is_caught() -> None:
    # Given a stop sequence that arrives in three pieces
    scanner = StopScanner(("END",))
    # When the pieces are fed one by one
    out = feed_all(scanner, ["alpha E", "N", "D beta"])
    # Then everything before the stop is emitted and nothing after
    assert out == "alpha "
    assert scanner.stopped


def test_text_is_released_as_soon_as_it_cannot_be_a_stop() -> None:
    scanner = StopScanner(("END",))
    assert scanner.feed("alpha E") == "alpha "
    assert scanner.feed("x") == "Ex"
    assert feed_all(scanner, [" tail"]) == " tail"
    assert not scanner.stopped


def test_earliest_of_several_stops_wins() -> None:
    assert truncate_at_stop("one two three", ("three", "two")) == ("one ", True)
    assert truncate_at_stop("nothing here", ("x",)) == ("nothing here", False)


def test_no_stops_passes_text_through() -> None:
    scanner = StopScanner(())
    assert scanner.feed("abc") == "abc"
    assert scanner.flush() == ""


@pytest.mark.parametrize(("raw", "expected"), [(None, ()), ("x", ("x",)), (["a", "", "b"], ("a", "b"))])
def test_normalize_stop(raw: str | list[str] | None, expected: tuple[str, ...]) -> None:
    assert normalize_stop(raw) == expected
