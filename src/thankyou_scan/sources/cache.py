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

The file's layout, its records and the checks on them are cache_format.py's.

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
import os
import struct
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from ..errors import CacheError
from ..paths import create_temporary, open_private_file, open_private_folder
from .cache_format import (
    DIGEST_SIZE,
    DISCARD,
    LENGTH,
    MAGIC,
    MAX_DERIVED,
    MAX_HEADER,
    NO_DATE,
    RECORD,
    UTC,
    VERSION,
    CachedMessage,
    CacheKey,
    index_keys,
    index_numbers,
    pack_record,
    read_stored,
    read_trailer,
    reason,
    reason_bytes,
    record_at,
    storable_date,
    trailer_index,
    trailer_uids,
)
from .search_record import SearchRecord, uid_runs

__all__ = [
    "MAX_HEADER",
    "CacheError",
    "CacheFile",
    "CacheKey",
    "CacheWriter",
    "CachedMessage",
    "HeaderCache",
    "LazyWriter",
    "SearchRecord",
    "index_keys",
    "read_stored",
    "storable_date",
]

log = logging.getLogger("thankyou_scan")


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
            log.warning("not using the cache in %s (%s); fetching everything", self.directory, reason(exc))
            return None
        try:
            handle = os.fdopen(open_private_file(folder, path.name, path), "rb")
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("discarding the cache %s (%s); fetching everything again", path, reason(exc))
            return None
        finally:
            os.close(folder)
        try:
            meta, end, digest = read_trailer(handle)
            if meta.get("key") != key.as_list():
                raise CacheError("it belongs to another mailbox")
            if meta.get("uidvalidity") != uidvalidity:
                log.info("the folder %r was rebuilt (UIDVALIDITY changed): reading it all again", key.folder)
                handle.close()
                return None
            uids = trailer_uids(meta, end - DIGEST_SIZE - len(MAGIC))
            offsets, index = trailer_index(meta, len(uids), end - DIGEST_SIZE)
            search = SearchRecord.from_json(meta.get("search"))
        except DISCARD as exc:
            handle.close()
            log.warning("discarding the cache %s (%s); fetching everything again", path, reason(exc))
            return None
        return CacheFile(path, handle, end - DIGEST_SIZE, uids, search, offsets, index, digest.hex())

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
                reason(exc),
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
        chosen: set[int] = set(index_numbers(self.index, "", count))
        for key in keys:
            chosen.update(index_numbers(self.index, key, count))
        yield from self._read(sorted(chosen))

    def messages_at(self, numbers: Iterable[int]) -> Iterator[CachedMessage]:
        """The records with these numbers and those the index files under ``""``, in file order.

        CacheError when a number names no record.
        """
        count = len(self.offsets)
        chosen = set(numbers)
        if chosen and (min(chosen) < 0 or max(chosen) >= count):
            raise CacheError("a record number names no record")
        chosen.update(index_numbers(self.index, "", count))
        yield from self._read(sorted(chosen))

    def raw_records(self) -> Iterator[tuple[int, datetime | None, bytes, list[str]]]:
        """Every record as it is stored, in file order: (UID, INTERNALDATE, its bytes, its index keys).

        For copying records unchanged into a new file (:meth:`CacheWriter.add_raw`): only
        the fixed part of each is decompressed, and the keys come from this file's index.
        """
        count = len(self.offsets)
        keys: list[list[str]] = [[] for _ in range(count)]
        for key in self.index:
            for number in index_numbers(self.index, key, count):
                keys[number].append(key)
        try:
            for number, offset in enumerate(self.offsets):
                self._handle.seek(offset)
                prefix = self._handle.read(LENGTH.size)
                (length,) = LENGTH.unpack(prefix)
                if offset + LENGTH.size + length > self.end:
                    raise CacheError("a record runs past the end of the records")
                stored = self._handle.read(length)
                head = zlib.decompressobj().decompress(stored, RECORD.size)
                uid, seconds = RECORD.unpack_from(head)[:2]
                self.numbers[uid] = number
                moment = None if seconds == NO_DATE else datetime.fromtimestamp(seconds, UTC)
                yield uid, moment, prefix + stored, keys[number]
        except (OSError, zlib.error, ValueError, OverflowError, struct.error) as exc:
            raise CacheError(reason(exc)) from exc

    def _read(self, numbers: Iterable[int]) -> Iterator[CachedMessage]:
        try:
            for number in numbers:
                record = record_at(self._handle, self.offsets[number], self.end)
                self.numbers[record.uid] = number
                yield record
        except (OSError, zlib.error, ValueError, OverflowError, struct.error) as exc:
            raise CacheError(reason(exc)) from exc

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
        derived = max(len(message.facts), len(message.parsed), len(reason_bytes(message.skipped)))
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
        compressed = zlib.compress(pack_record(message), 1)
        try:
            self._write(LENGTH.pack(len(compressed)) + compressed)
        except OSError as exc:
            self._fail(exc)
        self._position += LENGTH.size + len(compressed)

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
            tail = trailer + LENGTH.pack(len(trailer))
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
            "cannot write the cache %s (%s); the next scan fetches everything", self.path, reason(exc)
        )
        self.abort()


class LazyWriter:
    """Rewrites the cache only when the scan learnt something (new, parsed or expunged messages).

    Records wait in memory until the first change; a rescan that changes nothing writes nothing.
    """

    def __init__(
        self, cache: HeaderCache, key: CacheKey, uidvalidity: int, search: SearchRecord, *, dirty: bool
    ) -> None:
        self.cache, self.key, self.uidvalidity, self.search = cache, key, uidvalidity, search
        self._pending: list[CachedMessage] = []
        self._writer: CacheWriter | None = None
        self._dirty = False
        if dirty:
            self.changed()

    def changed(self) -> None:
        """The file will be written again: start it, with every record added so far."""
        if self._dirty:
            return
        self._dirty = True
        self._writer = self.cache.writer(self.key, self.uidvalidity, self.search)
        if self._writer is not None:
            for record in self._pending:
                self._writer.add(record)
        self._pending = []

    @property
    def dirty(self) -> bool:
        """Whether the file will be written again."""
        return self._dirty

    def add(self, record: CachedMessage, *, changed: bool = False) -> None:
        """Add a record (``changed``: it is new or learnt something, so the file is written again)."""
        if changed:
            self.changed()
        if self._writer is not None:
            self._writer.add(record)
        elif not self._dirty:
            self._pending.append(record)

    def add_raw(self, uid: int, stored: bytes, keys: list[str]) -> None:
        """A record copied as stored; only once the file is being written (:meth:`changed`)."""
        if self._writer is not None:
            self._writer.add_raw(uid, stored, keys)

    @property
    def written(self) -> CacheWriter | None:
        """The writer of the new file (after commit: its digest, "" when it could not be put in place)."""
        return self._writer

    def commit(self) -> None:
        """Put the new file in place, if one is being written."""
        if self._writer is not None:
            self._writer.commit()

    def abort(self) -> None:
        """Drop the new file, if one is being written."""
        if self._writer is not None:
            self._writer.abort()
