"""The mbox reader as it was before the memory-mapped one: the reference the fast reader must agree with.

tests/test_mailbox.py feeds both the same files (the corpora, hostile and generated
ones) and requires the same entries: where each message starts, its ``From `` line and
its header block, byte for byte.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import BinaryIO

from thankyou_scan.message import MAX_HEADER_BLOCK

_CHUNK = 1 << 20
MAX_FROM_LINE = 4096
_QUOTED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)


class TooLarge:
    def __init__(self, size: int) -> None:
        self.size = size

    def __eq__(self, other: object) -> bool:
        return getattr(other, "size", None) == self.size and type(other).__name__.endswith("TooLarge")


def entries(path: str) -> list[tuple[int, bytes, bytes | TooLarge]]:
    """(start, From line, header block) of every message, the old way."""
    found = []
    with open(path, "rb") as scanner, open(path, "rb") as reader:
        starts = _message_starts(scanner)
        start = next(starts, None)
        while start is not None:
            following = next(starts, None)
            from_line, header_block = _read_entry(reader, start, following)
            found.append((start, from_line, header_block))
            start = following
    return found


def _message_starts(handle: BinaryIO) -> Iterator[int]:
    """The offset of every line that starts with ``From `` (mbox separators), in a fixed-size chunk at a time."""
    marker = b"\nFrom "
    if handle.read(5) == b"From ":
        yield 0
    handle.seek(0)
    position, carry = 0, b""
    while chunk := handle.read(_CHUNK):
        data = carry + chunk
        base = position - len(carry)
        found = data.find(marker)
        while found >= 0:
            yield base + found + 1
            found = data.find(marker, found + 1)
        carry = data[-(len(marker) - 1) :]
        position += len(chunk)


def _read_entry(handle: BinaryIO, start: int, end: int | None) -> tuple[bytes, bytes | TooLarge]:
    """The ``From `` line and the header block of the mbox message between ``start`` and ``end``."""
    handle.seek(start)
    limit = MAX_FROM_LINE if end is None else min(MAX_FROM_LINE, end - start)
    from_line = handle.readline(limit)
    if not from_line.endswith(b"\n"):
        # An overlong From line: the headers start after its end (or there are none).
        rest = _skip_line(handle, end)
        if rest is None:
            return from_line, b""
    available = None if end is None else end - handle.tell()
    header_block = _read_header_block(handle, available)
    if isinstance(header_block, bytes) and b">" in header_block:
        # mbox writers quote a header line that starts with "From " as ">From " (mboxrd
        # adds one ">" a level); left quoted, it ends the header block for the parser.
        header_block = _QUOTED_FROM.sub(rb"\1", header_block)
    return from_line, header_block


def _skip_line(handle: BinaryIO, end: int | None) -> int | None:
    """Move past the end of the current line, reading a chunk at a time; None when ``end`` comes first."""
    while end is None or handle.tell() < end:
        chunk = handle.read(_CHUNK if end is None else min(_CHUNK, end - handle.tell()))
        if not chunk:
            return None
        newline = chunk.find(b"\n")
        if newline >= 0:
            handle.seek(newline + 1 - len(chunk), os.SEEK_CUR)
            return handle.tell()
    return None


def _read_header_block(handle: BinaryIO, available: int | None = None) -> bytes | TooLarge:
    """The header lines of a message up to the blank line; the body is never read.

    At most ``MAX_HEADER_BLOCK`` bytes are read: a longer block gives ``TooLarge``.
    ``available`` bounds the read (the next mbox message starts there).
    """
    want = MAX_HEADER_BLOCK + 2 if available is None else min(MAX_HEADER_BLOCK + 2, available)
    data = handle.read(want)
    if data.startswith((b"\n", b"\r\n")):
        return b""
    ends = [found for found in (data.find(b"\n\n"), data.find(b"\n\r\n")) if found >= 0]
    if ends:
        return data[: min(ends) + 1]
    if len(data) > MAX_HEADER_BLOCK:
        return TooLarge(len(data))
    return data
