"""The command line's option values checked before anything is read or connected (exit 2).

argparse checks types and choices; these are the ranges and shapes it cannot: paths,
``--now``, ``--imap-host``, ``--imap-port``, ``--timeout``, ``--folder``, ``--me``.
"""

from __future__ import annotations

import argparse
import math
import os
from datetime import datetime, timezone
from pathlib import Path

from .errors import UsageError
from .network import host_problem
from .times import FIRST_YEAR, LAST_YEAR

__all__ = ["MAX_TIMEOUT", "check_host", "check_values", "parse_now"]

MAX_TIMEOUT = 3600.0
"""Longest ``--timeout``, in seconds."""


def _shown(value: str, limit: int = 80) -> str:
    """``value`` quoted for a message, cut short when it is long."""
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")


def parse_now(text: str) -> datetime:
    """``--now``: an ISO 8601 time with an offset (``Z`` allowed), as an aware datetime."""
    cleaned = text.strip()
    if cleaned[-1:] in ("Z", "z"):
        cleaned = cleaned[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise UsageError(
            f"--now {_shown(text)} is not an ISO 8601 time — write it like 2026-11-10T12:00:00Z"
        ) from None
    if moment.utcoffset() is None:
        raise UsageError(f"--now {_shown(text)} has no offset — add Z for UTC, or an offset like +01:00")
    # Checked as written, before converting: 9999-12-31T23:59:59-23:59 has no UTC datetime.
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise UsageError(
            f"--now {_shown(text)} is outside the years {FIRST_YEAR}–{LAST_YEAR} — "
            "write it like 2026-11-10T12:00:00Z"
        )
    return moment.astimezone(timezone.utc)


_PATH_OPTIONS = (
    ("calendar", "--calendar"),
    ("file", "FILE"),
    ("mbox", "--mbox"),
    ("maildir", "--maildir"),
    ("output", "--output"),
    ("cache", "--cache"),
    ("tls_ca", "--tls-ca"),
    ("config", "--config"),
)


def check_values(args: argparse.Namespace) -> None:
    """Refuse option values out of range before anything is read or connected (exit 2)."""
    for name, option in _PATH_OPTIONS:
        value = getattr(args, name, None)
        if value is not None and (not value.strip() or "\x00" in value):
            raise UsageError(f"{option} {_shown(value)} is not a path — give a file or folder name")
    output = getattr(args, "output", None)
    if output is not None and (output.endswith(("/", os.sep)) or Path(output).is_dir()):
        raise UsageError(f"--output {_shown(output)} is a folder — give a file name, like report.txt")
    if getattr(args, "imap_host", None) is not None:
        check_host(args.imap_host)
    port = getattr(args, "imap_port", None)
    if port is not None and not 1 <= port <= 65535:
        raise UsageError(f"--imap-port {port} is not a port — give a number from 1 to 65535 (IMAPS: 993)")
    timeout = getattr(args, "timeout", None)
    if timeout is not None and not (math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):
        raise UsageError(
            f"--timeout {timeout:g} is out of range — give seconds above 0 and at most {MAX_TIMEOUT:g} "
            "(default: 30)"
        )
    for folder in getattr(args, "folder", None) or ():
        if not folder.strip() or not folder.isprintable():
            raise UsageError(
                f"--folder {_shown(folder)} is empty or holds control characters — give the folder's name "
                "as `thankyou-scan folders` lists it"
            )
    for address in getattr(args, "me", None) or ():
        local, at, domain = address.rpartition("@")
        if not (local and at and domain) or not address.isprintable() or any(c.isspace() for c in address):
            raise UsageError(f"--me {_shown(address)} is not an email address — write it like you@gmail.com")


def check_host(host: str) -> None:
    """Refuse what cannot be a host name or address (a URL, a port, spaces), naming --imap-host."""
    problem = host_problem(host)
    if problem == "port":
        raise UsageError(
            f"--imap-host {_shown(host)}: give only the host name (like imap.gmail.com); a port goes to --imap-port"
        )
    if problem is not None:
        raise UsageError(f"--imap-host {_shown(host)} is not a host name — write it like imap.gmail.com")
