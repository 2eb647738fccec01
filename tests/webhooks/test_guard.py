"""The SSRF guard sees through IPv6 forms that carry an IPv4 address (NAT64, 6to4, Teredo, mapped, compatible)."""

import pytest

from app.webhooks.guard import _public


@pytest.mark.parametrize("address", [
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::a00:7",  # NAT64 to loopback, metadata, 10/8
    "64:ff9b:1::808:808",  # local-use NAT64: the embedding is the operator's, refused whole
    "2002:7f00:1::1", "2002:a9fe:a9fe::1",  # 6to4
    "::127.0.0.1", "::8.8.8.8",  # IPv4-compatible (deprecated)
    "2001:0:7f00:1:8000:63bf:3fff:fdd2", "2001:0:4136:e378:8000:63bf:80ff:fffe",  # Teredo: server, client 127.0.0.1
    "::ffff:127.0.0.1", "::ffff:a9fe:a9fe", "::1", "::", "fe80::1%eth0", "fc00::1",
    "127.0.0.1", "169.254.169.254", "10.0.0.7", "100.64.0.1", "224.0.0.1",
])
def test_addresses_reaching_private_ipv4_are_refused(address):
    assert not _public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808",
                                     "2002:808:808::1"])
def test_public_addresses_pass(address):
    assert _public(address)
