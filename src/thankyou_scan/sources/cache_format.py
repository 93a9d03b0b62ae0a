"""The cache file's format: its records, its trailer and the checks on both (cache.py reads and writes files).

Layout: ``MAGIC``; the records, each compressed on its own and preceded by its
compressed length (4 big-endian bytes), each ``>IqIIII`` (UID, INTERNALDATE as Unix
seconds or ``NO_DATE``, lengths of the header, the facts, the parsed message and the
skip reason, that last one plus one, 0 when not skipped) then those bytes; the
SHA-256 of everything else in the file; a JSON trailer (version, key, UIDVALIDITY,
record count, the UIDs as runs, the last SEARCH as a SearchRecord, each record's
offset, and the index); the trailer's length as 4 big-endian bytes. Every length,
count and offset read back is checked against what the bytes can hold.
"""

from __future__ import annotations

import hashlib
import json
import operator
import os
import struct
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import BinaryIO

from ..errors import CacheError
from .search_record import expand_runs

__all__ = [
    "DIGEST_SIZE",
    "DISCARD",
    "LENGTH",
    "MAGIC",
    "MAX_DERIVED",
    "MAX_HEADER",
    "MAX_TRAILER",
    "NO_DATE",
    "RECORD",
    "UTC",
    "VERSION",
    "CacheKey",
    "CachedMessage",
    "decode_record",
    "index_keys",
    "index_numbers",
    "pack_record",
    "read_stored",
    "read_trailer",
    "reason",
    "reason_bytes",
    "record_at",
    "storable_date",
    "trailer_index",
    "trailer_uids",
    "unix_seconds",
]

UTC = timezone.utc
MAGIC = b"thankyou-scan header cache\n"
VERSION = 5
NO_DATE = -(2**63)
RECORD = struct.Struct(">IqIIII")
LENGTH = struct.Struct(">I")
CHUNK = 1 << 16
MAX_HEADER = 16 * 1024 * 1024
"""A longer header block is not cached: the scan skips and counts its message."""
MAX_DERIVED = 8 * MAX_HEADER
"""What is learnt from a header (escaped as JSON) is at most this long."""
MAX_TRAILER = 1 << 26
DIGEST_SIZE = 32


@dataclass(frozen=True, slots=True)
class CacheKey:
    """What a cache file belongs to."""

    host: str
    port: int
    user: str
    folder: str

    def as_list(self) -> list[object]:
        """The key as JSON-able data (host and user lower-cased)."""
        return [self.host.lower(), self.port, self.user.lower(), self.folder]

    def filename(self) -> str:
        """The cache file's name: a hash of the key, so nothing about the account shows in it."""
        digest = hashlib.sha256(json.dumps(self.as_list()).encode()).hexdigest()
        return f"imap-{digest[:32]}.cache"


@dataclass(frozen=True, slots=True)
class CachedMessage:
    """One message's header fields and INTERNALDATE as the server sent them, and what was learnt.

    ``facts`` is HeaderFacts.encode(); ``parsed`` is encode_message() of the SentMessage,
    or b"" when never parsed; ``skipped`` is why the message could not be parsed (or
    kept), None when it was not skipped.
    """

    uid: int
    header: bytes
    internaldate: datetime | None
    facts: bytes = b""
    parsed: bytes = b""
    skipped: str | None = None


DISCARD = (CacheError, OSError, zlib.error, ValueError, OverflowError, RecursionError, struct.error)


def index_keys(message: CachedMessage) -> frozenset[str]:
    """Where the index files a record: its addresses and ``@domains``, or ``""`` when it is always read.

    Always read: a record without headers (skipped and counted whatever it shows), and
    one the pre-check lets through whoever it is to (no date, or facts that cannot be
    read). The facts are read as HeaderFacts.encode() wrote them, without building a
    HeaderFacts: this runs for every record a scan writes.
    """
    if not message.header or not message.facts:
        return frozenset({""})
    try:
        date, addresses = json.loads(message.facts)
    except (ValueError, TypeError, RecursionError):
        return frozenset({""})
    if date is None or not isinstance(addresses, list) or not all(isinstance(a, str) for a in addresses):
        return frozenset({""})
    return frozenset(addresses) | frozenset(f"@{address.rpartition('@')[2]}" for address in addresses)


def storable_date(moment: datetime) -> bool:
    """Whether the cache (and HeaderFacts, and encode_message) can write ``moment`` and read it back."""
    try:
        datetime.fromtimestamp(int(moment.timestamp()), UTC)
    except (ValueError, OverflowError, OSError):
        return False
    return True


def reason(exc: BaseException) -> str:
    """A failure in a few words for a warning: the OS's own words when it has them."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def read_trailer(handle: BinaryIO) -> tuple[dict[str, object], int, bytes]:
    """The trailer's metadata, and where it starts; the digest checked over the whole file."""
    if handle.read(len(MAGIC)) != MAGIC:
        raise CacheError("not a thankyou-scan cache file")
    size = handle.seek(0, os.SEEK_END)
    if size < len(MAGIC) + LENGTH.size:
        raise CacheError("it is truncated")
    handle.seek(size - LENGTH.size)
    (length,) = LENGTH.unpack(handle.read(LENGTH.size))
    end = size - LENGTH.size - length
    if not len(MAGIC) <= end < size or length > MAX_TRAILER:
        raise CacheError("it is truncated")
    handle.seek(end)
    meta = json.loads(handle.read(length))
    if not isinstance(meta, dict):
        raise CacheError("its trailer is damaged")
    if meta.get("version") != VERSION:
        raise CacheError(f"it was written by another version (format {meta.get('version')!r})")
    if end - DIGEST_SIZE < len(MAGIC):
        raise CacheError("it is truncated")
    handle.seek(end - DIGEST_SIZE)
    expected = handle.read(DIGEST_SIZE)
    digest = hashlib.sha256()
    handle.seek(0)
    remaining = end - DIGEST_SIZE
    while remaining > 0:
        chunk = handle.read(min(CHUNK, remaining))
        if not chunk:
            raise CacheError("it is truncated")
        digest.update(chunk)
        remaining -= len(chunk)
    handle.seek(end)
    digest.update(handle.read())
    if digest.digest() != expected:
        raise CacheError("it is damaged (the checksum differs)")
    return meta, end, expected


def trailer_uids(meta: dict[str, object], compressed: int) -> frozenset[int]:
    """The UIDs the trailer lists, as many as it counts, and no more than ``compressed`` bytes can hold."""
    ranges, count = meta.get("uids"), meta.get("count")
    if not (
        isinstance(ranges, list)
        and isinstance(count, int)
        and all(
            isinstance(run, list)
            and len(run) == 2
            and all(isinstance(n, int) for n in run)
            and 0 < run[0] <= run[1] < 2**32
            for run in ranges
        )
    ):
        raise CacheError("its trailer has no UID list")
    # zlib expands at most about 1,032 times: no more records can hide in the compressed bytes.
    if sum(last - first + 1 for first, last in ranges) != count or count * RECORD.size > compressed * 1100:
        raise CacheError("it is damaged (the record count differs)")
    uids = expand_runs(ranges)
    if len(uids) != count:
        raise CacheError("it is damaged (the record count differs)")
    return uids


def trailer_index(
    meta: dict[str, object], count: int, end: int
) -> tuple[tuple[int, ...], dict[str, list[int]]]:
    """Each record's offset, increasing and inside the records, and the index (its lists checked when read).

    Checked with the C loops of map/set/all: a rescan reads this for every record.
    """
    offsets, index = meta.get("offsets"), meta.get("index")
    if not (
        isinstance(offsets, list)
        and len(offsets) == count
        and set(map(type, offsets)) <= {int}
        and (not offsets or (offsets[0] >= len(MAGIC) and offsets[-1] < end))
        and all(map(operator.lt, offsets, offsets[1:]))
    ):
        raise CacheError("its record offsets are damaged")
    if not isinstance(index, dict):
        raise CacheError("its index is damaged")
    return tuple(offsets), index


def index_numbers(index: dict[str, list[int]], key: str, count: int) -> list[int]:
    """The record numbers the index files under ``key``, checked: numbers of records that exist."""
    numbers = index.get(key, [])
    if not (
        isinstance(numbers, list)
        and set(map(type, numbers)) <= {int}
        and (not numbers or (min(numbers) >= 0 and max(numbers) < count))
    ):
        raise CacheError("its index is damaged")
    return numbers


def record_at(handle: BinaryIO, offset: int, end: int) -> CachedMessage:
    """The record at ``offset``: its compressed length, then the compressed record (within ``end``)."""
    handle.seek(offset)
    (length,) = LENGTH.unpack(handle.read(LENGTH.size))
    if offset + LENGTH.size + length > end:
        raise CacheError("a record runs past the end of the records")
    return decode_record(handle.read(length))


def read_stored(stored: bytes) -> CachedMessage:
    """The record :meth:`CacheFile.raw_records` gave as stored (its length first)."""
    try:
        (length,) = LENGTH.unpack_from(stored)
        if len(stored) != LENGTH.size + length:
            raise CacheError("a record's length is wrong")
        return decode_record(stored[LENGTH.size :])
    except (zlib.error, ValueError, OverflowError, struct.error) as exc:
        raise CacheError(reason(exc)) from exc


def decode_record(compressed: bytes) -> CachedMessage:
    """A record from its compressed bytes, checked."""
    decompressor = zlib.decompressobj()
    # zlib expands at most about 1,032 times; the limits below bound what may come out.
    data = decompressor.decompress(compressed, RECORD.size + MAX_HEADER + 3 * MAX_DERIVED)
    if not decompressor.eof or decompressor.unconsumed_tail or decompressor.unused_data:
        raise CacheError("a record is damaged")
    uid, seconds, header_length, facts_length, parsed_length, skipped_length = RECORD.unpack_from(data)
    reason_length = max(skipped_length - 1, 0)
    if header_length > MAX_HEADER or max(facts_length, parsed_length, reason_length) > MAX_DERIVED:
        raise CacheError("a record is impossibly large")
    start = RECORD.size
    middle, later = start + header_length, start + header_length + facts_length
    parsed_end = later + parsed_length
    stop = parsed_end + reason_length
    if len(data) != stop:
        raise CacheError("a record's lengths disagree")
    internaldate = None if seconds == NO_DATE else datetime.fromtimestamp(seconds, UTC)
    skipped = data[parsed_end:stop].decode("utf-8", "replace") if skipped_length else None
    return CachedMessage(
        uid, data[start:middle], internaldate, data[middle:later], data[later:parsed_end], skipped
    )


def pack_record(message: CachedMessage) -> bytes:
    """A record's bytes before compression: its fixed part, then the header, facts, parsed message and reason."""
    head = RECORD.pack(
        message.uid,
        unix_seconds(message.internaldate),
        len(message.header),
        len(message.facts),
        len(message.parsed),
        0 if message.skipped is None else len(reason_bytes(message.skipped)) + 1,
    )
    return head + message.header + message.facts + message.parsed + reason_bytes(message.skipped)


def reason_bytes(reason: str | None) -> bytes:
    """A skip reason as stored (empty when there is none)."""
    return b"" if reason is None else reason.encode("utf-8", "replace")


def unix_seconds(moment: datetime | None) -> int:
    """A time as stored: Unix seconds, or ``NO_DATE``."""
    return NO_DATE if moment is None else int(moment.timestamp())
