"""Which addresses image downloads may connect to: global unicast, nothing else.

IPv6 forms that carry an IPv4 address are judged by that address, since a route to them ends at
it: NAT64 (`64:ff9b::/96`) through the operator's translator, 6to4 (`2002::/16`) through a relay,
IPv4-mapped (`::ffff:0:0/96`) on a dual-stack socket, the deprecated IPv4-compatible (`::/96`),
and Teredo (`2001::/32`, both its server and client). `ipaddress.is_global` alone passes several
of these (and multicast), and its tables differ between Python versions.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address stands for (none for plain IPv6)."""
    if ip.ipv4_mapped is not None:
        return (ip.ipv4_mapped,)
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if ip.teredo is not None:
        return ip.teredo
    if ip in _NAT64 or ip in _IPV4_COMPATIBLE:
        return (ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF),)
    return ()


def is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded_ipv4(ip)
        if inner:
            return all(is_public(address) for address in inner)
        if ip.scope_id:
            return False
    return ip.is_global and not ip.is_multicast and not ip.is_reserved


def parse_addresses(addresses: Iterable[str]) -> list[IPAddress]:
    """Resolver answers as addresses (a scope id such as `%eth0` is kept; it marks a link-local)."""
    return [ipaddress.ip_address(address) for address in addresses]


def all_public(addresses: Iterable[IPAddress]) -> bool:
    """Every address public. A host with one private address among public ones is refused whole:
    mixed answers are what DNS rebinding looks like, and a real CDN never needs them."""
    checked = list(addresses)
    return bool(checked) and all(is_public(ip) for ip in checked)
