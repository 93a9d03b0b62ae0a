"""The incremental scan of one IMAP folder: EXAMINE, SEARCH, the cache reconciled, header FETCH.

EXAMINE (never SELECT), ``UID SEARCH OR SINCE d SENTSINCE d`` (skipped when the
folder is unchanged since the cached SEARCH), then — when the pre-check can say whom
mail must be to — the same window narrowed on the server to the calendar's people
(imap_narrow.py: Gmail's X-GM-RAW where offered; HEADER TO/CC/BCC elsewhere only when
asked, ``narrow=True``: Dovecot answers it by reading every message, slower than
fetching their header fields; any failure falls back to the whole window). Then the
cached messages the SEARCH still finds are replayed (when nothing changed, only those
the cache's index files under the calendar's people) and the others fetched,
``BODY.PEEK[HEADER.FIELDS (...)]`` and INTERNALDATE in batches, resuming after a dropped connection. Every header block
goes through the sources' one :class:`~thankyou_scan.sources.reading.Reader`; what it
learns is kept in the cache, which is rewritten only when something changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from imapclient import IMAPClient

from ..errors import ConnectError, FolderNotFoundError, ServerError, ThankyouScanError
from ..message import HeaderFacts, SentMessage, decode_message, encode_message
from .base import narrowing_targets, replay_key
from .cache import (
    MAX_HEADER,
    CachedMessage,
    CacheError,
    CacheFile,
    CacheKey,
    CacheWriter,
    HeaderCache,
    SearchRecord,
    read_stored,
    storable_date,
)
from .imap_connection import ImapConnection
from .imap_narrow import gmail_criteria, imap_criteria, narrowing_key, search_day
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
UID_LIMIT = 2**32  # UIDs, UIDVALIDITY and UIDNEXT are nz-number: 1 .. 2**32 - 1 (RFC 3501)
NO_HEADER = "the server sent no headers for it"


@dataclass(frozen=True, slots=True)
class FolderState:
    """What EXAMINE says of a folder (UIDNEXT and EXISTS when the server sent them)."""

    uidvalidity: int
    uidnext: int | None
    exists: int | None


def _number(value: object, what: str) -> int:
    """A number the server sent (imapclient has parsed it), checked: 0 .. 2**32 - 1."""
    if isinstance(value, int) and 0 <= value < UID_LIMIT:
        return value
    raise ValueError(f"{what} {str(value)[:40]!r} is not a number from 0 to {UID_LIMIT - 1}")


def _nz_number(value: object, what: str) -> int:
    """A UID, UIDVALIDITY or UIDNEXT the server sent, checked: 1 .. 2**32 - 1."""
    if isinstance(value, int) and 0 < value < UID_LIMIT:
        return value
    raise ValueError(f"{what} {str(value)[:40]!r} is not a number from 1 to {UID_LIMIT - 1}")


@dataclass(frozen=True, slots=True)
class _Narrowing:
    """The narrowed SEARCH's criteria for one scan: plain IMAP, and Gmail's X-GM-RAW."""

    key: str
    imap: list[str]
    gmail: list[str]


class FolderSync(ImapConnection):
    """The folder scan of ImapSource, on the connection it inherits; ImapSource sets the attributes below."""

    narrow: bool | None = False
    """True: narrow on any server; None: only where the server's index answers (Gmail); False: never."""
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

    def _examine(self, name: str) -> FolderState:
        """EXAMINE the folder (read-only) and say where it stands."""

        def examine(client: IMAPClient) -> FolderState:
            selected: dict[bytes, Any] = client.select_folder(name, readonly=True)
            uidvalidity = selected.get(b"UIDVALIDITY")
            return FolderState(
                0 if uidvalidity is None else _nz_number(uidvalidity, "UIDVALIDITY"),
                None if selected.get(b"UIDNEXT") is None else _nz_number(selected[b"UIDNEXT"], "UIDNEXT"),
                None if selected.get(b"EXISTS") is None else _number(selected[b"EXISTS"], "EXISTS"),
            )

        try:
            return self._call(f"EXAMINE {name!r}", examine)
        except ServerError as exc:
            raise FolderNotFoundError(
                f"cannot open the folder {name!r} on {self.host}: {exc}", host=self.host
            ) from exc

    def _reexamine(self, name: str, uidvalidity: int) -> None:
        """After a reconnect: select the folder again, and make sure its UIDs still mean the same."""
        if self._examine(name).uidvalidity != uidvalidity:
            raise ConnectError(
                f"the folder {name!r} on {self.host} was rebuilt during the scan (UIDVALIDITY changed) "
                "— run the scan again",
                host=self.host,
            )

    def _search(self, name: str, uidvalidity: int, since: datetime | None) -> list[int]:
        # SINCE compares INTERNALDATE (when the server got the message), SENTSINCE the Date
        # header: a message imported later, or with an INTERNALDATE of 1970, is found by either.
        day = since.astimezone(UTC).date() if since is not None else None
        criteria: list[Any] = ["OR", "SINCE", day, "SENTSINCE", day] if day is not None else ["ALL"]
        uids = self._with_reconnect(
            "SEARCH",
            lambda: self._call(
                "SEARCH", lambda client: [_nz_number(uid, "UID") for uid in client.search(criteria)]
            ),
            after_reconnect=lambda: self._reexamine(name, uidvalidity),
        )
        return sorted(uids)

    def _narrowing(self) -> _Narrowing | None:
        """The criteria that ask the server only for mail to the calendar's people; None: do not narrow."""
        targets = narrowing_targets(self._reader.relevant) if self.narrow is not False else None
        if targets is None:
            return None
        addresses, domains = targets
        imap, gmail = imap_criteria(addresses, domains), gmail_criteria(addresses, domains)
        if imap is None or gmail is None:
            log.info("%s: not narrowing the SEARCH: an address in the calendar is not plain ASCII", self.host)
            return None
        return _Narrowing(narrowing_key(addresses, domains), imap, gmail)

    def _narrowed(self, day: date | None, narrowing: _Narrowing, found: list[int]) -> frozenset[int] | None:
        """The UIDs in ``found`` the narrowed SEARCH finds; None when the server refuses or fails it."""
        window = f"OR SINCE {search_day(day)} SENTSINCE {search_day(day)} " if day is not None else ""
        try:
            capabilities = self._call("CAPABILITY", lambda client: client.capabilities())
            if b"X-GM-EXT-1" in capabilities:
                try:
                    return self._search_each(window, narrowing.gmail, found)
                except ThankyouScanError as exc:
                    log.info(
                        "%s: Gmail's X-GM-RAW SEARCH failed (%s); narrowing with SEARCH TO/CC/BCC",
                        self.host,
                        exc,
                    )
            if self.narrow is None:
                # Measured on Dovecot (docs/performance.md): a HEADER search over 20,000
                # messages costs more than fetching their header fields.
                log.info(
                    "%s: narrowing only where Gmail's X-GM-RAW is offered; reading the window", self.host
                )
                return None
            # RFC 3501's HEADER matches any substring of the field: a server for which no
            # message's To holds an "@" does not, and is not trusted to narrow.
            if found and len(self._search_each(window, ['NOT HEADER TO "@"'], found)) == len(found):
                log.info("%s: its SEARCH does not match parts of addresses; not narrowing", self.host)
                return None
            return self._search_each(window, narrowing.imap, found)
        except ThankyouScanError as exc:
            log.info(
                "%s: the narrowed SEARCH failed (%s); reading every message in the window instead",
                self.host,
                exc,
            )
            return None

    def _search_each(self, window: str, criteria: list[str], found: list[int]) -> frozenset[int]:
        """The union of one SEARCH per criteria string (no retry: a failure means no narrowing)."""
        uids: set[int] = set()
        for criterion in criteria:

            def search(client: IMAPClient, text: str = window + criterion) -> list[int]:
                return [_nz_number(uid, "UID") for uid in client.search(text)]

            uids.update(self._call("SEARCH", search))
        return frozenset(uids) & frozenset(found)

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
        uidvalidity = state.uidvalidity
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
            uids = sorted(previous.found)
            search = previous
        else:
            uids = self._search(name, uidvalidity, since)
            narrowed = (
                self._narrowed(since.astimezone(UTC).date() if since else None, narrowing, uids)
                if narrowing is not None
                else None
            )
            if narrowing is not None and narrowed is not None:
                window = f"{window} to {narrowing.key}"
            search = SearchRecord(window, state.uidnext, state.exists, frozenset(uids), narrowed)
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
            _LazyWriter(
                self.cache,
                key,
                uidvalidity,
                search,
                dirty=bool(missing) or cached is None or cached.search != search,
            )
            if self.cache is not None
            else None
        )
        replayed: set[int] = set()
        keys = _index_keys(self._reader.relevant)
        rules = replay_key(self._reader.relevant) if self.cache is not None else None
        self._passed, self._now, self._future = (
            (set(), rules[1], None) if rules is not None else (None, None, None)
        )
        replay: Replay | None = None
        try:
            if cached is not None and keys is not None and writer is not None:
                # Only the records of the calendar's people can matter (the pre-check turns
                # every other one away), so only they are read — or, when nothing is new or
                # gone and the last scan of this file was under the same rules, only those
                # it let through (sources/replay.py). The others are copied as they are.
                if rules is not None and self.cache is not None and not writer.dirty:
                    replay = load_replay(self.cache.directory, cached.path.name)
                    if replay is not None and not (
                        replay.stands_for(cached.digest, *rules)
                        and max(replay.numbers, default=-1) < len(cached.offsets)
                    ):
                        replay = None
                records = (
                    cached.messages_at(replay.numbers) if replay is not None else cached.messages_for(keys)
                )
                if replay is not None:
                    log.info(
                        "%s: nothing new in %r: reading the %d messages the last scan let through",
                        self.host,
                        name,
                        len(replay.numbers),
                    )
                try:
                    yield from self._replay_indexed(cached, set(uids), since, records, writer, replayed)
                except CacheError as exc:
                    log.warning(
                        "the cache %s could not be read to the end (%s); fetching the rest again",
                        cached.path,
                        exc,
                    )
                    writer.changed()
                    self._passed = None
            elif cached is not None:
                try:
                    yield from self._replay(cached, set(uids), since, writer, replayed)
                except CacheError as exc:
                    log.warning(
                        "the cache %s could not be read to the end (%s); fetching the rest again",
                        cached.path,
                        exc,
                    )
                    if writer is not None:
                        writer.changed()
            fetch = [uid for uid in wanted if uid not in replayed]
            for uid, header, internal, facts in self._fetch(name, uidvalidity, fetch):
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

    def _save_replay(self, key: CacheKey, rules: str, cached: CacheFile | None, writer: _LazyWriter) -> None:
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
        writer: _LazyWriter | None,
        replayed: set[int],
    ) -> Iterator[SentMessage]:
        """The cached messages the SEARCH still finds, noted in ``replayed``; others kept if outside the window."""
        horizon = since - timedelta(days=2) if since is not None else None
        for record in cached.messages():
            if record.uid in wanted and record.uid not in replayed:
                replayed.add(record.uid)
                try:
                    message, updated = self._use(record)
                except (ValueError, TypeError, OverflowError):
                    # What was learnt cannot be read back (a date the decoder refuses): learn it again.
                    message, updated = self._use(replace(record, facts=b"", parsed=b"", skipped=None))
                if message is not None:
                    yield message
            elif horizon is None or (when := _when(record)) is None or when >= horizon:
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
        writer: _LazyWriter,
        replayed: set[int],
    ) -> Iterator[SentMessage]:
        """The cached ``records`` (those of the calendar's people); every other wanted UID counts as replayed unread.

        When one of them learns something, or the file is written again anyway (new or
        expunged messages), every record still wanted is copied into it: those that learnt
        nothing as they are stored, without reading them again. Each record read or copied
        is noted in ``replayed`` at once: if the file fails midway, those are not fetched again.
        """
        learnt: dict[int, CachedMessage] = {}
        read: set[int] = set()
        for record in records:
            if record.uid not in wanted or record.uid in read:
                continue
            read.add(record.uid)
            replayed.add(record.uid)
            try:
                message, updated = self._use(record)
            except (ValueError, TypeError, OverflowError):
                message, updated = self._use(replace(record, facts=b"", parsed=b"", skipped=None))
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
                elif horizon is not None:
                    when = internaldate or _when(read_stored(stored))
                    if when is not None and when < horizon:
                        writer.add_raw(uid, stored, keys)  # outside the window: kept
        replayed.update(wanted & cached.uids)

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


class _LazyWriter:
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
        if self._writer is not None:
            self._writer.commit()

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()
