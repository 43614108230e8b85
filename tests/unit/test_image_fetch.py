"""The image fetcher: refusals, pinning, caps, concurrency and one deadline per request.

Every download goes to a loopback server through `FakeNet`, which maps names to public-looking
addresses and opens loopback sockets whatever address it is asked for.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from openai_cf import cancel
from openai_cf.errors import InvalidRequestError
from openai_cf.services.image_fetch import REFUSED, ImageFetcher, ImageLimits, ImageRef
from tests.unit.image_servers import PUBLIC_IP, FakeNet, ImageHandler, closed_port, image_server


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    with image_server() as port:
        yield port


def fetcher(net: FakeNet, **limits: Any) -> ImageFetcher:
    return ImageFetcher(ImageLimits(**limits), resolver=net.resolve, connect=net.connect)


def refs(*urls: str) -> list[ImageRef]:
    return [ImageRef(url, f"messages[0].content[{i}]") for i, url in enumerate(urls)]


def fetch_error(f: ImageFetcher, *urls: str) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        f.fetch_all(refs(*urls))
    return info.value


# -- what comes back -----------------------------------------------------------------------------


def test_data_urls_pass_through_without_any_network() -> None:
    net = FakeNet()
    assert fetcher(net).fetch_all(refs("data:image/png;base64,AA")) == ["data:image/png;base64,AA"]
    assert net.resolved == net.connected == []


def test_images_come_back_inlined_in_the_order_of_their_parts(port: int) -> None:
    # Given a data URL between two downloads of different sizes
    base = f"http://images.example:{port}"
    urls = refs(f"{base}/bytes/5000", "data:image/png;base64,AA", f"{base}/cat.png", f"{base}/chunked/2500")
    # When they are fetched together
    out = fetcher(FakeNet()).fetch_all(urls)
    # Then each keeps its place
    assert out[0] == "data:image/png;base64," + "eHh4" * 1666 + "eHg="
    assert out[1] == "data:image/png;base64,AA"
    assert out[2].startswith("data:image/png;base64,iVBOR")
    assert out[3].startswith("data:image/gif;base64,enp6")


# -- pinning -------------------------------------------------------------------------------------


def test_the_host_is_resolved_once_and_the_vetted_address_is_connected_to(port: int) -> None:
    # Given a resolver that answers a public address first and loopback afterwards (DNS rebinding)
    answers = iter([[PUBLIC_IP], ["127.0.0.1"]])
    net = FakeNet()
    net.resolve = lambda host, p: (net.resolved.append((host, p)), next(answers))[1]  # type: ignore[method-assign]
    # When the image is fetched
    [url] = fetcher(net).fetch_all(refs(f"http://images.example:{port}/cat.png?v=1"))
    # Then the name was resolved once, and the connection went to the checked address
    assert url.startswith("data:image/png;base64,")
    assert net.resolved == [("images.example", port)]
    assert net.connected == [(PUBLIC_IP, port)]
    # And the server was asked for the URL's host and path
    assert ImageHandler.seen[-1] == ("/cat.png?v=1", f"images.example:{port}")


def test_the_next_vetted_address_is_tried_when_one_does_not_connect(port: int) -> None:
    net = FakeNet({"images.example": ["93.184.216.1", PUBLIC_IP]})
    real_connect = net.connect

    def connect(ip: str, p: int, timeout: float) -> socket.socket:
        if ip == "93.184.216.1":
            net.connected.append((ip, p))
            raise ConnectionRefusedError
        return real_connect(ip, p, timeout)

    f = ImageFetcher(resolver=net.resolve, connect=connect)
    assert f.fetch_all(refs(f"http://images.example:{port}/cat.png"))[0].startswith("data:image/png")
    assert net.connected == [("93.184.216.1", port), (PUBLIC_IP, port)]


# -- one refusal for every target we will not or cannot talk to ------------------------------------


@pytest.mark.parametrize(
    ("answers", "host"),
    [
        ({"internal.example": ["10.0.0.5"]}, "internal.example"),
        ({"internal.example": ["169.254.169.254"]}, "internal.example"),
        ({"internal.example": ["64:ff9b::7f00:1"]}, "internal.example"),
        ({"mixed.example": [PUBLIC_IP, "10.1.1.1"]}, "mixed.example"),
        ({}, "unresolvable.example"),
        ({}, "127.0.0.1"),
        ({}, "[::ffff:127.0.0.1]"),
    ],
)
def test_private_and_unresolvable_targets_are_refused_before_connecting(
    answers: dict[str, list[str]], host: str, port: int
) -> None:
    net = FakeNet(answers)
    error = fetch_error(fetcher(net), f"http://{host}:{port}/cat.png")
    assert (error.message, error.code, error.param) == (
        REFUSED,
        "invalid_image_url",
        "messages[0].content[0].image_url.url",
    )
    assert net.connected == []


def test_closed_refused_and_unreachable_targets_get_the_same_message(port: int) -> None:
    # Given a public name whose port is closed, and connections that fail in other ways
    closed = fetch_error(fetcher(FakeNet()), f"http://images.example:{closed_port()}/x.png")
    private = fetch_error(fetcher(FakeNet({"images.example": ["10.0.0.1"]})), f"http://images.example:{port}/x.png")

    def unreachable(ip: str, p: int, timeout: float) -> socket.socket:
        raise OSError(113, "No route to host")

    net = FakeNet()
    lost = fetch_error(ImageFetcher(resolver=net.resolve, connect=unreachable), "http://images.example/x.png")
    # Then nothing tells an open port from a closed one, or a private host from a missing one
    assert {(e.message, e.code) for e in (closed, private, lost)} == {(REFUSED, "invalid_image_url")}
    assert str(port) not in REFUSED


def test_public_servers_answers_keep_their_own_messages(port: int) -> None:
    base = f"http://images.example:{port}"
    assert "HTTP 404" in fetch_error(fetcher(FakeNet()), f"{base}/missing.png").message
    assert "HTTP 302" in fetch_error(fetcher(FakeNet()), f"{base}/redirect").message  # never followed
    assert fetch_error(fetcher(FakeNet()), f"{base}/page.html").code == "invalid_image_format"
    assert "compressed" in fetch_error(fetcher(FakeNet()), f"{base}/gzip.png").message


def test_an_unsafe_url_is_refused_naming_the_part() -> None:
    net = FakeNet()
    error = fetch_error(fetcher(net), "http://127.0.0.1:8080\\@1.1.1.1/x.png")
    assert error.param == "messages[0].content[0].image_url.url"
    assert net.resolved == net.connected == []


# -- caps ------------------------------------------------------------------------------------------


def test_too_many_image_parts_name_the_first_one_over_the_cap() -> None:
    # Given nine image parts where eight are allowed (data: URLs count too)
    net = FakeNet()
    error = fetch_error(fetcher(net, max_count=8), *["data:image/png;base64,AA"] * 9)
    # Then the ninth part is named and nothing was fetched
    assert (error.param, error.code) == ("messages[0].content[8]", "too_many_images")
    assert net.resolved == []


def test_a_declared_length_over_the_cap_is_refused_before_reading(port: int) -> None:
    started = time.monotonic()
    error = fetch_error(fetcher(FakeNet(), max_bytes=1000), f"http://images.example:{port}/declared-huge.png")
    assert error.code == "image_too_large"
    assert time.monotonic() - started < 2  # the server would drip its body for 30 s


def test_an_undeclared_body_over_the_cap_is_cut_off(port: int) -> None:
    error = fetch_error(fetcher(FakeNet(), max_bytes=100_000), f"http://images.example:{port}/stream/5000000")
    assert (error.code, error.param) == ("image_too_large", "messages[0].content[0].image_url.url")


def test_the_total_cap_names_the_part_whose_download_crossed_it(port: int) -> None:
    # Given three 400 kB images, 1 MB per request, one download at a time (a deterministic order)
    urls = [f"http://images.example:{port}/bytes/400000"] * 3
    error = fetch_error(fetcher(FakeNet(), max_total_bytes=1_000_000, concurrency=1), *urls)
    # Then the third part, whose bytes went over, is named
    assert (error.code, error.param) == ("image_too_large", "messages[0].content[2].image_url.url")
    assert "total" in error.message
    # And a declared length over the whole budget is refused before reading
    declared = fetch_error(fetcher(FakeNet(), max_total_bytes=300_000), urls[0])
    assert "total" in declared.message
    # And the same images fit a larger budget
    assert len(fetcher(FakeNet(), max_total_bytes=1_200_000).fetch_all(refs(*urls))) == 3


# -- time ------------------------------------------------------------------------------------------


def test_the_images_of_one_request_download_concurrently(port: int) -> None:
    # Given four images the server delays by 0.5 s each
    started = time.monotonic()
    out = fetcher(FakeNet()).fetch_all(refs(*[f"http://images.example:{port}/slow.png"] * 4))
    # Then they take about one delay, not four
    assert len(out) == 4
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("path", ["/trickle.png", "/slow-headers"])
def test_one_deadline_holds_against_a_trickling_server(path: str, port: int) -> None:
    # Given a server sending one byte every 0.5 s, without Content-Length (or inside its headers)
    started = time.monotonic()
    error = fetch_error(fetcher(FakeNet(), timeout=1.0), f"http://images.example:{port}{path}")
    # Then the 1 s deadline ends it (the old per-read timeout let this run for a minute)
    assert error.code == "image_download_timeout"
    assert time.monotonic() - started < 4


def test_the_deadline_holds_against_a_resolver_that_never_answers() -> None:
    net = FakeNet()
    net.resolve = lambda host, p: (time.sleep(3), [PUBLIC_IP])[1]  # type: ignore[method-assign]
    started = time.monotonic()
    error = fetch_error(fetcher(net, timeout=0.5), "http://images.example/x.png")
    assert error.code == "image_download_timeout"
    assert time.monotonic() - started < 3


def test_one_failed_download_stops_its_siblings(port: int) -> None:
    started = time.monotonic()
    error = fetch_error(
        fetcher(FakeNet(), timeout=30),
        f"http://images.example:{port}/trickle.png",
        f"http://images.example:{port}/nope",
    )
    assert "HTTP 404" in error.message
    assert error.param == "messages[0].content[1].image_url.url"
    assert time.monotonic() - started < 4


def test_a_cancelled_parent_scope_raises_cancelled_not_a_400(port: int) -> None:
    # Given a download that would trickle for a minute, in a thread bound to a request's scope
    scope = cancel.CancelScope()
    outcome: list[BaseException | list[str]] = []

    def work() -> None:
        try:
            outcome.append(
                cancel.run_in(
                    scope,
                    fetcher(FakeNet(), timeout=30).fetch_all,
                    refs(f"http://images.example:{port}/trickle.png", f"http://images.example:{port}/trickle.png"),
                )
            )
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    time.sleep(0.3)
    # When the API client leaves and the request's scope is cancelled
    started = time.monotonic()
    scope.cancel()
    thread.join(5)
    # Then the fetch ends at once with Cancelled
    assert not thread.is_alive()
    assert time.monotonic() - started < 2
    assert isinstance(outcome[0], cancel.Cancelled)


def test_an_already_cancelled_scope_fetches_nothing(port: int) -> None:
    scope = cancel.CancelScope()
    scope.cancel()
    with pytest.raises(cancel.Cancelled):
        cancel.run_in(scope, fetcher(FakeNet()).fetch_all, refs(f"http://images.example:{port}/cat.png"))
