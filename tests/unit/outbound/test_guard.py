"""The outbound guard refuses every non-public address form and every URL shape that hides one."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from heartbeat.outbound.guard import OutboundRefusedError, check_url, refusal_reason


def resolver_for(mapping: dict[str, list[str]]) -> Any:
    def lookup(host: str, port: int, *args: Any) -> list[tuple[Any, ...]]:
        if host not in mapping:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        out = []
        for address in mapping[host]:
            family = socket.AF_INET6 if ":" in address else socket.AF_INET
            sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
            out.append((family, socket.SOCK_STREAM, 6, "", sockaddr))
        return out

    return lookup


REFUSED_ADDRESSES = [
    "127.0.0.1",
    "127.255.255.254",
    "10.0.0.1",
    "172.16.5.4",
    "192.168.1.1",
    "169.254.169.254",  # the instance metadata service
    "169.254.0.1",
    "100.64.0.1",  # CGNAT
    "100.127.255.254",
    "0.0.0.0",
    "224.0.0.1",
    "239.255.255.250",
    "255.255.255.255",
    "240.0.0.1",
    "198.18.0.1",
    "192.0.0.8",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",  # the instance metadata service over IPv6
    "ff02::1",
    "ff0e::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "::127.0.0.1",  # IPv4-compatible
    "2002:7f00:1::",  # 6to4 around 127.0.0.1
    "2002:a9fe:a9fe::",  # 6to4 around 169.254.169.254
    "64:ff9b::a9fe:a9fe",  # NAT64 around 169.254.169.254
    "64:ff9b::7f00:1",
]


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
def test_every_non_public_address_form_is_refused(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address)) is not None
    with pytest.raises(OutboundRefusedError) as refused:
        check_url("https://status.example.com/", resolver=resolver_for({"status.example.com": [address]}))
    assert "AllowPrivateNetworkTargets" in refused.value.message


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700::6810:85e5", "::ffff:8.8.8.8"])
def test_public_addresses_pass_and_are_the_ones_to_connect_to(address: str) -> None:
    target = check_url(
        "https://status.example.com:8443/health?x=1",
        resolver=resolver_for({"status.example.com": [address]}),
    )
    assert target.addresses == (str(ipaddress.ip_address(address)),)
    assert (target.host, target.port, target.path) == ("status.example.com", 8443, "/health?x=1")
    assert target.host_header == "status.example.com:8443"


def test_a_name_with_one_private_record_among_public_ones_is_refused() -> None:
    resolver = resolver_for({"mixed.example.com": ["8.8.8.8", "10.1.2.3"]})
    with pytest.raises(OutboundRefusedError, match="10.1.2.3"):
        check_url("http://mixed.example.com/", resolver=resolver)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost/",
        "http://2130706433/",  # decimal 127.0.0.1
        "http://0177.0.0.1/",  # octal
        "http://0x7f.0.0.1/",  # hex
        "http://0x7f000001/",
        "http://127.1/",  # short form
        "http://017700000001/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fd00:ec2::254]/",
        "http://0.0.0.0:8080/",
        "http://0/",
        "http://10.0.0.1./",
        "http://LOCALHOST./",
    ],
)
def test_numeric_and_literal_host_spellings_are_checked_as_the_address_they_name(url: str) -> None:
    # The system resolver reads these spellings without a socket (they are numeric or /etc/hosts).
    with pytest.raises(OutboundRefusedError):
        check_url(url)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://user:secret@status.example.com/", "credentials"),
        ("http://user@status.example.com/", "credentials"),
        ("ftp://status.example.com/", "http"),
        ("file:///etc/passwd", "http"),
        ("gopher://status.example.com/", "http"),
        ("http:///nohost", "no host"),
        ("http://status.example.com:99999/", "malformed"),
        ("http://[fe80::1%25eth0]/", "zone"),
        ("http://status.example.com/a b", "whitespace"),
        ("", "empty"),
    ],
)
def test_urls_that_hide_where_they_go_are_refused_even_when_private_targets_are_allowed(
    url: str, why: str
) -> None:
    resolver = resolver_for({"status.example.com": ["8.8.8.8"]})
    with pytest.raises(OutboundRefusedError, match=why):
        check_url(url, allow_private=True, resolver=resolver)


def test_allowing_private_targets_lifts_only_the_address_rule() -> None:
    target = check_url("http://127.0.0.1:8080/x", allow_private=True)
    assert target.addresses == ("127.0.0.1",)
    assert target.host_header == "127.0.0.1:8080"


def test_a_host_that_does_not_resolve_is_refused_with_its_name() -> None:
    with pytest.raises(OutboundRefusedError, match="nowhere.example.com"):
        check_url("https://nowhere.example.com/", resolver=resolver_for({}))


def test_the_refusal_never_repeats_the_urls_credentials() -> None:
    with pytest.raises(OutboundRefusedError) as refused:
        check_url("http://admin:hunter2@127.0.0.1/")
    assert "hunter2" not in str(refused.value)
