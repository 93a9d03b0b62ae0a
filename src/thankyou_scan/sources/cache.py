"""The incremental cache: header blocks of the IMAP messages already fetched.

One file per (host, port, user, folder), holding the folder's UIDVALIDITY and, per
UID, the raw header fields and INTERNALDATE as fetched. A rescan fetches only the
UIDs the cache lacks. The file is written under a new temporary name (O_EXCL, mode
0600), record by record as the scan goes (so memory stays flat), and renamed into
place only when the scan has finished: a file in place never changes, so a reader
keeps one open descriptor from the checks to the last record and sees one snapshot
whatever other scans write meanwhile. A file that is corrupt, truncated, of another
version, for another mailbox or UIDVALIDITY, unreadable, not a regular file, or
writable by another user is discarded with a warning, and the scan fetches
everything again. Nothing is unpickled: plain bytes.

Besides the raw header block, each record keeps what was learnt from it: the cheap
HeaderFacts, and the parsed SentMessage once mail-parser has read it, or the reason
it could not, so a rescan parses nothing it parsed before.

Layout: ``MAGIC``; the records, each compressed on its own and preceded by its
compressed length (4 big-endian bytes), each ``>IqIIII`` (UID, INTERNALDATE as Unix
seconds or ``NO_DATE``, lengths of the header, the facts, the parsed message and the
skip reason, that last one plus one, 0 when not skipped) then those bytes; the
SHA-256 of everything else in the file; a JSON trailer (version, key, UIDVALIDITY,
record count, the UIDs as runs, the last SEARCH as a SearchRecord, each record's
offset, and the index); the trailer's length as 4 big-endian bytes. The digest
covers the trailer too: every byte a report depends on is checked before any is used.

The index lists, for every recipient address and every ``@domain`` in the records'
facts, the records that hold it, and under ``""`` the records always read (no
headers, no date, or facts that cannot be read): a rescan reads only the records
of the calendar's people (:meth:`CacheFile.messages_for`), not the whole folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import operator
import os
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from ..errors import CacheError
from ..paths import create_temporary, open_private_file, open_private_folder
from .search_record import SearchRecord, expand_runs, uid_runs

__all__ = [
    "CacheError",
    "CacheFile",
    "CacheKey",
    "CacheWriter",
    "CachedMessage",
    "HeaderCache",
    "SearchRecord",
    "index_keys",
    "read_stored",
    "storable_date",
]

log = logging.getLogger("thankyou_scan")

UTC = timezone.utc
MAGIC = b"thankyou-scan header cache\n"
VERSION = 5
NO_DATE = -(2**63)
_RECORD = struct.Struct(">IqIIII")
_LENGTH = struct.Struct(">I")
_CHUNK = 1 << 16
MAX_HEADER = 16 * 1024 * 1024
"""A longer header block is not cached: the scan skips and counts its message."""
MAX_DERIVED = 8 * MAX_HEADER
"""What is learnt from a header (escaped as JSON) is at most this long."""
MAX_TRAILER = 1 << 26
_DIGEST = 32


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


_DISCARD = (CacheError, OSError, zlib.error, ValueError, OverflowError, RecursionError, struct.error)


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


class HeaderCache:
    """The cache files in one folder (created with mode 0700; refused when another user could write it)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"HeaderCache({str(self.directory)!r})"

    def path(self, key: CacheKey) -> Path:
        """The cache file of ``key`` in this cache's folder."""
        return self.directory / key.filename()

    def load(self, key: CacheKey, uidvalidity: int) -> CacheFile | None:
        """The usable cache for ``key`` at ``uidvalidity``, or None (missing, or discarded with a warning).

        The CacheFile holds the file open: close it (it is a context manager).
        """
        path = self.path(key)
        try:
            folder = open_private_folder(self.directory, create=False)
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("not using the cache in %s (%s); fetching everything", self.directory, _reason(exc))
            return None
        try:
            handle = os.fdopen(open_private_file(folder, path.name, path), "rb")
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("discarding the cache %s (%s); fetching everything again", path, _reason(exc))
            return None
        finally:
            os.close(folder)
        try:
            meta, end, digest = _read_trailer(handle)
            if meta.get("key") != key.as_list():
                raise CacheError("it belongs to another mailbox")
            if meta.get("uidvalidity") != uidvalidity:
                log.info("the folder %r was rebuilt (UIDVALIDITY changed): reading it all again", key.folder)
                handle.close()
                return None
            uids = _uids(meta, end - _DIGEST - len(MAGIC))
            offsets, index = _index(meta, len(uids), end - _DIGEST)
            search = SearchRecord.from_json(meta.get("search"))
        except _DISCARD as exc:
            handle.close()
            log.warning("discarding the cache %s (%s); fetching everything again", path, _reason(exc))
            return None
        return CacheFile(path, handle, end - _DIGEST, uids, search, offsets, index, digest.hex())

    def writer(
        self, key: CacheKey, uidvalidity: int, search: SearchRecord | None = None
    ) -> CacheWriter | None:
        """A writer for a new cache file, or None (with a warning) when the folder is not usable."""
        try:
            folder = open_private_folder(self.directory, create=True)
        except OSError as exc:
            log.warning(
                "cannot write the cache in %s (%s); the next scan fetches everything",
                self.directory,
                _reason(exc),
            )
            return None
        return CacheWriter(folder, self.path(key), key, uidvalidity, search)


class CacheFile:
    """A verified cache file, held open: its UIDs, and its records read again from the same open file.

    Another scan may put a new file in place meanwhile; this one keeps reading the
    file it checked. ``messages()`` raises CacheError if the records cannot be read.
    """

    def __init__(
        self,
        path: Path,
        handle: BinaryIO,
        end: int,
        uids: frozenset[int],
        search: SearchRecord | None = None,
        offsets: tuple[int, ...] = (),
        index: dict[str, list[int]] | None = None,
        digest: str = "",
    ) -> None:
        self.path = path
        self.end = end
        self.uids = uids
        self.search = search
        self.offsets = offsets
        self.index = index or {}
        self.digest = digest
        """The hex SHA-256 the file holds (and was checked against): names this snapshot."""
        self.numbers: dict[int, int] = {}
        """The record number of each UID read so far."""
        self._handle = handle

    def messages(self) -> Iterator[CachedMessage]:
        """Every record, in file order."""
        yield from self._read(range(len(self.offsets)))

    def messages_for(self, keys: Iterable[str]) -> Iterator[CachedMessage]:
        """The records the index files under any of ``keys`` or under ``""``, in file order."""
        count = len(self.offsets)
        chosen: set[int] = set(_numbers(self.index, "", count))
        for key in keys:
            chosen.update(_numbers(self.index, key, count))
        yield from self._read(sorted(chosen))

    def messages_at(self, numbers: Iterable[int]) -> Iterator[CachedMessage]:
        """The records with these numbers and those the index files under ``""``, in file order.

        CacheError when a number names no record.
        """
        count = len(self.offsets)
        chosen = set(numbers)
        if chosen and (min(chosen) < 0 or max(chosen) >= count):
            raise CacheError("a record number names no record")
        chosen.update(_numbers(self.index, "", count))
        yield from self._read(sorted(chosen))

    def raw_records(self) -> Iterator[tuple[int, datetime | None, bytes, list[str]]]:
        """Every record as it is stored, in file order: (UID, INTERNALDATE, its bytes, its index keys).

        For copying records unchanged into a new file (:meth:`CacheWriter.add_raw`): only
        the fixed part of each is decompressed, and the keys come from this file's index.
        """
        count = len(self.offsets)
        keys: list[list[str]] = [[] for _ in range(count)]
        for key in self.index:
            for number in _numbers(self.index, key, count):
                keys[number].append(key)
        try:
            for number, offset in enumerate(self.offsets):
                self._handle.seek(offset)
                prefix = self._handle.read(_LENGTH.size)
                (length,) = _LENGTH.unpack(prefix)
                if offset + _LENGTH.size + length > self.end:
                    raise CacheError("a record runs past the end of the records")
                stored = self._handle.read(length)
                head = zlib.decompressobj().decompress(stored, _RECORD.size)
                uid, seconds = _RECORD.unpack_from(head)[:2]
                self.numbers[uid] = number
                moment = None if seconds == NO_DATE else datetime.fromtimestamp(seconds, UTC)
                yield uid, moment, prefix + stored, keys[number]
        except (OSError, zlib.error, ValueError, OverflowError, struct.error) as exc:
            raise CacheError(_reason(exc)) from exc

    def _read(self, numbers: Iterable[int]) -> Iterator[CachedMessage]:
        try:
            for number in numbers:
                record = _record_at(self._handle, self.offsets[number], self.end)
                self.numbers[record.uid] = number
                yield record
        except (OSError, zlib.error, ValueError, OverflowError, struct.error) as exc:
            raise CacheError(_reason(exc)) from exc

    def close(self) -> None:
        """Close the snapshot file."""
        self._handle.close()

    def __enter__(self) -> CacheFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CacheWriter:
    """Writes records to a new temporary file; ``commit()`` renames it into place, ``abort()`` removes it.

    A write that fails (disk full, file-size limit) is one warning: the file is
    removed, later records are dropped, and the scan goes on.
    """

    def __init__(
        self, folder: int, path: Path, key: CacheKey, uidvalidity: int, search: SearchRecord | None = None
    ) -> None:
        self.path = path
        self.key = key
        self.uidvalidity = uidvalidity
        self.search = search
        self._folder = folder
        self._handle: BinaryIO | None = None
        self.temporary = ""
        self._digest = hashlib.sha256()
        self._uids: list[int] = []
        self._offsets: list[int] = []
        self._index: dict[str, list[int]] = {}
        self._position = len(MAGIC)
        self.digest = ""
        """After a commit that put the file in place: its hex SHA-256 (as CacheFile.digest)."""
        try:
            descriptor, self.temporary = create_temporary(folder, path.name)
            self._handle = os.fdopen(descriptor, "wb")
            self._write(MAGIC)
        except OSError as exc:
            self._fail(exc)

    def add(self, message: CachedMessage) -> None:
        """Add a record; its header must be at most MAX_HEADER bytes and its date storable_date()."""
        derived = max(len(message.facts), len(message.parsed), len(_reason_bytes(message.skipped)))
        if len(message.header) > MAX_HEADER or derived > MAX_DERIVED:
            raise ValueError(f"UID {message.uid}: a record over the cache's limits cannot be written")
        if message.internaldate is not None and not storable_date(message.internaldate):
            raise ValueError(f"UID {message.uid}: the date {message.internaldate} cannot be stored")
        if self._handle is None:
            return
        number = len(self._uids)
        self._uids.append(message.uid)
        self._offsets.append(self._position)
        for key in index_keys(message):
            self._index.setdefault(key, []).append(number)
        # Level 1: each record is compressed alone, on every cold scan's path.
        compressed = zlib.compress(_pack(message), 1)
        try:
            self._write(_LENGTH.pack(len(compressed)) + compressed)
        except OSError as exc:
            self._fail(exc)
        self._position += _LENGTH.size + len(compressed)

    def add_raw(self, uid: int, stored: bytes, keys: Iterable[str]) -> None:
        """Add a record as :meth:`CacheFile.raw_records` gave it (from a file this process checked)."""
        if self._handle is None:
            return
        number = len(self._uids)
        self._uids.append(uid)
        self._offsets.append(self._position)
        for key in keys:
            self._index.setdefault(key, []).append(number)
        try:
            self._write(stored)
        except OSError as exc:
            self._fail(exc)
        self._position += len(stored)

    def numbers(self) -> dict[int, int]:
        """The record number of each UID written."""
        return {uid: number for number, uid in enumerate(self._uids)}

    def commit(self) -> None:
        """Finish the file and put it in place; a failure is a warning, the scan result stands."""
        if self._handle is None:
            return
        try:
            trailer = json.dumps(
                {
                    "version": VERSION,
                    "key": self.key.as_list(),
                    "uidvalidity": self.uidvalidity,
                    "count": len(self._uids),
                    "uids": uid_runs(self._uids),
                    "search": self.search.as_json() if self.search is not None else None,
                    "offsets": self._offsets,
                    "index": self._index,
                }
            ).encode()
            tail = trailer + _LENGTH.pack(len(trailer))
            self._digest.update(tail)
            self._handle.write(self._digest.digest() + tail)
            self._handle.close()
            os.replace(self.temporary, self.path.name, src_dir_fd=self._folder, dst_dir_fd=self._folder)
        except OSError as exc:
            self._fail(exc)
            return
        self.digest = self._digest.hexdigest()
        self._handle = None
        os.close(self._folder)
        self._folder = -1

    def abort(self) -> None:
        """Remove the temporary file (idempotent)."""
        handle, self._handle = self._handle, None
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.close()
        if self._folder >= 0:
            if self.temporary:
                with contextlib.suppress(OSError):
                    os.unlink(self.temporary, dir_fd=self._folder)
            os.close(self._folder)
            self._folder = -1

    def _write(self, data: bytes) -> None:
        assert self._handle is not None
        self._digest.update(data)
        self._handle.write(data)

    def _fail(self, exc: OSError) -> None:
        log.warning(
            "cannot write the cache %s (%s); the next scan fetches everything", self.path, _reason(exc)
        )
        self.abort()


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


def _read_trailer(handle: BinaryIO) -> tuple[dict[str, object], int, bytes]:
    """The trailer's metadata, and where it starts; the digest checked over the whole file."""
    if handle.read(len(MAGIC)) != MAGIC:
        raise CacheError("not a thankyou-scan cache file")
    size = handle.seek(0, os.SEEK_END)
    if size < len(MAGIC) + _LENGTH.size:
        raise CacheError("it is truncated")
    handle.seek(size - _LENGTH.size)
    (length,) = _LENGTH.unpack(handle.read(_LENGTH.size))
    end = size - _LENGTH.size - length
    if not len(MAGIC) <= end < size or length > MAX_TRAILER:
        raise CacheError("it is truncated")
    handle.seek(end)
    meta = json.loads(handle.read(length))
    if not isinstance(meta, dict):
        raise CacheError("its trailer is damaged")
    if meta.get("version") != VERSION:
        raise CacheError(f"it was written by another version (format {meta.get('version')!r})")
    if end - _DIGEST < len(MAGIC):
        raise CacheError("it is truncated")
    handle.seek(end - _DIGEST)
    expected = handle.read(_DIGEST)
    digest = hashlib.sha256()
    handle.seek(0)
    remaining = end - _DIGEST
    while remaining > 0:
        chunk = handle.read(min(_CHUNK, remaining))
        if not chunk:
            raise CacheError("it is truncated")
        digest.update(chunk)
        remaining -= len(chunk)
    handle.seek(end)
    digest.update(handle.read())
    if digest.digest() != expected:
        raise CacheError("it is damaged (the checksum differs)")
    return meta, end, expected


def _uids(meta: dict[str, object], compressed: int) -> frozenset[int]:
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
    if sum(last - first + 1 for first, last in ranges) != count or count * _RECORD.size > compressed * 1100:
        raise CacheError("it is damaged (the record count differs)")
    uids = expand_runs(ranges)
    if len(uids) != count:
        raise CacheError("it is damaged (the record count differs)")
    return uids


def _index(meta: dict[str, object], count: int, end: int) -> tuple[tuple[int, ...], dict[str, list[int]]]:
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


def _numbers(index: dict[str, list[int]], key: str, count: int) -> list[int]:
    """The record numbers the index files under ``key``, checked: numbers of records that exist."""
    numbers = index.get(key, [])
    if not (
        isinstance(numbers, list)
        and set(map(type, numbers)) <= {int}
        and (not numbers or (min(numbers) >= 0 and max(numbers) < count))
    ):
        raise CacheError("its index is damaged")
    return numbers


def _record_at(handle: BinaryIO, offset: int, end: int) -> CachedMessage:
    """The record at ``offset``: its compressed length, then the compressed record (within ``end``)."""
    handle.seek(offset)
    (length,) = _LENGTH.unpack(handle.read(_LENGTH.size))
    if offset + _LENGTH.size + length > end:
        raise CacheError("a record runs past the end of the records")
    return _decode(handle.read(length))


def read_stored(stored: bytes) -> CachedMessage:
    """The record :meth:`CacheFile.raw_records` gave as stored (its length first)."""
    try:
        (length,) = _LENGTH.unpack_from(stored)
        if len(stored) != _LENGTH.size + length:
            raise CacheError("a record's length is wrong")
        return _decode(stored[_LENGTH.size :])
    except (zlib.error, ValueError, OverflowError, struct.error) as exc:
        raise CacheError(_reason(exc)) from exc


def _decode(compressed: bytes) -> CachedMessage:
    """A record from its compressed bytes, checked."""
    decompressor = zlib.decompressobj()
    # zlib expands at most about 1,032 times; the limits below bound what may come out.
    data = decompressor.decompress(compressed, _RECORD.size + MAX_HEADER + 3 * MAX_DERIVED)
    if not decompressor.eof or decompressor.unconsumed_tail or decompressor.unused_data:
        raise CacheError("a record is damaged")
    uid, seconds, header_length, facts_length, parsed_length, skipped_length = _RECORD.unpack_from(data)
    reason_length = max(skipped_length - 1, 0)
    if header_length > MAX_HEADER or max(facts_length, parsed_length, reason_length) > MAX_DERIVED:
        raise CacheError("a record is impossibly large")
    start = _RECORD.size
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


def _pack(message: CachedMessage) -> bytes:
    head = _RECORD.pack(
        message.uid,
        _seconds(message.internaldate),
        len(message.header),
        len(message.facts),
        len(message.parsed),
        0 if message.skipped is None else len(_reason_bytes(message.skipped)) + 1,
    )
    return head + message.header + message.facts + message.parsed + _reason_bytes(message.skipped)


def _reason_bytes(reason: str | None) -> bytes:
    return b"" if reason is None else reason.encode("utf-8", "replace")


def _seconds(moment: datetime | None) -> int:
    return NO_DATE if moment is None else int(moment.timestamp())
