"""Which address players' phones should use to reach this laptop.

The join QR code carries a literal IPv4 address rather than a ``.local`` name
because many phones (Android especially) do not resolve mDNS host names.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

import ifaddr

# Container and VM bridges hold private addresses no phone can reach; picking
# one of them would yield a QR code that silently fails at the venue.
_VIRTUAL_ADAPTER_PREFIXES = ("docker", "br-", "veth", "virbr", "vmnet", "vboxnet", "cni", "flannel")
_WILDCARD_HOSTS = ("", "0.0.0.0", "::")


def lan_addresses() -> list[str]:
    """Non-loopback IPv4 addresses of this machine, most likely reachable from the venue Wi-Fi first."""
    return [address for address, _ in lan_interfaces()]


def lan_interfaces() -> list[tuple[str, str]]:
    """`lan_addresses`, each with the name of its interface (what `engagements doctor` shows).

    Reads the interface table only (no traffic). Private ranges come first
    since venue networks are NATed; link-local (no DHCP) addresses come last.
    """
    found: dict[ipaddress.IPv4Address, str] = {}
    for adapter in ifaddr.get_adapters():
        if adapter.name.startswith(_VIRTUAL_ADAPTER_PREFIXES):
            continue
        for ip in adapter.ips:
            if not ip.is_IPv4:
                continue
            address = ipaddress.IPv4Address(ip.ip)
            if not address.is_loopback and address not in found:
                found[address] = adapter.nice_name or adapter.name
    ordered = sorted(found, key=lambda address: (address.is_link_local, not address.is_private))
    return [(str(address), found[address]) for address in ordered]


def join_base_url(public_url: str | None, host: str, port: int, scheme: str = "http") -> str:
    """Base URL (no trailing slash) that goes into join QR codes.

    ``public_url`` is the operator's override for setups the laptop cannot see
    from inside, such as a reverse proxy or port forward, or the name a TLS
    certificate was issued for. ``host`` is the HTTP bind host: when it is one
    specific address, only that address answers. ``scheme`` is https once the
    appliance serves TLS.
    """
    if public_url:
        parts = urlsplit(public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"public URL {public_url!r} must be an absolute http:// or https:// URL")
        return public_url.rstrip("/")
    address = host if host not in _WILDCARD_HOSTS else (lan_addresses() or ["127.0.0.1"])[0]
    if ":" in address:
        address = f"[{address}]"
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{address}" if port == default else f"{scheme}://{address}:{port}"
