"""SSRF guard: webhook URLs must resolve only to public addresses, checked when created and on every delivery.

At delivery the checked address is the one connected to (the Host header and TLS name stay the
URL's), so a DNS answer that changes between the check and the connection cannot redirect it.
"""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

import httpx


class Refused(ValueError):
    """The URL is not one the service will deliver to; the message says why."""


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    # is_global excludes loopback, private, link-local (169.254.169.254, the cloud metadata address),
    # shared (100.64/10), reserved and unspecified ranges; some multicast ranges count as global.
    return ip.is_global and not ip.is_multicast


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def parse(url: str) -> tuple[str, str, int]:
    """Scheme, host and port of an http(s) URL without credentials, or Refused."""
    if not url.isascii() or any(ord(c) <= 32 or ord(c) == 127 for c in url):
        raise Refused("the URL must be ASCII without spaces or control characters (percent-encode the rest)")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise Refused(f"not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("the URL must be http:// or https:// with a host name")
    if parts.username or parts.password:
        raise Refused("the URL must not carry credentials; use the signing secret to authenticate deliveries")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _checked(host: str, infos: list, allow_private: bool) -> str:
    addresses = sorted({info[4][0] for info in infos})
    if not addresses:
        raise Refused(f"{host} does not resolve")
    if not allow_private:
        refused = [a for a in addresses if not _public(a)]
        if refused:
            raise Refused(f"{host} resolves to a non-public address ({', '.join(refused)}); "
                          "set ESCALATION_WEBHOOKS_ALLOW_PRIVATE=true to allow private networks")
    return addresses[0]


def check(url: str, allow_private: bool) -> None:
    """Refuse a URL at creation: every address its host resolves to must be public."""
    _, host, port = parse(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:  # ValueError: a label IDNA refuses
        raise Refused(f"{host} does not resolve: {getattr(exc, 'strerror', None) or exc}") from None
    _checked(host, infos, allow_private)


async def pin(url: str, allow_private: bool) -> tuple[httpx.URL, dict[str, str], dict]:
    """The URL rewritten to a checked address, with the Host header and TLS server name of the original."""
    scheme, host, port = parse(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:
        raise Refused(f"{host} does not resolve: {getattr(exc, 'strerror', None) or exc}") from None
    address = _checked(host, infos, allow_private)
    original = httpx.URL(url)
    pinned = original.copy_with(host=address)
    extensions = {"sni_hostname": host} if scheme == "https" and not _is_ip(host) else {}
    return pinned, {"host": original.netloc.decode("ascii")}, extensions
