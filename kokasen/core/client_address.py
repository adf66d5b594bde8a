"""The client's address: the one function everything that throttles, audits or analyses uses.

Behind nginx the direct peer (``REMOTE_ADDR``) is the proxy, so the real client is in
``X-Forwarded-For``. That header is believed only when the direct peer is one of
``settings.TRUSTED_PROXIES`` (loopback by default, where nginx runs); a header sent by anyone
else, or the part of it a client wrote itself, is never believed:

- nginx in deploy/ *sets* ``X-Forwarded-For $remote_addr`` (one address, whatever the client
  sent), and a chain of proxies *appends*; reading the list from the right and skipping trusted
  proxies gives the first address that no trusted proxy vouches for, in both cases.
- A malformed entry ends the walk: the last trusted hop is answered instead (its address is
  the best we know and cannot be forged).

For throttling, ``throttle_key`` folds an IPv6 address into its /64 network: one household or
server gets a whole /64 and could otherwise take a new address for every attempt.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

_ATTRIBUTE = "_kokasen_client_ip"


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(p.strip(), strict=False) for p in proxies)


def _parse(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:  # "192.0.2.1:443"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def _trusted(address, networks) -> bool:
    return any(address.version == n.version and address in n for n in networks)


def resolve(remote_addr: str | None, forwarded_for: str | None, proxies: tuple[str, ...]) -> str | None:
    """The client address from the direct peer and the X-Forwarded-For header (pure)."""
    peer = _parse(remote_addr or "")
    if peer is None:
        return None
    networks = _networks(tuple(proxies))
    if not _trusted(peer, networks) or not forwarded_for:
        return str(peer)
    client = peer
    for entry in reversed(forwarded_for.split(",")):
        hop = _parse(entry)
        if hop is None:
            break
        client = hop
        if not _trusted(hop, networks):
            break
    return str(client)


def client_ip(request) -> str | None:
    """The client's address (see the module docstring), or None outside a request."""
    if request is None:
        return None
    cached = getattr(request, _ATTRIBUTE, False)
    if cached is not False:
        return cached
    meta = request.META
    address = resolve(meta.get("REMOTE_ADDR"), meta.get("HTTP_X_FORWARDED_FOR"), tuple(settings.TRUSTED_PROXIES))
    try:
        setattr(request, _ATTRIBUTE, address)
    except AttributeError:  # a request object that takes no attributes
        pass
    return address


def from_trusted_proxy(request) -> bool:
    """Whether the direct peer of ``request`` is one of ``settings.TRUSTED_PROXIES``: the same
    rule as for ``X-Forwarded-For``, for any other header that only the proxy may set."""
    peer = _parse((request.META.get("REMOTE_ADDR") or "") if request is not None else "")
    return peer is not None and _trusted(peer, _networks(tuple(settings.TRUSTED_PROXIES)))


def throttle_key(address: str | None) -> str | None:
    """The key a rate limit counts under: the address, or an IPv6 address's /64."""
    if not address:
        return None
    parsed = _parse(address)
    if parsed is None:
        return address
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)
