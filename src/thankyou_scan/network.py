"""Is this host this machine? Loopback checks shared by the IMAP source and OAuth2.

Standard library only: OAuth2 checks its redirect and token addresses here without
importing imapclient.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any, cast

from .errors import UsageError

__all__ = ["AddressInfo", "host_problem", "is_loopback", "is_loopback_address", "resolve_loopback"]

AddressInfo = tuple[int, int, int, str, Any]


def host_problem(host: str) -> str | None:
    """Why ``host`` cannot be a host name or IP address ("port", "name"), or None when it can.

    "port": it holds a ``:`` (a port or a URL) but is no IPv6 address; "name": it is empty,
    holds spaces, control characters, ``/``, ``\\`` or ``@``, or is refused by IDNA (labels of
    1-63 characters, 253 in all) — what the resolver would refuse.
    """
    try:
        ipaddress.ip_address(host.strip("[]"))
        return None
    except ValueError:
        pass
    if ":" in host:
        return "port"
    name = host.rstrip(".")
    valid = bool(name) and name.isprintable() and not any(c.isspace() or c in "/\\@" for c in name)
    try:
        name.encode("idna")
    except UnicodeError:
        valid = False
    return None if valid else "name"


def is_loopback(host: str) -> bool:
    """True for names that claim to be this machine: a first check, without any DNS lookup.

    A name proves nothing (``localhost.`` goes to DNS): :func:`resolve_loopback` decides
    from the addresses, and the connection goes to the address it checked.
    """
    name = host.strip().rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    return is_loopback_address(name.strip("[]"))


def is_loopback_address(text: str) -> bool:
    """True for an IP address of this machine (an IPv4-mapped IPv6 address included)."""
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback  # ::ffff:127.0.0.1
    return address.is_loopback


def resolve_loopback(host: str, port: int) -> list[AddressInfo]:
    """Resolve ``host`` once; every address must be a loopback address, else UsageError.

    Connect to what this returns, never to the name again: a second lookup could answer
    differently. ``socket.gaierror`` is left to the caller.
    """
    infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    outside = sorted({str(info[4][0]) for info in infos if not is_loopback_address(str(info[4][0]))})
    if outside or not infos:
        raise UsageError(
            f"{host} resolves to {', '.join(outside) or 'nothing'}, not to this machine (127.0.0.1, ::1)"
        )
    return cast("list[AddressInfo]", infos)
