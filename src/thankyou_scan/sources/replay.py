"""What the last scan of a cache file let through, so a rescan that finds nothing new reads only that.

Beside each cache file (``imap-….cache``) a small ``imap-….replay``: the SHA-256 of
the cache file it describes, the pre-check's digest (``Relevance.replay_key()``: the
calendar's addresses, domains and event starts), the ``now`` of that scan, the earliest
date after that ``now`` among the records it read, and the numbers of the records it
let through (parsed, or skipped and counted). A later scan of the same cache file
under a pre-check with the same digest, whose ``now`` is not earlier and not at or
after that earliest later date, turns away every other record the same way: only
the dates between the two ``now`` values could change a decision, and there are none. It
then reads those records (and the index's always-read ones) instead of every record
of the calendar's people — each still through the one Reader, so the report is the
one the full path gives.

Layout: the SHA-256 of the JSON that follows, then the JSON. Anything that does not
check — another cache file, another digest, damaged, another version, a file others
may write — is ignored, and the scan reads as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from ..paths import create_temporary, open_private_file, open_private_folder

__all__ = ["Replay", "load_replay", "save_replay"]

log = logging.getLogger("thankyou_scan")

VERSION = 1
MAX_REPLAY = 1 << 26
_DIGEST = 32


@dataclass(frozen=True, slots=True)
class Replay:
    """What one scan of one cache file let through, under one pre-check, as of ``now``."""

    cache: str
    """The hex SHA-256 of the cache file (CacheFile.digest)."""
    rules: str
    """The pre-check's digest (``replay_key()``)."""
    now: datetime
    future: datetime | None
    """The earliest date after ``now`` among the records read; None when there was none."""
    numbers: tuple[int, ...]
    """The record numbers let through."""

    def stands_for(self, cache: str, rules: str, now: datetime) -> bool:
        """Whether a scan of cache file ``cache`` under ``rules`` as of ``now`` lets through the same records."""
        return (
            self.cache == cache
            and self.rules == rules
            and self.now <= now
            and (self.future is None or now < self.future)
        )

    def as_json(self) -> bytes:
        """The replay as the JSON the file holds."""
        return json.dumps(
            {
                "version": VERSION,
                "package": _package_version(),
                "cache": self.cache,
                "rules": self.rules,
                "now": self.now.isoformat(),
                "future": self.future.isoformat() if self.future is not None else None,
                "numbers": list(self.numbers),
            }
        ).encode()

    @classmethod
    def from_json(cls, data: bytes) -> Replay:
        """The replay in ``data``; ValueError when anything does not check."""
        meta = json.loads(data)
        if not isinstance(meta, dict) or meta.get("version") != VERSION:
            raise ValueError("another version")
        if meta.get("package") != _package_version():
            raise ValueError("written by another version of thankyou-scan")
        cache, rules, now, future, numbers = (
            meta.get(k) for k in ("cache", "rules", "now", "future", "numbers")
        )
        if not (
            isinstance(cache, str)
            and isinstance(rules, str)
            and isinstance(now, str)
            and (future is None or isinstance(future, str))
            and isinstance(numbers, list)
            and set(map(type, numbers)) <= {int}
            and all(number >= 0 for number in numbers)
        ):
            raise ValueError("damaged")
        moment = datetime.fromisoformat(now)
        later = datetime.fromisoformat(future) if future is not None else None
        if moment.utcoffset() is None or (later is not None and later.utcoffset() is None):
            raise ValueError("a time without its offset")
        return cls(cache, rules, moment, later, tuple(numbers))


def _name(cache_name: str) -> str:
    return cache_name.removesuffix(".cache") + ".replay"


def load_replay(directory: Path, cache_name: str) -> Replay | None:
    """The replay beside the cache file ``cache_name`` in ``directory``; None when missing or not usable."""
    name = _name(cache_name)
    path = directory / name
    try:
        folder = open_private_folder(directory, create=False)
    except OSError:
        return None
    try:
        with os.fdopen(open_private_file(folder, name, path), "rb") as handle:
            data = handle.read(MAX_REPLAY + 1)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.info("not using %s (%s)", path, exc)
        return None
    finally:
        os.close(folder)
    try:
        if len(data) > MAX_REPLAY or hashlib.sha256(data[_DIGEST:]).digest() != data[:_DIGEST]:
            raise ValueError("the checksum differs")
        return Replay.from_json(data[_DIGEST:])
    except (ValueError, TypeError, RecursionError) as exc:
        log.info("not using %s (%s)", path, exc)
        return None


def save_replay(directory: Path, cache_name: str, replay: Replay) -> None:
    """Write the replay beside its cache file (0600, under a temporary name, then renamed); failures are logged."""
    name = _name(cache_name)
    data = replay.as_json()
    try:
        folder = open_private_folder(directory, create=False)
    except OSError as exc:
        log.info("cannot write %s (%s)", directory / name, exc)
        return
    temporary = ""
    try:
        descriptor, temporary = create_temporary(folder, name)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(hashlib.sha256(data).digest() + data)
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
        temporary = ""
    except OSError as exc:
        log.info("cannot write %s (%s)", directory / name, exc)
    finally:
        if temporary:
            with contextlib.suppress(OSError):
                os.unlink(temporary, dir_fd=folder)
        os.close(folder)


def _package_version() -> str:
    """thankyou-scan's version: a replay written by another one is not trusted.

    The pre-check's digest describes the calendar, not the code that reads it: after an
    upgrade that changes what the pre-check lets through, an old replay could leave out a
    record the new rules need. One slower rescan per upgrade is the price.
    """
    from .. import __version__  # the package is loaded by the time a replay is read or written

    return __version__
