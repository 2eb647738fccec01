"""SSRF guard: webhook URLs must resolve only to public addresses, checked when created and on every delivery.

At delivery the checked addresses are the ones connected to (the Host header and TLS name stay the
URL's), so a DNS answer that changes between the check and the connection cannot redirect it.
"""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

import httpx


class Refused(ValueError):
    """The URL is not one the service will deliver to; the message says why."""


_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052 well-known prefix: the IPv4 is the last 32 bits
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215 local use: the embedding is the operator's choice
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # deprecated ::a.b.c.d, which some stacks still route as IPv4
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # RFC 2765 SIIT ::ffff:0:a.b.c.d


def _embedded(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address] | None:
    """The IPv4 addresses an IPv6 address reaches through a translation or tunnel, None if it cannot be told."""
    if ip in _NAT64_LOCAL or ip in _IPV4_COMPATIBLE:
        return None
    if ip.ipv4_mapped:
        return [ip.ipv4_mapped]
    if ip.sixtofour:
        return [ip.sixtofour]
    if ip.teredo:
        return list(ip.teredo)  # server and client
    if ip in _NAT64 or ip in _IPV4_TRANSLATED:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return []


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])  # drop an IPv6 zone id
    if isinstance(ip, ipaddress.IPv6Address):
        # Python 3.11 calls 64:ff9b::7f00:1, 2002:7f00:1:: and ::127.0.0.1 global although they reach
        # 127.0.0.1, so the IPv4 inside is checked as well; mapped addresses are judged by their IPv4 alone.
        embedded = _embedded(ip)
        if embedded is None:
            return False
        if ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        elif not all(_global(v4) for v4 in embedded):
            return False
    return _global(ip)


def _global(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    # is_global excludes loopback, private, link-local (169.254.169.254, the cloud metadata address),
    # shared (100.64/10), reserved and unspecified ranges; some multicast ranges count as global.
    # fec0::/10 site-local is deprecated (RFC 3879) but still routed inside some networks
    return ip.is_global and not ip.is_multicast and not getattr(ip, "is_site_local", False)


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
    if port == 0:
        raise Refused("the URL's port must be 1 to 65535")
    if parts.username or parts.password:
        raise Refused("the URL must not carry credentials; use the signing secret to authenticate deliveries")
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _checked(host: str, infos: list, allow_private: bool) -> list[str]:
    """The host's addresses, each once, in the resolver's order of preference (RFC 6724), if all may be used."""
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise Refused(f"{host} does not resolve")
    if not allow_private:
        refused = [a for a in addresses if not _public(a)]
        if refused:
            raise Refused(f"{host} resolves to a non-public address ({', '.join(refused)}); "
                          "set ESCALATION_WEBHOOKS_ALLOW_PRIVATE=true to allow private networks")
    return addresses


def check(url: str, allow_private: bool) -> None:
    """Refuse a URL at creation: every address its host resolves to must be public."""
    _, host, port = parse(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:  # ValueError: a label IDNA refuses
        raise Refused(f"{host} does not resolve: {getattr(exc, 'strerror', None) or exc}") from None
    _checked(host, infos, allow_private)


async def pin(url: str, allow_private: bool) -> tuple[list[httpx.URL], dict[str, str], dict]:
    """The URL rewritten to each checked address of its host (try them in order: a dual-stack receiver may be
    reachable on one family only), with the Host header and TLS server name of the original."""
    scheme, host, port = parse(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:
        raise Refused(f"{host} does not resolve: {getattr(exc, 'strerror', None) or exc}") from None
    original = httpx.URL(url)
    pinned = [original.copy_with(host=address) for address in _checked(host, infos, allow_private)]
    extensions = {"sni_hostname": host} if scheme == "https" and not _is_ip(host) else {}
    return pinned, {"host": original.netloc.decode("ascii")}, extensions
