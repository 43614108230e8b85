"""The address policy of image downloads: global unicast only, IPv4 inside IPv6 judged as IPv4."""

from __future__ import annotations

import ipaddress

import pytest

from openai_cf.services.image_address import all_public, embedded_ipv4, is_public, parse_addresses


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.216.34", True),
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),  # loopback
        ("10.0.0.5", False),  # private
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("169.254.169.254", False),  # cloud metadata (link-local)
        ("0.0.0.0", False),
        ("224.0.0.1", False),  # multicast
        ("240.0.0.1", False),  # reserved
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),  # link-local
        ("fd00::1", False),  # unique local
        ("fc00::1", False),
        ("ff0e::1", False),  # global-scope multicast, still multicast
        ("2001:db8::1", False),  # documentation
        # IPv4-mapped, NAT64, 6to4, IPv4-compatible and Teredo: by the IPv4 inside
        ("::ffff:127.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("::ffff:8.8.8.8", True),
        ("64:ff9b::7f00:1", False),
        ("64:ff9b::a9fe:a9fe", False),
        ("64:ff9b::808:808", True),
        ("2002:7f00:1::", False),
        ("2002:a00:1::1", False),
        ("2002:808:808::1", True),
        ("::7f00:1", False),
        ("::a9fe:a9fe", False),
        # Teredo (server 65.54.227.120 in the prefix, client obfuscated in the last 32 bits)
        ("2001:0:4136:e378:8000:63bf:f7f7:f7f7", True),  # client 8.8.8.8
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # client 127.0.0.1
        ("2001:0:a00:1:8000:63bf:f7f7:f7f7", False),  # server 10.0.0.1
    ],
)
def test_address_policy(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


def test_embedded_ipv4_addresses() -> None:
    assert embedded_ipv4(ipaddress.IPv6Address("64:ff9b::7f00:1")) == (ipaddress.IPv4Address("127.0.0.1"),)
    assert embedded_ipv4(ipaddress.IPv6Address("2002:7f00:1::")) == (ipaddress.IPv4Address("127.0.0.1"),)
    assert embedded_ipv4(ipaddress.IPv6Address("::ffff:a00:1")) == (ipaddress.IPv4Address("10.0.0.1"),)
    assert embedded_ipv4(ipaddress.IPv6Address("2606:4700::1111")) == ()


def test_one_private_address_refuses_the_whole_answer() -> None:
    assert all_public(parse_addresses(["93.184.216.34", "2606:4700::1111"]))
    assert not all_public(parse_addresses(["93.184.216.34", "10.1.1.1"]))
    assert not all_public([])


def test_a_scoped_address_is_never_public() -> None:
    assert not is_public(ipaddress.IPv6Address("fe80::1%eth0"))
