"""Which URLs Heartbeat may reach on a tenant's behalf, resolved once.

A URL is refused when it is not http(s), carries credentials (`user:pass@`), or its host resolves
to an address that is not on the public internet: loopback, private (RFC 1918, IPv6 unique local),
link-local (the instance metadata service at 169.254.169.254 and fd00:ec2::254 included), CGNAT
(100.64.0.0/10), multicast, unspecified, reserved or documentation ranges, in IPv4, IPv6,
IPv4-mapped (`::ffff:127.0.0.1`), IPv4-compatible, 6to4, NAT64 and Teredo forms. Hosts are resolved
by the system resolver, so the numeric spellings it accepts (`2130706433`, `0177.0.0.1`, `0x7f.1`,
`127.1`) are checked as the addresses they name. Every address a name resolves to must pass (a
name with one private record is refused), and the caller connects to one of the checked addresses,
never resolving again (no DNS rebinding between check and connect).

`allow_private=True` (the deployment's `AllowPrivateNetworkTargets`, the local stack's default)
lifts the address rule only; scheme and credential rules stay.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit

from heartbeat.errors import InvalidRequestError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., Sequence[tuple[Any, ...]]]
"""`socket.getaddrinfo`'s signature; tests pass their own to name hosts that resolve anywhere."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# Ranges `ipaddress.is_global` counts as global that are still not somewhere to send a request.
_ALSO_REFUSED = (
    ipaddress.IPv4Network("100.64.0.0/10"),  # CGNAT (is_global is False already; kept explicit)
    ipaddress.IPv4Network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.IPv4Network("198.18.0.0/15"),  # benchmarking
)


class OutboundRefusedError(InvalidRequestError):
    """A URL Heartbeat will not reach: the message says why, never with the URL's credentials."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`addresses`, all of them checked) and what to ask for."""

    scheme: str
    host: str
    """The host as written (lower case, IPv6 without brackets): the TLS server name and Host header."""
    port: int
    path: str
    """Path and query, as sent in the request line."""
    addresses: tuple[str, ...]

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def refusal_reason(address: IPAddress) -> str | None:
    """Why `address` may not be reached (None when it is a public unicast address)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            reason = refusal_reason(embedded)
            return None if reason is None else f"{reason} (inside the IPv6 address {address})"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (the instance metadata service is one)"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in ipaddress.IPv4Network("100.64.0.0/10"):
        return "a carrier-grade NAT address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if isinstance(address, ipaddress.IPv4Address) and any(address in net for net in _ALSO_REFUSED):
        return "a special-purpose address"
    if not address.is_global:
        return "an address that is not on the public internet"
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64, Teredo), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64 or address in _NAT64_LOCAL:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _IPV4_COMPATIBLE and int(address) > 1:
        return ipaddress.IPv4Address(int(address))
    return None


def parse_url(url: str) -> SplitResult:
    """Split an http(s) URL, refusing other schemes, credentials and hostless URLs."""
    if not isinstance(url, str) or not url:
        raise OutboundRefusedError("the URL is empty")
    if any(ch in url for ch in "\r\n\t\x00") or any(ch.isspace() for ch in url):
        raise OutboundRefusedError("the URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise OutboundRefusedError(f"the URL is malformed: {error}") from None
    if parts.scheme not in _DEFAULT_PORTS:
        raise OutboundRefusedError("only http:// and https:// URLs can be reached")
    if "@" in parts.netloc:
        raise OutboundRefusedError("URLs with credentials (user:password@host) are refused")
    if not parts.hostname:
        raise OutboundRefusedError("the URL has no host")
    if "%" in parts.hostname:
        raise OutboundRefusedError("IPv6 zone identifiers are refused")
    if port == 0:
        raise OutboundRefusedError("port 0 cannot be reached")
    return parts


def check_url(url: str, *, allow_private: bool = False, resolver: Resolver | None = None) -> Target:
    """Check `url` and resolve its host once. Raises `OutboundRefusedError` saying why not."""
    parts = parse_url(url)
    host = (parts.hostname or "").rstrip(".").lower()
    port = parts.port or _DEFAULT_PORTS[parts.scheme]
    addresses = resolve(host, port, allow_private=allow_private, resolver=resolver)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(scheme=parts.scheme, host=host, port=port, path=path, addresses=addresses)


def resolve(
    host: str, port: int, *, allow_private: bool = False, resolver: Resolver | None = None
) -> tuple[str, ...]:
    """The checked addresses of `host` (every one of them must pass), in the resolver's order."""
    lookup = resolver or socket.getaddrinfo
    try:
        infos = lookup(host, port, 0, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, OSError) as error:
        raise OutboundRefusedError(f"the host {host!r} does not resolve: {error}") from None
    addresses: list[str] = []
    for info in infos:
        raw = str(info[4][0]).split("%", 1)[0]
        try:
            address = ipaddress.ip_address(raw)
        except ValueError:
            raise OutboundRefusedError(f"the host {host!r} resolved to {raw!r}, not an address") from None
        if not allow_private:
            reason = refusal_reason(address)
            if reason is not None:
                raise OutboundRefusedError(
                    f"the host {host!r} resolves to {address}, {reason}; this deployment refuses "
                    "private network targets (AllowPrivateNetworkTargets)"
                )
        if str(address) not in addresses:
            addresses.append(str(address))
    if not addresses:
        raise OutboundRefusedError(f"the host {host!r} has no addresses")
    return tuple(addresses)
