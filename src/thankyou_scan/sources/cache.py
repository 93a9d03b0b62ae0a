"""The incremental cache: header blocks of the IMAP messages already fetched.

One file per (host, port, user, folder), holding the folder's UIDVALIDITY and, per
UID, the raw header fields and INTERNALDATE as fetched. A rescan fetches only the
UIDs the cache lacks. The file is written under a temporary name with mode 0600,
record by record as the scan goes (so memory stays flat), and renamed into place
only when the scan has finished. A file that is corrupt, truncated, of another
version, for another mailbox or UIDVALIDITY, or unreadable is discarded with a
warning, and the scan fetches everything again. Nothing is unpickled: plain bytes.

Besides the raw header block, each record keeps what was learnt from it: the cheap
HeaderFacts, and the parsed SentMessage once mail-parser has read it (or the reason
it could not), so a rescan parses nothing it parsed before.

Layout: ``MAGIC``; the records, zlib-compressed, each ``>IqIII`` (UID, INTERNALDATE
as Unix seconds or ``NO_DATE``, lengths of the header, the facts and the parsed
message) then those bytes; a JSON trailer (version, key, UIDVALIDITY, record count,
CRC-32 of the uncompressed records, the UIDs as runs, and the last SEARCH as a
SearchRecord); the trailer's length as 4 big-endian bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

__all__ = ["SKIPPED", "CacheFile", "CacheKey", "CacheWriter", "CachedMessage", "HeaderCache", "SearchRecord"]

log = logging.getLogger("thankyou_scan")

UTC = timezone.utc
MAGIC = b"thankyou-scan header cache\n"
VERSION = 3
NO_DATE = -(2**63)
_RECORD = struct.Struct(">IqIII")
_LENGTH = struct.Struct(">I")
_CHUNK = 1 << 16
MAX_HEADER = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class CacheKey:
    """What a cache file belongs to."""

    host: str
    port: int
    user: str
    folder: str

    def as_list(self) -> list[object]:
        return [self.host.lower(), self.port, self.user.lower(), self.folder]

    def filename(self) -> str:
        digest = hashlib.sha256(json.dumps(self.as_list()).encode()).hexdigest()
        return f"imap-{digest[:32]}.cache"


@dataclass(frozen=True, slots=True)
class CachedMessage:
    """One message's header fields and INTERNALDATE as the server sent them, and what was learnt.

    ``facts`` is HeaderFacts.encode(); ``parsed`` is encode_message() of the SentMessage,
    ``SKIPPED`` + the reason when mail-parser could not use it, or b"" when never parsed.
    """

    uid: int
    header: bytes
    internaldate: datetime | None
    facts: bytes = b""
    parsed: bytes = b""


SKIPPED = b"\x00skipped:"


@dataclass(frozen=True, slots=True)
class SearchRecord:
    """The last scan's SEARCH: its window, the folder's UIDNEXT and EXISTS then, and the UIDs found.

    When a folder still has the same UIDNEXT (nothing added) and EXISTS (nothing
    expunged), and the window is the same, the same SEARCH would find the same UIDs.
    """

    window: str
    uidnext: int | None
    exists: int | None
    found: frozenset[int] = frozenset()

    def unchanged_since(self, earlier: SearchRecord) -> bool:
        return (
            self.uidnext is not None
            and self.exists is not None
            and (self.window, self.uidnext, self.exists) == (earlier.window, earlier.uidnext, earlier.exists)
        )

    def as_json(self) -> dict[str, object]:
        return {
            "window": self.window,
            "uidnext": self.uidnext,
            "exists": self.exists,
            "found": _ranges(list(self.found)),
        }

    @classmethod
    def from_json(cls, data: object) -> SearchRecord | None:
        """The record in a trailer; None when absent or not understood (the scan then searches)."""
        if not isinstance(data, dict):
            return None
        window, uidnext, exists, found = (data.get(k) for k in ("window", "uidnext", "exists", "found"))
        if not (
            isinstance(window, str)
            and isinstance(uidnext, int)
            and isinstance(exists, int)
            and isinstance(found, list)
            and all(
                isinstance(run, list) and len(run) == 2 and all(isinstance(n, int) for n in run)
                for run in found
            )
        ):
            return None
        uids = _expand(found)
        return cls(window, uidnext, exists, uids) if len(uids) <= exists else None


class CacheError(Exception):
    """The cache file cannot be used (the caller discards it)."""


class HeaderCache:
    """The cache files in one folder (created with mode 0700)."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"HeaderCache({str(self.directory)!r})"

    def path(self, key: CacheKey) -> Path:
        return self.directory / key.filename()

    def load(self, key: CacheKey, uidvalidity: int) -> CacheFile | None:
        """The usable cache for ``key`` at ``uidvalidity``, or None (missing, or discarded with a warning)."""
        path = self.path(key)
        try:
            with open(path, "rb") as handle:
                meta, end = _read_trailer(handle)
                if meta.get("key") != key.as_list():
                    raise CacheError("it belongs to another mailbox")
                if meta.get("uidvalidity") != uidvalidity:
                    log.info(
                        "the folder %r was rebuilt (UIDVALIDITY changed): reading it all again", key.folder
                    )
                    return None
                uids = _validate(handle, end, meta)
        except FileNotFoundError:
            return None
        except (CacheError, OSError, zlib.error, ValueError, OverflowError, struct.error) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            log.warning("discarding the cache %s (%s); fetching everything again", path, reason)
            return None
        return CacheFile(path, end, uids, SearchRecord.from_json(meta.get("search")))

    def writer(
        self, key: CacheKey, uidvalidity: int, search: SearchRecord | None = None
    ) -> CacheWriter | None:
        """A writer for a new cache file, or None (with a warning) when the folder is not writable."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            return CacheWriter(self.path(key), key, uidvalidity, search)
        except OSError as exc:
            log.warning(
                "cannot write the cache in %s (%s); the next scan fetches everything", self.directory, exc
            )
            return None


class CacheFile:
    """A validated cache file: its UIDs, and its records read again on demand."""

    def __init__(
        self, path: Path, end: int, uids: frozenset[int], search: SearchRecord | None = None
    ) -> None:
        self.path = path
        self.end = end
        self.uids = uids
        self.search = search

    def messages(self) -> Iterator[CachedMessage]:
        """Every record, in file order (the file was validated when loaded)."""
        with open(self.path, "rb") as handle:
            handle.seek(len(MAGIC))
            yield from _records(handle, self.end)


class CacheWriter:
    """Writes records to a temporary file; ``commit()`` renames it into place, ``abort()`` removes it."""

    def __init__(
        self, path: Path, key: CacheKey, uidvalidity: int, search: SearchRecord | None = None
    ) -> None:
        self.path = path
        self.key = key
        self.uidvalidity = uidvalidity
        self.search = search
        self.temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        self._handle = os.fdopen(os.open(self.temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")
        self._handle.write(MAGIC)
        self._compressor = zlib.compressobj(6)
        self._uids: list[int] = []
        self._crc = 0

    def add(self, message: CachedMessage) -> None:
        data = _pack(message)
        self._crc = zlib.crc32(data, self._crc)
        self._uids.append(message.uid)
        self._handle.write(self._compressor.compress(data))

    def commit(self) -> None:
        """Finish the file and put it in place; a failure is a warning, the scan result stands."""
        try:
            self._handle.write(self._compressor.flush())
            trailer = json.dumps(
                {
                    "version": VERSION,
                    "key": self.key.as_list(),
                    "uidvalidity": self.uidvalidity,
                    "count": len(self._uids),
                    "crc32": self._crc,
                    "uids": _ranges(self._uids),
                    "search": self.search.as_json() if self.search is not None else None,
                }
            ).encode()
            self._handle.write(trailer + _LENGTH.pack(len(trailer)))
            self._handle.close()
            os.chmod(self.temporary, 0o600)
            os.replace(self.temporary, self.path)
        except OSError as exc:
            log.warning("cannot write the cache %s (%s); the next scan fetches everything", self.path, exc)
            self.abort()

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._handle.close()
        with contextlib.suppress(OSError):
            self.temporary.unlink()


def _read_trailer(handle: BinaryIO) -> tuple[dict[str, object], int]:
    """The trailer's metadata, and where the records end."""
    if handle.read(len(MAGIC)) != MAGIC:
        raise CacheError("not a thankyou-scan cache file")
    size = handle.seek(0, os.SEEK_END)
    if size < len(MAGIC) + _LENGTH.size:
        raise CacheError("it is truncated")
    handle.seek(size - _LENGTH.size)
    (length,) = _LENGTH.unpack(handle.read(_LENGTH.size))
    end = size - _LENGTH.size - length
    if not len(MAGIC) <= end < size or length > 1 << 26:
        raise CacheError("it is truncated")
    handle.seek(end)
    meta = json.loads(handle.read(length))
    if not isinstance(meta, dict):
        raise CacheError("its trailer is damaged")
    if meta.get("version") != VERSION:
        raise CacheError(f"it was written by another version (format {meta.get('version')!r})")
    return meta, end


def _validate(handle: BinaryIO, end: int, meta: dict[str, object]) -> frozenset[int]:
    """Check the checksum over the decompressed records (in C-sized chunks); the UIDs come from the trailer."""
    handle.seek(len(MAGIC))
    decompressor = zlib.decompressobj()
    crc = 0
    remaining = end - len(MAGIC)
    while remaining > 0:
        chunk = handle.read(min(_CHUNK, remaining))
        if not chunk:
            break
        remaining -= len(chunk)
        crc = zlib.crc32(decompressor.decompress(chunk), crc)
    if not decompressor.eof or remaining:
        raise CacheError("the compressed records end early")
    if crc != meta.get("crc32"):
        raise CacheError("it is damaged (the checksum differs)")
    ranges = meta.get("uids")
    if not isinstance(ranges, list):
        raise CacheError("its trailer has no UID list")
    uids = _expand(ranges)
    if len(uids) != meta.get("count"):
        raise CacheError("it is damaged (the record count differs)")
    return uids


def _ranges(uids: list[int]) -> list[list[int]]:
    """Sorted UIDs as [first, last] runs: a Sent folder's UIDs are mostly consecutive."""
    runs: list[list[int]] = []
    for uid in sorted(uids):
        if runs and uid == runs[-1][1] + 1:
            runs[-1][1] = uid
        else:
            runs.append([uid, uid])
    return runs


def _expand(runs: list[list[int]]) -> frozenset[int]:
    """The UIDs of [first, last] runs (the inverse of _ranges)."""
    return frozenset(uid for first, last in runs for uid in range(int(first), int(last) + 1))


def _records(handle: BinaryIO, end: int) -> Iterator[CachedMessage]:
    """Decompress and split the records between the magic and ``end``, a chunk at a time."""
    decompressor = zlib.decompressobj()
    buffer = b""
    remaining = end - len(MAGIC)
    while True:
        chunk = handle.read(min(_CHUNK, remaining)) if remaining > 0 else b""
        remaining -= len(chunk)
        if chunk:
            buffer += decompressor.decompress(chunk)
        elif not decompressor.eof:
            raise CacheError("the compressed records end early")
        position = 0
        while len(buffer) - position >= _RECORD.size:
            uid, seconds, header_length, facts_length, parsed_length = _RECORD.unpack_from(buffer, position)
            if max(header_length, facts_length, parsed_length) > MAX_HEADER:
                raise CacheError("a record is impossibly large")
            start = position + _RECORD.size
            middle, later = start + header_length, start + header_length + facts_length
            stop = later + parsed_length
            if len(buffer) < stop:
                break
            internaldate = None if seconds == NO_DATE else datetime.fromtimestamp(seconds, UTC)
            yield CachedMessage(
                uid, buffer[start:middle], internaldate, buffer[middle:later], buffer[later:stop]
            )
            position = stop
        buffer = buffer[position:]
        if not chunk:
            if buffer:
                raise CacheError("it ends in the middle of a record")
            return


def _pack(message: CachedMessage) -> bytes:
    head = _RECORD.pack(
        message.uid,
        _seconds(message.internaldate),
        len(message.header),
        len(message.facts),
        len(message.parsed),
    )
    return head + message.header + message.facts + message.parsed


def _seconds(moment: datetime | None) -> int:
    return NO_DATE if moment is None else int(moment.timestamp())
