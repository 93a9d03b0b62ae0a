"""The incremental scan of one IMAP folder: the SEARCH's answer, the cache reconciled, header FETCH.

EXAMINE and the window's SEARCH (narrowed to the calendar's people where that is
cheap) are imap_search.py's; the SEARCH is skipped when the folder is unchanged since
the cached one. Then the cached messages the SEARCH still finds are replayed — only
those the cache's index files under the calendar's people, or, when nothing changed
and the last scan left a replay, only those it let through — and the others fetched:
``BODY.PEEK[HEADER.FIELDS (...)]`` in batches (INTERNALDATE only for messages whose
Date cannot be used), resuming after a dropped connection. Every header block goes
through the sources' one :class:`~thankyou_scan.sources.reading.Reader`; what it learns
is kept in the cache, which is rewritten only when something changed (records that did
not change are copied as stored).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

from ..message import HeaderFacts, SentMessage, decode_message, encode_message
from .base import narrowing_targets, replay_key
from .cache import (
    MAX_HEADER,
    CachedMessage,
    CacheError,
    CacheFile,
    CacheKey,
    HeaderCache,
    LazyWriter,
    SearchRecord,
    read_stored,
    storable_date,
)
from .imap_search import FolderSearch, FolderState
from .reading import Reader
from .replay import Replay, load_replay, save_replay

__all__ = ["FolderState", "FolderSync"]

log = logging.getLogger("thankyou_scan")

UTC = timezone.utc
HEADER_FIELDS = "DATE FROM TO CC BCC SUBJECT MESSAGE-ID IN-REPLY-TO REFERENCES"
FETCH_ITEMS = [f"BODY.PEEK[HEADER.FIELDS ({HEADER_FIELDS})]".encode()]
# INTERNALDATE only for the messages whose Date cannot be used: parsing it costs imapclient
# as much again as the header fields (~40 µs a message), and a usable Date makes it moot.
DATE_ITEMS = [b"INTERNALDATE"]
NO_HEADER = "the server sent no headers for it"


class FolderSync(FolderSearch):
    """The folder scan of ImapSource, on the connection it inherits; ImapSource sets the attributes below."""

    cache: HeaderCache | None
    batch_size: int
    progress: Callable[[int, int], None] | None
    folder: str | None
    messages_scanned: int
    messages_fetched: int
    _reader: Reader
    _passed: set[int] | None = None
    """The UIDs the Reader let through in this folder (parsed or skipped); None: not tracked."""
    _now: datetime | None = None
    _future: datetime | None = None
    """The earliest date after the pre-check's ``now`` among the records read."""

    def _scan_folder(self, name: str, since: datetime | None) -> Iterator[SentMessage]:
        state = self._with_reconnect("EXAMINE", lambda: self._examine(name))
        key = CacheKey(self.host, self.port, self.user, name)
        cached = self.cache.load(key, state.uidvalidity) if self.cache is not None else None
        try:
            yield from self._reconcile(name, key, state, cached, since)
        finally:
            if cached is not None:
                cached.close()

    def _reconcile(
        self,
        name: str,
        key: CacheKey,
        state: FolderState,
        cached: CacheFile | None,
        since: datetime | None,
    ) -> Iterator[SentMessage]:
        """The cached messages the SEARCH still finds, then the others fetched; the cache rewritten if stale."""
        uids, search = self._window(name, state, cached, since)
        # Every message in the window counts as scanned; only those the narrowed SEARCH
        # found (all, without narrowing) are fetched: the others are to nobody in the calendar.
        self.messages_scanned += len(uids)
        wanted = uids if search.fetch is None else sorted(search.fetch)
        known = cached.uids if cached is not None else frozenset()
        missing = [uid for uid in wanted if uid not in known]
        log.info(
            "%s: %d messages since %s in %r, %d of them to the calendar's people%s, %d to fetch",
            self.host,
            len(uids),
            since.date() if since else "ever",
            name,
            len(wanted),
            "" if search.fetch is not None else " (not narrowed)",
            len(missing),
        )
        writer = (
            LazyWriter(
                self.cache,
                key,
                state.uidvalidity,
                search,
                dirty=bool(missing) or cached is None or cached.search != search,
            )
            if self.cache is not None
            else None
        )
        replayed: set[int] = set()
        rules = replay_key(self._reader.relevant) if self.cache is not None else None
        self._passed, self._now, self._future = (
            (set(), rules[1], None) if rules is not None else (None, None, None)
        )
        replay: Replay | None = None
        try:
            if cached is not None:
                replay = yield from self._replay_cache(
                    name, cached, set(uids), since, rules, writer, replayed
                )
            fetch = [uid for uid in wanted if uid not in replayed]
            for uid, header, internal, facts in self._fetch(name, state.uidvalidity, fetch):
                record = self._record(uid, header, internal)
                # A record born skipped (too large to keep) was counted by _record already.
                message, record = (None, record) if record.skipped is not None else self._use(record, facts)
                if writer is not None:
                    writer.add(record, changed=True)
                if message is not None:
                    yield message
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        if writer is not None:
            writer.commit()
            if rules is not None and replay is None:
                self._save_replay(key, rules[0], cached, writer)

    def _window(
        self, name: str, state: FolderState, cached: CacheFile | None, since: datetime | None
    ) -> tuple[list[int], SearchRecord]:
        """The window's UIDs and the SEARCH record to keep: the cached answer while it stands, else SEARCHed."""
        window = since.astimezone(UTC).date().isoformat() if since is not None else "all"
        narrowing = self._narrowing()
        # A narrowed answer stands only for the same people (their digest is in its window);
        # one that was not narrowed stands for anybody's.
        windows = {window, f"{window} to {narrowing.key}"} if narrowing is not None else {window}
        previous = cached.search if cached is not None else None
        if (
            previous is not None
            and previous.window in windows
            and replace(previous, uidnext=state.uidnext, exists=state.exists).unchanged_since(previous)
        ):
            # Nothing added (same UIDNEXT) and nothing expunged (same EXISTS) since the last
            # scan, which searched the same window: its answer stands, no SEARCH needed.
            return sorted(previous.found), previous
        uids = self._search(name, state.uidvalidity, since)
        narrowed = (
            self._narrowed(since.astimezone(UTC).date() if since else None, narrowing, uids)
            if narrowing is not None
            else None
        )
        if narrowing is not None and narrowed is not None:
            window = f"{window} to {narrowing.key}"
        return uids, SearchRecord(window, state.uidnext, state.exists, frozenset(uids), narrowed)

    def _replay_cache(
        self,
        name: str,
        cached: CacheFile,
        wanted: set[int],
        since: datetime | None,
        rules: tuple[str, datetime] | None,
        writer: LazyWriter | None,
        replayed: set[int],
    ) -> Generator[SentMessage, None, Replay | None]:
        """The cached messages that can matter, noted in ``replayed``; returns the replay used, if any.

        Only the records of the calendar's people can matter (the pre-check turns every
        other one away), so only they are read — or, when nothing is new or gone and the
        last scan of this file was under the same rules, only those it let through
        (sources/replay.py). Without the calendar's people (the pre-check cannot say),
        every record is read. A cache that fails midway costs fetches, not the report.
        """
        keys = _index_keys(self._reader.relevant)
        replay: Replay | None = None
        try:
            if keys is not None and writer is not None:
                if rules is not None and self.cache is not None and not writer.dirty:
                    replay = load_replay(self.cache.directory, cached.path.name)
                    if replay is not None and not (
                        replay.stands_for(cached.digest, *rules)
                        and max(replay.numbers, default=-1) < len(cached.offsets)
                    ):
                        replay = None
                if replay is not None:
                    log.info(
                        "%s: nothing new in %r: reading the %d messages the last scan let through",
                        self.host,
                        name,
                        len(replay.numbers),
                    )
                records = (
                    cached.messages_at(replay.numbers) if replay is not None else cached.messages_for(keys)
                )
                yield from self._replay_indexed(cached, wanted, since, records, writer, replayed)
            else:
                yield from self._replay(cached, wanted, since, writer, replayed)
        except CacheError as exc:
            log.warning(
                "the cache %s could not be read to the end (%s); fetching the rest again", cached.path, exc
            )
            if writer is not None:
                writer.changed()
            if keys is not None:
                self._passed = None
        return replay

    def _save_replay(self, key: CacheKey, rules: str, cached: CacheFile | None, writer: LazyWriter) -> None:
        """Note, beside the cache file now in place, which of its records this scan let through."""
        passed, now = self._passed, self._now
        if self.cache is None or passed is None or now is None:
            return
        if writer.dirty:
            if writer.written is None or not writer.written.digest:
                return
            digest, numbers = writer.written.digest, writer.written.numbers()
        elif cached is not None:
            digest, numbers = cached.digest, cached.numbers
        else:
            return
        if not digest or not passed <= numbers.keys():
            return
        chosen = tuple(sorted(numbers[uid] for uid in passed))
        save_replay(
            self.cache.directory, self.cache.path(key).name, Replay(digest, rules, now, self._future, chosen)
        )

    def _replay(
        self,
        cached: CacheFile,
        wanted: set[int],
        since: datetime | None,
        writer: LazyWriter | None,
        replayed: set[int],
    ) -> Iterator[SentMessage]:
        """The cached messages the SEARCH still finds, noted in ``replayed``; others kept if outside the window."""
        horizon = since - timedelta(days=2) if since is not None else None
        for record in cached.messages():
            if record.uid in wanted and record.uid not in replayed:
                replayed.add(record.uid)
                message, updated = self._use_cached(record)
                if message is not None:
                    yield message
            elif horizon is None or not _kept(_when(record), horizon):
                if writer is not None:
                    writer.changed()  # in the window but gone from the server: expunged
                continue
            else:
                updated = record
            if writer is not None:
                writer.add(updated, changed=updated is not record)

    def _replay_indexed(
        self,
        cached: CacheFile,
        wanted: set[int],
        since: datetime | None,
        records: Iterator[CachedMessage],
        writer: LazyWriter,
        replayed: set[int],
    ) -> Iterator[SentMessage]:
        """The cached ``records`` (those of the calendar's people); every other wanted UID counts as replayed unread.

        When one of them learns something, or the file is written again anyway (new or
        expunged messages), every record still wanted is copied into it: those that learnt
        nothing as they are stored, without reading them again. Each record read or copied
        is noted in ``replayed`` at once: if the file fails midway, those are not fetched again.
        """
        learnt: dict[int, CachedMessage] = {}
        for record in records:
            if record.uid not in wanted or record.uid in replayed:
                continue
            replayed.add(record.uid)
            message, updated = self._use_cached(record)
            if updated is not record:
                learnt[record.uid] = updated
            if message is not None:
                yield message
        if learnt or writer.dirty:
            writer.changed()
            horizon = since - timedelta(days=2) if since is not None else None
            for uid, internaldate, stored, keys in cached.raw_records():
                if uid in learnt:
                    writer.add(learnt[uid])
                    replayed.add(uid)
                elif uid in wanted:
                    writer.add_raw(uid, stored, keys)
                    replayed.add(uid)
                elif horizon is not None and _kept(internaldate or _when(read_stored(stored)), horizon):
                    writer.add_raw(uid, stored, keys)
        replayed.update(wanted & cached.uids)

    def _use_cached(self, record: CachedMessage) -> tuple[SentMessage | None, CachedMessage]:
        """:meth:`_use` for a cached record; what it learnt that cannot be read back (a date the decoder refuses) is learnt again."""
        try:
            return self._use(record)
        except (ValueError, TypeError, OverflowError):
            return self._use(replace(record, facts=b"", parsed=b"", skipped=None))

    def _record(self, uid: int, header: bytes | None, internal: datetime | None) -> CachedMessage:
        """A fetched message as a record the cache can write and read back.

        An INTERNALDATE out of range is dropped (the Date header decides); a header block
        over MAX_HEADER is not kept: the message is skipped and counted, now and on every rescan.
        """
        if internal is not None and not storable_date(internal):
            log.warning(
                "ignoring the INTERNALDATE of message UID %d in %s on %s: %s is out of range",
                uid,
                self.folder,
                self.host,
                internal,
            )
            internal = None
        if header is not None and len(header) > MAX_HEADER:
            reason = f"its header block is over {MAX_HEADER // 2**20} MB ({len(header)} bytes)"
            self._reader.skip(str(uid), reason)
            facts = HeaderFacts.from_headers(b"", fallback_date=internal).encode()
            return CachedMessage(uid, b"", internal, facts, skipped=reason)
        return CachedMessage(uid, header or b"", internal)

    def _fetch(
        self, name: str, uidvalidity: int, uids: list[int]
    ) -> Iterator[tuple[int, bytes | None, datetime | None, HeaderFacts | None]]:
        """(UID, header block, INTERNALDATE, facts) for each UID, fetched in batches, resuming after a drop.

        The facts are read here, to know which messages need their INTERNALDATE (no usable
        Date: it is then their time): it is fetched for those alone, the others get None.
        """
        done = 0
        for start in range(0, len(uids), self.batch_size):
            batch = uids[start : start + self.batch_size]
            response = self._fetch_items(name, uidvalidity, batch, FETCH_ITEMS)
            headers: dict[int, bytes | None] = {}
            for uid in batch:
                data = response.get(uid)
                if data is None:
                    continue  # expunged by another client since the SEARCH
                header = next((v for k, v in data.items() if k.upper().startswith(b"BODY[HEADER")), None)
                headers[uid] = header if isinstance(header, bytes) else None
            known = {
                uid: HeaderFacts.from_headers(header)
                for uid, header in headers.items()
                if header is not None and len(header) <= MAX_HEADER
            }
            undated = [uid for uid in headers if uid not in known or known[uid].date is None]
            dates = self._fetch_items(name, uidvalidity, undated, DATE_ITEMS) if undated else {}
            for uid, header in headers.items():
                internal = dates.get(uid, {}).get(b"INTERNALDATE")
                aware = (
                    internal if isinstance(internal, datetime) and internal.utcoffset() is not None else None
                )
                facts = known.get(uid)
                yield uid, header, aware, facts if facts is not None and facts.date is not None else None
            self.messages_fetched += len(batch)
            done += len(batch)
            if self.progress is not None:
                self.progress(done, len(uids))

    def _fetch_items(
        self, name: str, uidvalidity: int, uids: list[int], items: list[bytes]
    ) -> dict[int, dict[bytes, Any]]:
        """One FETCH of ``items`` for ``uids``, again after a dropped connection."""

        def fetch() -> dict[int, dict[bytes, Any]]:
            return self._call("FETCH", lambda client: client.fetch(uids, items))

        return self._with_reconnect(
            "FETCH", fetch, after_reconnect=lambda: self._reexamine(name, uidvalidity)
        )

    def _use(
        self, record: CachedMessage, known: HeaderFacts | None = None
    ) -> tuple[SentMessage | None, CachedMessage]:
        """The message if it can matter (parsed now, or taken from the cache), and the record to keep.

        ``known``: the record's facts, read already (a record without them keeps them).
        """
        uid = str(record.uid)
        learnt: dict[str, Any] = {}
        if known is not None:
            facts = known
            if not record.facts:
                learnt["facts"] = facts.encode()
        elif record.facts:
            facts = HeaderFacts.decode(record.facts)
        else:
            facts = HeaderFacts.from_headers(record.header, fallback_date=record.internaldate)
            learnt["facts"] = facts.encode()
        parsed = record.parsed
        reading = self._reader.read(
            uid,
            record.header,
            record.internaldate,
            facts=facts,
            parsed=(lambda: decode_message(parsed, uid)) if parsed else None,
            skipped=record.skipped,
            unreadable=None if record.header else NO_HEADER,
        )
        if self._passed is not None:
            if reading.message is not None or reading.skipped is not None:
                self._passed.add(record.uid)
            date = facts.date
            if (
                self._now is not None
                and date is not None
                and date > self._now
                and (self._future is None or date < self._future)
            ):
                self._future = date
        if reading.message is not None and not parsed:
            learnt["parsed"] = encode_message(reading.message)
        if reading.skipped is not None and record.skipped is None:
            learnt["skipped"] = reading.skipped
        return reading.message, replace(record, **learnt) if learnt else record


def _kept(when: datetime | None, horizon: datetime | None) -> bool:
    """Whether a cached message the SEARCH did not find is kept: dated before the window (else it was expunged)."""
    return horizon is not None and when is not None and when < horizon


def _when(record: CachedMessage) -> datetime | None:
    """When a cached message arrived, for the window: its INTERNALDATE, else (not fetched) its Date."""
    if record.internaldate is not None:
        return record.internaldate
    try:
        return HeaderFacts.decode(record.facts).date if record.facts else None
    except (ValueError, TypeError, OverflowError):
        return None


def _index_keys(relevant: object) -> frozenset[str] | None:
    """The cache index's keys for what the pre-check can let through; None when it cannot say (all is read)."""
    targets = narrowing_targets(relevant)
    if targets is None:
        return None
    addresses, domains = targets
    return addresses | frozenset(f"@{domain}" for domain in domains)
