"""Which git hosts a tenant's Source may not name: the reconciler's own machine (loopback, ``localhost``,
the unspecified address) and link-local addresses, where cloud metadata services answer (169.254.169.254,
fd00:ec2::254). A Source's URL is fetched from inside the cluster with the reconciler's network position,
so a tenant naming these would reach what only the reconciler's pod can (SSRF). Only literal addresses and
the ``localhost`` names are recognised: a DNS name is resolved by git at fetch time (see docs/reconciler.md,
Known limits)."""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import unquote, urlsplit

_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@(?P<host>[A-Za-z0-9.-]+):")
# the legacy IPv4 spellings git's resolver accepts too (127.1, 0x7f000001, 2130706433)
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$", re.IGNORECASE)
# what a host name, an IPv4 or a bracketed IPv6 address (with a zone id) can hold once decoded
_HOST_CHARS = re.compile(r"^[a-z0-9._:\[\]-]*$")
_UNREADABLE = "%"  # host_of's answer for a host that is no host: never a public one
_METADATA = {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}


def host_of(url: str) -> str:
    """The host a git URL names (``scheme://[user@]host[:port]/…`` or ``user@host:path``), percent-decoded;
    "" when none, ``_UNREADABLE`` when it cannot be read as a host."""
    scp = _SCP_LIKE.match(url)
    if scp and "://" not in url:
        return scp.group("host").lower()
    try:
        return _decoded((urlsplit(url).hostname or "").lower())
    except ValueError:  # a malformed bracketed host: no host to check, so none to allow
        return _UNREADABLE


def _decoded(host: str) -> str:
    """``host`` percent-decoded as git's transport (curl) decodes it, until stable; ``_UNREADABLE`` when
    the decoded host still holds ``%`` or characters no host name can hold."""
    while (plain := unquote(host).lower()) != host:
        host = plain
    address, _, zone = host.partition("%")  # fe80::1%eth0 (once decoded): a zone id, not an escape
    if not _HOST_CHARS.match(address) or (zone and (":" not in address or not zone.isalnum())):
        return _UNREADABLE
    return host


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])  # fe80::1%eth0: the zone is not the address
    except ValueError:
        if not _NUMERIC_HOST.match(host):
            return None
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def why_private(url: str) -> str:
    """Why ``url``'s host is one a tenant may not name ("" when it may)."""
    host = host_of(url).rstrip(".")
    if host == _UNREADABLE:
        return "its host is not a host name or address (read percent-decoded, as git reads it)"
    if host == "localhost" or host.endswith(".localhost"):
        return f"host {host} is the reconciler's own machine"
    address = _address(host)
    if address is None:
        return ""
    if address.is_loopback or address.is_unspecified:
        return f"host {host} is a loopback address (the reconciler's own machine)"
    if address.is_link_local or address in _METADATA:
        return f"host {host} is a link-local or cloud metadata address"
    return ""
