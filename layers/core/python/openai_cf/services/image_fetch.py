"""The images of one chat request as `data:` URLs (Workers AI refuses image URLs, so we fetch them).

The guard, in order: at most `max_count` image parts (data: URLs count too); each http(s) URL
parsed once by the parser whose host we connect to (`image_url`); its host resolved once and
every address public (`image_address`); the connection made to a vetted address with TLS verified
for the host name, no redirects, a per-image and a per-request byte cap (`image_http`). The
downloads run concurrently under one wall-clock deadline for the whole request, enforced by a
child cancel scope that a timer cancels; if the API client leaves, the parent scope cancels them
and `Cancelled` is raised instead of an answer nobody would read.

Every private, closed, refused, unreachable or unresolvable target gets the same message and
code, so error texts cannot map which internal hosts or ports exist.
"""

from __future__ import annotations

import base64
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import NoReturn

from openai_cf import cancel
from openai_cf.errors import InvalidRequestError
from openai_cf.services.image_address import IPAddress, all_public, parse_addresses
from openai_cf.services.image_http import (
    ByteBudget,
    Connector,
    Deadline,
    Download,
    Interrupted,
    Rejected,
    Unreachable,
    connect_tcp,
    default_tls_context,
)
from openai_cf.services.image_url import ImageURL, UnsafeImageURL, parse_image_url

logger = logging.getLogger(__name__)

Resolver = Callable[[str, int], list[str]]

REFUSED = "The image URL cannot be fetched: its host is unreachable or not allowed."


def resolve(host: str, port: int) -> list[str]:
    """Every address of `host`, in getaddrinfo's order of preference (RFC 6724), once each."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class ImageRef:
    """One image part of a request: its URL and where it is (`messages[0].content[1]`)."""

    url: str
    part: str

    @property
    def param(self) -> str:
        return f"{self.part}.image_url.url"


@dataclass(frozen=True)
class ImageLimits:
    max_count: int = 8
    max_bytes: int = 10 * 1024 * 1024
    max_total_bytes: int = 20 * 1024 * 1024
    # Seconds for all downloads of one request together.
    timeout: float = 10.0
    # Downloads of one request at a time: enough to overlap latency, few enough to stay small.
    concurrency: int = 4
    # Loopback/private targets allowed (local testing only); they are still resolved once and pinned.
    allow_private: bool = False


@dataclass(frozen=True)
class _Job:
    index: int
    ref: ImageRef
    url: ImageURL


class ImageFetcher:
    def __init__(
        self,
        limits: ImageLimits | None = None,
        *,
        resolver: Resolver = resolve,
        connect: Connector = connect_tcp,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.limits = limits or ImageLimits()
        self._resolver = resolver
        self._connect = connect
        self._tls = tls

    def fetch_all(self, images: Sequence[ImageRef]) -> list[str]:
        """`data:` URLs for `images`, in their order (data: URLs pass through unchanged).

        Raises `InvalidRequestError` naming the part at fault, or `cancel.Cancelled` when the
        scope bound to this thread was cancelled (the API client has gone)."""
        if len(images) > self.limits.max_count:
            raise InvalidRequestError(
                f"A request may hold at most {self.limits.max_count} images.",
                param=images[self.limits.max_count].part,
                code="too_many_images",
            )
        jobs = [_Job(i, ref, _parse(ref)) for i, ref in enumerate(images) if not ref.url.startswith("data:")]
        urls = [ref.url for ref in images]
        if jobs:
            for job, data_url in zip(jobs, self._download_all(jobs), strict=True):
                urls[job.index] = data_url
        return urls

    def _download_all(self, jobs: list[_Job]) -> list[str]:
        parent = cancel.current()
        scope = parent.child() if parent is not None else cancel.CancelScope()
        deadline = Deadline(self.limits.timeout)
        budget = ByteBudget(self.limits.max_total_bytes)
        download = Download(self._connect, self._tls or default_tls_context(), deadline, budget)
        timer = threading.Timer(self.limits.timeout, scope.cancel)
        timer.daemon = True
        pool = ThreadPoolExecutor(max_workers=min(len(jobs), self.limits.concurrency), thread_name_prefix="image")
        timer.start()
        try:
            futures = [pool.submit(cancel.run_in, scope, self._fetch, job, download) for job in jobs]
            # Not `pool.map`: a worker stuck in getaddrinfo (which no scope can wake) must not
            # hold the request past the deadline, so the wait itself is bounded too.
            wait(futures, timeout=deadline.left(), return_when=FIRST_EXCEPTION)
        finally:
            timer.cancel()
            scope.cancel()  # stops the siblings of a failed download, and stragglers
            pool.shutdown(wait=False, cancel_futures=True)
        if parent is not None and parent.cancelled:
            raise cancel.Cancelled
        if all(_rank(future) == _SUCCEEDED for future in futures):
            return [future.result() for future in futures]
        # Report the earliest part whose own download failed, not the siblings stopped because of it.
        job, future = min(zip(jobs, futures, strict=True), key=lambda pair: _rank(pair[1]))
        self._raise(job, future)

    def _raise(self, job: _Job, future: Future[str]) -> NoReturn:
        error = future.exception() if _rank(future) != _UNFINISHED else None
        if error is None or isinstance(error, Interrupted):
            raise self._timeout(job) from error
        if isinstance(error, Rejected):
            raise InvalidRequestError(error.message, param=job.ref.param, code=error.code) from error
        if isinstance(error, Unreachable):
            logger.info("image fetch refused", extra={"error": str(error)})
            raise InvalidRequestError(REFUSED, param=job.ref.param, code="invalid_image_url") from error
        raise error

    def _timeout(self, job: _Job) -> InvalidRequestError:
        return InvalidRequestError(
            f"Downloading the images took longer than {self.limits.timeout:g} s.",
            param=job.ref.param,
            code="image_download_timeout",
        )

    def _fetch(self, job: _Job, download: Download) -> str:
        addresses = self._addresses(job.url)
        content_type, body = download.get(job.url, addresses, self.limits.max_bytes)
        return f"data:{content_type};base64,{base64.b64encode(body).decode()}"

    def _addresses(self, url: ImageURL) -> list[IPAddress]:
        """The host resolved once; these addresses, and only these, are connected to."""
        literal = url.ip_literal
        try:
            addresses = [literal] if literal is not None else parse_addresses(self._resolver(url.host, url.port))
        except (OSError, UnicodeError, ValueError) as exc:
            raise Unreachable("resolve") from exc
        if not addresses:
            raise Unreachable("resolve: no addresses")
        if not self.limits.allow_private and not all_public(addresses):
            raise Unreachable("private address")
        return addresses


def _parse(ref: ImageRef) -> ImageURL:
    try:
        return parse_image_url(ref.url)
    except UnsafeImageURL as exc:
        raise InvalidRequestError(str(exc), param=ref.param, code="invalid_image_url") from exc


_FAILED, _INTERRUPTED, _UNFINISHED, _SUCCEEDED = range(4)


def _rank(future: Future[str]) -> int:
    if not future.done() or future.cancelled():
        return _UNFINISHED
    error = future.exception()
    if error is None:
        return _SUCCEEDED
    return _INTERRUPTED if isinstance(error, Interrupted) else _FAILED
