"""Who may ask /healthz and /readyz: loopback and ``settings.HEALTH_ALLOWED_NETWORKS`` (the
monitor), by the one client address every other check uses (kokasen.core.client_address: nginx's
X-Forwarded-For from a trusted proxy only). nginx refuses everyone else first
(deploy/nginx/health-networks.conf); this is the same rule again in the app."""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

from kokasen.core.client_address import client_ip

LOOPBACK = ("127.0.0.0/8", "::1/128")


@lru_cache(maxsize=8)
def _networks(extra: tuple[str, ...]):
    return tuple(ipaddress.ip_network(value.strip(), strict=False) for value in (*LOOPBACK, *extra))


def may_ask(request) -> bool:
    address = client_ip(request)
    if not address:
        return False
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return False
    parsed = getattr(parsed, "ipv4_mapped", None) or parsed
    networks = _networks(tuple(settings.HEALTH_ALLOWED_NETWORKS))
    return any(parsed.version == network.version and parsed in network for network in networks)
