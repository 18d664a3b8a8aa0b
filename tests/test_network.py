"""Choosing the address that goes into join QR codes."""

from __future__ import annotations

import ifaddr
import pytest

from web import network
from web.network import join_base_url, lan_addresses


@pytest.fixture
def lan(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    addresses = ["192.168.1.20", "81.2.69.160"]
    monkeypatch.setattr(network, "lan_addresses", lambda: addresses)
    return addresses


@pytest.mark.parametrize(
    ("public_url", "expected"),
    [
        ("https://quiz.example.org/", "https://quiz.example.org"),
        ("http://quiz.example.org:8443/venue-3/", "http://quiz.example.org:8443/venue-3"),
    ],
)
def test_public_url_override_wins(lan: list[str], public_url: str, expected: str) -> None:
    assert join_base_url(public_url, "192.0.2.7", 8080) == expected


@pytest.mark.parametrize(
    "public_url", ["quiz.example.org", "ftp://quiz.example.org", "http://", "javascript:alert(1)"]
)
def test_bad_public_url_rejected(lan: list[str], public_url: str) -> None:
    with pytest.raises(ValueError, match="public URL"):
        join_base_url(public_url, "0.0.0.0", 8080)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", ""])
def test_wildcard_bind_uses_first_lan_address(lan: list[str], host: str) -> None:
    assert join_base_url(None, host, 8080) == "http://192.168.1.20:8080"


@pytest.mark.parametrize(
    ("host", "expected"),
    [("192.0.2.7", "http://192.0.2.7:8080"), ("fd00::5", "http://[fd00::5]:8080")],
)
def test_specific_bind_host_is_used(lan: list[str], host: str, expected: str) -> None:
    assert join_base_url(None, host, 8080) == expected


def test_port_80_omitted(lan: list[str]) -> None:
    assert join_base_url(None, "0.0.0.0", 80) == "http://192.168.1.20"


def test_with_tls_the_url_says_https_and_omits_443(lan: list[str]) -> None:
    assert join_base_url(None, "0.0.0.0", 443, "https") == "https://192.168.1.20"
    assert join_base_url(None, "0.0.0.0", 8443, "https") == "https://192.168.1.20:8443"
    assert join_base_url(None, "0.0.0.0", 80, "https") == "https://192.168.1.20:80"


def test_falls_back_to_loopback_without_lan(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(network, "lan_addresses", list)

    assert join_base_url("", "0.0.0.0", 8080) == "http://127.0.0.1:8080"


def test_lan_addresses_prefers_private_and_skips_loopback_and_bridges(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def adapter(name: str, *ips: str | tuple[str, int, int]) -> ifaddr.Adapter:
        return ifaddr.Adapter(name, name, [ifaddr.IP(ip, 24, name) for ip in ips])

    adapters = [
        adapter("lo", "127.0.0.1", ("::1", 0, 0)),
        adapter("eth1", "169.254.3.4"),
        adapter("eth0", "81.2.69.160"),
        adapter("docker0", "172.17.0.1"),
        adapter("wlan0", "192.168.1.20", ("fe80::1", 0, 3)),
        adapter("wlan0:1", "192.168.1.20"),
    ]
    monkeypatch.setattr(ifaddr, "get_adapters", lambda: adapters)

    assert lan_addresses() == ["192.168.1.20", "81.2.69.160", "169.254.3.4"]


def test_lan_addresses_on_this_machine_are_ipv4_and_not_loopback() -> None:
    for address in lan_addresses():
        assert "." in address
        assert not address.startswith("127.")
