"""Calendar parts found in mail: ``text/calendar`` parts and ``.ics`` attachments, from raw
messages, mbox files and Maildir folders. Sizes and part counts are bounded; a message
that cannot be parsed is skipped by the caller.
"""

from __future__ import annotations

import email
import email.policy
import os
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

from ..errors import MailboxError
from ..paths import open_regular_file

__all__ = [
    "CALENDAR_TYPES",
    "MAX_MESSAGE_BYTES",
    "MAX_PART_BYTES",
    "calendar_parts",
    "decode_text",
    "is_calendar_part",
    "maildir_messages",
    "mbox_messages",
]

CALENDAR_TYPES = frozenset({"text/calendar", "application/ics", "text/x-vcalendar", "application/x-ical"})
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
"""A message larger than this is not read for invitations."""
MAX_PART_BYTES = 4 * 1024 * 1024
"""A calendar part larger than this (decoded) is skipped."""
MAX_PARTS = 200
"""Parts of one message looked at."""
MAX_NESTING = 20
"""How deeply multiparts may nest before the rest of a message is ignored."""
_HINTS = (b"text/calendar", b".ics", b"application/ics", b"vcalendar")


def is_calendar_part(content_type: str, filename: str | None) -> bool:
    """A calendar part: by its type, or an attachment named ``*.ics`` (sent as octet-stream)."""
    return content_type.lower() in CALENDAR_TYPES or (filename or "").strip().strip('"').lower().endswith(
        ".ics"
    )


def decode_text(data: bytes, charset: str | None) -> str:
    """Bytes of a calendar part as text: its charset, else UTF-8 (RFC 5545's), bad bytes replaced."""
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", "replace")


def might_hold_calendar(raw: bytes) -> bool:
    """A cheap test before parsing: could this message carry a calendar part?"""
    lowered = raw.lower()
    return any(hint in lowered for hint in _HINTS)


def calendar_parts(raw: bytes) -> list[str]:
    """The calendar texts in one raw message (its own body when it is one), decoded.

    Raises:
        ValueError: the message is too large or cannot be parsed.
    """
    if len(raw) > MAX_MESSAGE_BYTES:
        raise ValueError(f"larger than {MAX_MESSAGE_BYTES // (1024 * 1024)} MB")
    if not might_hold_calendar(raw):
        return []
    try:
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
    except RecursionError:
        raise ValueError("its parts nest too deeply") from None
    found: list[str] = []
    stack: list[tuple[Message, int]] = [(message, 0)]
    seen = 0
    while stack and seen < MAX_PARTS:
        part, depth = stack.pop()
        seen += 1
        if part.is_multipart():
            payload = part.get_payload()
            if depth < MAX_NESTING and isinstance(payload, list):
                stack.extend((child, depth + 1) for child in reversed(payload) if isinstance(child, Message))
            continue
        if not is_calendar_part(part.get_content_type(), part.get_filename()):
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes) or not data.strip() or len(data) > MAX_PART_BYTES:
            continue
        found.append(decode_text(data, part.get_content_charset()))
    return found


def mbox_messages(path: str | Path) -> Iterator[tuple[str, bytes]]:
    """(key, raw message) for each message of an mbox file, read in one pass; a message over
    MAX_MESSAGE_BYTES is yielded cut short (and then refused by ``calendar_parts``).
    """
    name = str(path)
    try:
        handle = open_regular_file(path)
    except OSError as exc:
        raise MailboxError(f"cannot open the mbox file {name}: {exc.strerror or exc}", path=name) from exc
    if handle is None:
        raise MailboxError(
            f"{name} is not a regular file (a FIFO or a device?) — give the mbox file", path=name
        )
    with handle:
        current = bytearray()
        number = 0
        line_start = True
        previous_blank = True
        too_big = False
        while chunk := handle.readline(64 * 1024):
            if line_start and previous_blank and chunk.startswith(b"From "):
                if current:
                    number += 1
                    yield f"message {number}", bytes(current)
                current, too_big = bytearray(), False
            elif not too_big:
                current += chunk
                if len(current) > MAX_MESSAGE_BYTES:
                    too_big = True
            if line_start:
                previous_blank = chunk in (b"\n", b"\r\n")
            line_start = chunk.endswith(b"\n")
        if current:
            number += 1
            yield f"message {number}", bytes(current)


def maildir_messages(path: str | Path) -> Iterator[tuple[str, bytes]]:
    """(file name, raw message) for each regular file in a Maildir's ``new`` and ``cur``."""
    root = Path(path)
    if not (root / "cur").is_dir() and not (root / "new").is_dir():
        raise MailboxError(f"{root} is not a Maildir folder (it has no cur/ or new/)", path=str(root))
    for sub in ("new", "cur"):
        folder = root / sub
        if not folder.is_dir():
            continue
        for name in sorted(os.listdir(folder)):
            if name.startswith("."):
                continue
            try:
                handle = open_regular_file(folder / name)
            except OSError:
                continue
            if handle is None:
                continue
            with handle:
                yield f"{sub}/{name}", handle.read(MAX_MESSAGE_BYTES + 1)
