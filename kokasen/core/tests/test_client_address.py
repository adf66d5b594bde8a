"""The one client-address function (issue 10, item 3): the proxy's header is believed only
from a trusted peer, and only as far as trusted proxies vouch for it."""

import pytest
from django.test import RequestFactory

from kokasen.core.client_address import client_ip, resolve, throttle_key

LOOPBACK = ("127.0.0.1/32", "::1/128")


@pytest.mark.parametrize(
    ("peer", "header", "proxies", "expected"),
    [
        # nginx on loopback sets X-Forwarded-For $remote_addr: the client.
        ("127.0.0.1", "198.51.100.7", LOOPBACK, "198.51.100.7"),
        ("::1", "2001:db8::7", LOOPBACK, "2001:db8::7"),
        # No header from the proxy: the proxy itself is all we know.
        ("127.0.0.1", None, LOOPBACK, "127.0.0.1"),
        # A peer that is not a trusted proxy: its header is ignored, whatever it says.
        ("203.0.113.5", "192.0.2.1", LOOPBACK, "203.0.113.5"),
        ("203.0.113.5", "127.0.0.1", LOOPBACK, "203.0.113.5"),
        # A client that sends its own header through an appending proxy: the rightmost
        # untrusted entry is the one a trusted proxy saw.
        ("127.0.0.1", "192.0.2.1, 198.51.100.7", LOOPBACK, "198.51.100.7"),
        # A chain of trusted proxies (a load balancer in front of nginx).
        ("127.0.0.1", "198.51.100.7, 10.0.0.2", (*LOOPBACK, "10.0.0.0/8"), "198.51.100.7"),
        ("127.0.0.1", "10.0.0.3, 10.0.0.2", (*LOOPBACK, "10.0.0.0/8"), "10.0.0.3"),
        # Garbage ends the walk at the last address a trusted proxy vouched for.
        ("127.0.0.1", "198.51.100.7, not-an-address", LOOPBACK, "127.0.0.1"),
        ("127.0.0.1", "<script>, 198.51.100.7", LOOPBACK, "198.51.100.7"),
        # Ports and brackets, and IPv4-mapped IPv6.
        ("127.0.0.1", "198.51.100.7:51234", LOOPBACK, "198.51.100.7"),
        ("127.0.0.1", "[2001:db8::7]:443", LOOPBACK, "2001:db8::7"),
        ("::ffff:127.0.0.1", "198.51.100.7", LOOPBACK, "198.51.100.7"),
        ("", "198.51.100.7", LOOPBACK, None),
    ],
)
def test_resolve(peer, header, proxies, expected):
    assert resolve(peer, header, proxies) == expected


def test_client_ip_reads_the_setting(settings):
    factory = RequestFactory()
    request = factory.get("/", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="198.51.100.9")
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    assert client_ip(request) == "10.1.2.3"
    request = factory.get("/", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="198.51.100.9")
    settings.TRUSTED_PROXIES = ["10.0.0.0/8"]
    assert client_ip(request) == "198.51.100.9"
    assert client_ip(None) is None


def test_ipv6_clients_are_throttled_per_64():
    assert throttle_key("2001:db8:1:2::1") == throttle_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert throttle_key("2001:db8:1:3::1") != throttle_key("2001:db8:1:2::1")
    assert throttle_key("198.51.100.7") == "198.51.100.7"
    assert throttle_key(None) is None


def test_a_malformed_trusted_proxies_setting_stops_the_start(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from kokasen.settings.env import env_networks

    monkeypatch.setenv("TRUSTED_PROXIES", "127.0.0.1, localhost")
    with pytest.raises(ImproperlyConfigured, match="localhost"):
        env_networks("TRUSTED_PROXIES", [])
