"""Image URLs parsed once, strictly, by the parser whose host we connect to.

URL parsers disagree at the edges: `http://127.0.0.1:8080\\@1.1.1.1/x.png` is 1.1.1.1 to
`urllib.parse` and 127.0.0.1 to urllib3. A guard that checks one parser's host while another
parser's host is connected to can be steered, so this parser's `ImageURL` is the only thing the
downloader connects to, and it accepts only the plain form: no userinfo, backslashes, whitespace,
control characters or percent-encoding in the authority, canonical IPv4 literals, IDNA 2008 host
names. `urlsplit` must also agree with it on scheme, host and port (belt and braces: anything
two parsers read differently is refused rather than judged).
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import idna

DEFAULT_PORTS = {"http": 80, "https": 443}

_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<rest>[/?#].*)?", re.DOTALL)
_AUTHORITY = re.compile(r"(?:\[(?P<ipv6>[0-9A-Fa-f:.]+)\]|(?P<name>[^:@\[\]%]+))(?::(?P<port>[0-9]{1,5}))?")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
# WHATWG reads a host whose last label is a number as an IPv4 address (`127.1`, `0x7f.1`,
# `2130706433`); such hosts must be the one canonical dotted-quad spelling or nothing.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
# Cc control, Cf format (zero-width, bidi), Z* separators: invisible or ambiguous anywhere in a URL.
_FORBIDDEN_CATEGORIES = ("Cc", "Cf", "Zs", "Zl", "Zp")


class UnsafeImageURL(ValueError):
    """Not a URL we are willing to fetch; the message says why without echoing the URL."""


@dataclass(frozen=True)
class ImageURL:
    scheme: str  # "http" or "https"
    host: str  # ASCII: a lowercase DNS name (IDNA-encoded) or an IP literal without brackets
    port: int
    target: str  # the request target: path and query, never the fragment

    @property
    def ip_literal(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def parse_image_url(url: str) -> ImageURL:
    """The one reading of `url` that is checked and connected to (raises `UnsafeImageURL`)."""
    if any(ch == "\\" or unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in url):
        raise UnsafeImageURL("Image URLs must not contain backslashes, spaces or control characters.")
    match = _URL.fullmatch(url)
    if match is None:
        raise UnsafeImageURL("Image URLs must be http(s):// or data: URLs.")
    scheme = match["scheme"].lower()
    if scheme not in DEFAULT_PORTS:
        raise UnsafeImageURL("Image URLs must be http(s):// or data: URLs.")
    if "@" in match["authority"]:
        raise UnsafeImageURL("Image URLs must not carry a user name or password.")
    authority = _AUTHORITY.fullmatch(match["authority"])
    if authority is None:
        raise UnsafeImageURL("The image URL's host is not a plain host name, IP address or port.")
    written = (authority["ipv6"] or authority["name"]).lower()
    host = _ipv6_host(written) if authority["ipv6"] else _name_host(written)
    port = int(authority["port"]) if authority["port"] else DEFAULT_PORTS[scheme]
    if not 0 < port < 65536:
        raise UnsafeImageURL("The image URL's port is out of range.")
    _agree_with_urlsplit(url, scheme, written, port)
    return ImageURL(scheme, host, port, _target(match["rest"] or ""))


def _ipv6_host(written: str) -> str:
    try:
        return str(ipaddress.IPv6Address(written))
    except ValueError as exc:
        raise UnsafeImageURL("The image URL's IPv6 address is malformed.") from exc


def _name_host(written: str) -> str:
    try:
        # IDNA 2008 without UTS 46 mapping: full-width digits or dots never become ASCII ones.
        host = written if written.isascii() else idna.encode(written).decode("ascii")
        if "xn--" in host:
            idna.decode(host)
    except (idna.IDNAError, UnicodeError) as exc:
        raise UnsafeImageURL("The image URL's host is not a valid international domain name.") from exc
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise UnsafeImageURL("The image URL's host is not a valid host name.")
    if _NUMERIC_LABEL.fullmatch(labels[-1]):
        try:
            ipaddress.IPv4Address(host)
        except ValueError as exc:
            raise UnsafeImageURL("IPv4 addresses in image URLs must be written as four decimal numbers.") from exc
    return host


def _agree_with_urlsplit(url: str, scheme: str, host: str, port: int) -> None:
    try:
        parts = urlsplit(url)
        agree = (
            parts.scheme.lower() == scheme
            and parts.hostname == host
            and (parts.port or DEFAULT_PORTS[scheme]) == port
            and parts.username is None
            and parts.password is None
        )
    except ValueError:
        agree = False
    if not agree:
        raise UnsafeImageURL("The image URL is ambiguous.")


def _target(rest: str) -> str:
    path = rest.split("#", 1)[0]
    if not path.startswith("/"):
        path = "/" + path
    # Non-ASCII in the path is sent percent-encoded as UTF-8, as browsers do; the rest is kept as written.
    return "".join(ch if ch.isascii() else quote(ch, safe="") for ch in path)
