"""The incremental IMAP cache: rescans equal cold scans, and every cache fault is survived."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import resource
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from dovecot import Dovecot
from faultproxy import CutOn, FaultProxy
from greenmail import Account, Mail, Server, demo_mail, seed
from helpers import plain_imap, raw_message
from thankyou_scan import ImapSource, load_calendar, parse_calendar, scan
from thankyou_scan.message import HeaderFacts
from thankyou_scan.report import Report
from thankyou_scan.sources.cache import (
    MAX_HEADER,
    CachedMessage,
    CacheError,
    CacheFile,
    CacheKey,
    HeaderCache,
    SearchRecord,
)

UTC = timezone.utc
KEY = CacheKey("imap.example.com", 993, "Me@Example.com", "Sent")
RECORDS = [
    CachedMessage(
        1,
        b"To: a@x.example\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n",
        datetime(2026, 11, 2, 10, tzinfo=UTC),
    ),
    CachedMessage(7, b"To: b@x.example\r\n", None),
    CachedMessage(9, b"", datetime(2026, 11, 3, 9, 30, tzinfo=UTC)),
]


def write(cache: HeaderCache, key: CacheKey = KEY, uidvalidity: int = 42) -> Path:
    writer = cache.writer(key, uidvalidity)
    assert writer is not None
    for record in RECORDS:
        writer.add(record)
    writer.commit()
    return cache.path(key)


def test_round_trip_and_private_modes(tmp_path: Path) -> None:
    cache = HeaderCache(tmp_path / "cache")
    path = write(cache)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    loaded = cache.load(KEY, 42)
    assert loaded is not None
    with loaded:
        assert loaded.uids == {1, 7, 9}
        assert list(loaded.messages()) == RECORDS
    assert not list(path.parent.glob(".*.tmp"))


def test_records_copied_as_stored_read_back_the_same_with_their_index(tmp_path: Path) -> None:
    cache = HeaderCache(tmp_path / "cache")
    facts = HeaderFacts.from_headers(b"To: Ada <ada@acme.example>\nDate: Tue, 3 Nov 2026 10:00:00 +0000\n")
    records = [
        CachedMessage(7, b"To: ada@acme.example\r\n", datetime(2026, 11, 3, tzinfo=UTC), facts.encode()),
        CachedMessage(9, b"To: bo@x.example\r\n", None),
        CachedMessage(12, b"", None, skipped="too large"),
    ]
    writer = cache.writer(KEY, 42)
    assert writer is not None
    for record in records:
        writer.add(record)
    writer.commit()
    with cache.load(KEY, 42) as first:  # type: ignore[union-attr]
        copy = cache.writer(KEY, 42)
        assert copy is not None
        for uid, internaldate, stored, keys in first.raw_records():
            assert internaldate == next(r.internaldate for r in records if r.uid == uid)
            copy.add_raw(uid, stored, keys)
        index = first.index
    copy.commit()
    with cache.load(KEY, 42) as second:  # type: ignore[union-attr]
        assert list(second.messages()) == records
        assert second.index == index and index["ada@acme.example"] == [0] and index[""] == [1, 2]
        assert [r.uid for r in second.messages_for(["ada@acme.example"])] == [7, 9, 12]


def test_a_large_cache_round_trips(tmp_path: Path) -> None:
    cache = HeaderCache(tmp_path)
    writer = cache.writer(KEY, 1)
    assert writer is not None
    records = [
        CachedMessage(uid, b"To: p%d@x.example\r\n" % uid * 3, datetime(2026, 1, 1, tzinfo=UTC))
        for uid in range(1, 20_001)
    ]
    for record in records:
        writer.add(record)
    writer.commit()
    loaded = cache.load(KEY, 1)
    assert loaded is not None
    with loaded:
        assert list(loaded.messages()) == records


def corrupt_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def other_version(path: Path) -> None:
    data = path.read_bytes()
    length = int.from_bytes(data[-4:], "big")
    trailer = json.loads(data[-4 - length : -4])
    trailer["version"] = 99
    encoded = json.dumps(trailer).encode()
    path.write_bytes(data[: -4 - length] + encoded + len(encoded).to_bytes(4, "big"))


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (corrupt_middle, ""),
        (lambda p: p.write_bytes(p.read_bytes()[:-30]), ""),
        (lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]), ""),
        (lambda p: p.write_bytes(b""), "not a thankyou-scan cache"),
        (lambda p: p.write_bytes(b"\x80\x04garbage pickle"), "not a thankyou-scan cache"),
        (other_version, "another version"),
        (lambda p: (p.unlink(), p.mkdir()), ""),
    ],
)
def test_damaged_caches_are_discarded_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: object, reason: str
) -> None:
    cache = HeaderCache(tmp_path)
    path = write(cache)
    damage(path)  # type: ignore[operator]
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        assert cache.load(KEY, 42) is None
    assert "discarding the cache" in caplog.text and reason in caplog.text


def test_another_mailbox_or_uidvalidity_is_not_used(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = HeaderCache(tmp_path)
    path = write(cache)
    other = CacheKey("imap.example.com", 993, "someone@example.com", "Sent")
    cache.path(other).write_bytes(path.read_bytes())
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        assert cache.load(other, 42) is None
    assert "another mailbox" in caplog.text
    assert cache.load(KEY, 43) is None  # the folder was rebuilt
    loaded = cache.load(KEY, 42)
    assert loaded is not None
    loaded.close()


def test_unwritable_cache_folder_is_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        assert HeaderCache(blocker / "cache").writer(KEY, 1) is None
    assert "cannot write the cache" in caplog.text


# -- against the real servers ---------------------------------------------------------------

CALENDAR = Path(__file__).resolve().parent.parent / "src" / "thankyou_scan" / "data" / "demo-calendar.yaml"
NOW = datetime(2026, 11, 10, 17, 0, tzinfo=UTC)


def run(
    server: Server,
    account: Account,
    cache: HeaderCache | None,
    port: int | None = None,
    *,
    narrow: bool | None = None,
) -> tuple[Report, ImapSource]:
    source = plain_imap(port or server.imap_port, account, cache=cache, narrow=narrow)
    with source:
        report = scan(load_calendar(CALENDAR), source, now=NOW)
    return report, source


def late_note(n: int) -> Mail:
    return Mail(
        raw_message(
            to="Samir <samir@initech.example>",
            date=f"Mon, 9 Nov 2026 0{n}:00:00 +0000",
            message_id=f"<late{n}@x>",
        ),
        datetime(2026, 11, 9, n, tzinfo=UTC),
    )


@pytest.mark.imap
def test_rescans_give_exactly_the_cold_scans_report(server: Server, account: Account, tmp_path: Path) -> None:
    seed(server, account, {"Sent": demo_mail()})
    cache = HeaderCache(tmp_path / "cache")
    cold, source = run(server, account, cache)
    assert source.messages_fetched == 8
    again, source = run(server, account, cache)
    assert source.messages_fetched == 0
    assert again == cold

    with server.client(account) as client:  # two new notes, one message deleted
        for n in (1, 2):
            mail = late_note(n)
            client.append(
                "Sent", mail.raw.replace(b"\n", b"\r\n"), flags=mail.flags, msg_time=mail.internaldate
            )
        client.select_folder("Sent")
        first = client.search(["ALL"])[0]
        client.delete_messages([first])
        client.expunge()
    rescan, source = run(server, account, cache)
    assert source.messages_fetched == 2
    fresh, _ = run(server, account, None)
    assert rescan == fresh
    assert rescan != cold  # Samir's note now shows as late
    # That rescan copied the unchanged records as stored: the file it wrote is whole.
    again, source = run(server, account, cache)
    assert (again, source.messages_fetched) == (fresh, 0)
    assert run(server, account, cache, narrow=False)[0] == fresh


@pytest.mark.imap
@pytest.mark.parametrize("where", ["reading", "copying"])
def test_a_cache_failing_midway_through_a_rescan_costs_fetches_not_duplicates(
    server: Server,
    account: Account,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    where: str,
) -> None:
    from thankyou_scan.sources.cache import CacheError, CacheFile

    seed(server, account, {"Sent": demo_mail()})
    cache = HeaderCache(tmp_path / "cache")
    run(server, account, cache)
    with server.client(account) as client:  # something new: the rescan writes the file again
        mail = late_note(1)
        client.append("Sent", mail.raw.replace(b"\n", b"\r\n"), flags=mail.flags, msg_time=mail.internaldate)
    method = "messages_for" if where == "reading" else "raw_records"
    original = getattr(CacheFile, method)

    def failing(self: CacheFile, *args: Any) -> Any:
        for count, item in enumerate(original(self, *args)):
            if count == 2:
                raise CacheError("Input/output error")
            yield item

    monkeypatch.setattr(CacheFile, method, failing)
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        report, source = run(server, account, cache)
    assert "could not be read to the end" in caplog.text
    monkeypatch.undo()
    fresh, _ = run(server, account, None)
    assert report == fresh
    # Only what was neither read nor copied was fetched again: never a message twice.
    assert source.messages_fetched < 9
    caplog.clear()
    again, source = run(server, account, cache)
    assert "discarding" not in caplog.text  # the file written is whole: no UID twice
    assert again == fresh


@pytest.mark.imap
def test_a_cache_from_another_uidvalidity_is_never_used(
    server: Server, account: Account, tmp_path: Path
) -> None:
    seed(server, account, {"Sent": demo_mail()})
    cache = HeaderCache(tmp_path / "cache")
    expected, _ = run(server, account, None)
    with server.client(account) as client:
        uidvalidity = client.select_folder("Sent", readonly=True)[b"UIDVALIDITY"]
    # A cache left from before the folder was rebuilt: UID 1 then was a note to Samir.
    writer = cache.writer(CacheKey("127.0.0.1", server.imap_port, account.user, "Sent"), uidvalidity - 1)
    assert writer is not None
    writer.add(
        CachedMessage(1, b"To: samir@initech.example\r\nDate: Thu, 5 Nov 2026 10:00:00 +0000\r\n", None)
    )
    writer.commit()
    report, source = run(server, account, cache)
    assert source.messages_fetched == 8
    assert report == expected


@pytest.mark.imap
def test_a_corrupt_cache_costs_a_full_fetch_not_a_wrong_report(
    server: Server, account: Account, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seed(server, account, {"Sent": demo_mail()})
    cache = HeaderCache(tmp_path / "cache")
    cold, _ = run(server, account, cache)
    (path,) = (tmp_path / "cache").glob("*.cache")
    corrupt_middle(path)
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        report, source = run(server, account, cache)
    assert "discarding the cache" in caplog.text
    assert source.messages_fetched == 8
    assert report == cold
    assert run(server, account, cache)[1].messages_fetched == 0  # rebuilt


@pytest.mark.imap
def test_fetches_and_commands_are_bounded(server: Server, account: Account, tmp_path: Path) -> None:
    mails = [
        Mail(raw_message(to=f"person{n % 300}@company{n % 40}.example", date="Tue, 3 Nov 2026 10:00:00 +0000",
                         message_id=f"<bulk{n}@x>"), datetime(2026, 11, 3, 10, tzinfo=UTC))
        for n in range(2000)
    ] + demo_mail()  # fmt: skip
    seed(server, account, {"Sent": mails})
    cache = HeaderCache(tmp_path / "cache")
    with FaultProxy(server.imap_port, [None]) as proxy:  # one proxy: the cache is keyed by port too
        cold, source = run(server, account, cache, port=proxy.port, narrow=False)
        assert source.messages_scanned == 2008
        # 2008 UIDs in batches of 250, and INTERNALDATE once: for the demo's note whose Date
        # has no zone (the only one whose time is the server's).
        assert proxy.commands.count(b"FETCH") == 10
        proxy.commands.clear()
        warm, source = run(server, account, cache, port=proxy.port, narrow=False)
    assert warm == cold
    assert source.messages_fetched == 0
    assert b"FETCH" not in proxy.commands
    assert b"SEARCH" not in proxy.commands  # same UIDNEXT and EXISTS: the last SEARCH stands
    # CAPABILITY only where the greeting does not carry the capabilities (GreenMail).
    expected = [b"LOGIN", b"LIST", b"EXAMINE", b"LOGOUT"]
    assert [command for command in proxy.commands if command != b"CAPABILITY"] == expected, proxy.commands
    if isinstance(server, Dovecot):
        assert proxy.commands == expected


def run_with(
    server: Server, account: Account, cache: HeaderCache, calendar_text: str, port: int
) -> tuple[Report, ImapSource]:
    source = plain_imap(port, account, cache=cache)
    with source:
        report = scan(parse_calendar(calendar_text), source, now=NOW)
    return report, source


def calendar_from(day: int) -> str:
    return f"""\
version: 1
timezone: UTC
events:
  - title: Interview
    kind: interview
    start: 2026-11-{day:02d} 10:00
    people: [Samir <samir@initech.example>]
"""


@pytest.mark.imap
def test_notes_before_the_window_stay_cached_though_their_internaldate_was_never_fetched(
    server: Server, account: Account, tmp_path: Path
) -> None:
    notes = [
        Mail(raw_message(to="samir@initech.example", date=f"Mon, {d} Nov 2026 12:00:00 +0000",
                         message_id=f"<w{d}@x>"), datetime(2026, 11, d, 12, tzinfo=UTC))
        for d in (2, 9)
    ]  # fmt: skip
    seed(server, account, {"Sent": notes})
    cache = HeaderCache(tmp_path / "cache")
    with FaultProxy(server.imap_port, [None]) as proxy:
        _, source = run_with(server, account, cache, calendar_from(1), proxy.port)
        assert (source.messages_fetched, proxy.commands.count(b"FETCH")) == (2, 1)  # no INTERNALDATE asked
        # A later window: the note of the 2nd is outside it; the cache is written again, and
        # its Date (no INTERNALDATE was fetched) says it is older than the window: kept.
        _, source = run_with(server, account, cache, calendar_from(8), proxy.port)
        assert source.messages_scanned == 1
        proxy.commands.clear()
        back, source = run_with(server, account, cache, calendar_from(1), proxy.port)
    assert source.messages_fetched == 0 and b"FETCH" not in proxy.commands
    assert back.followups[0].message is not None and back.followups[0].message.message_id == "<w2@x>"


@pytest.mark.imap
def test_the_last_search_is_reused_only_while_the_folder_and_window_are_unchanged(
    server: Server, account: Account, tmp_path: Path
) -> None:
    notes = [
        Mail(raw_message(to="samir@initech.example", date=f"Mon, {d} Nov 2026 12:00:00 +0000",
                         message_id=f"<n{d}@x>"), datetime(2026, 11, d, 12, tzinfo=UTC))
        for d in (2, 6, 9)
    ]  # fmt: skip
    seed(server, account, {"Sent": notes})
    cache = HeaderCache(tmp_path / "cache")
    with FaultProxy(server.imap_port, [None]) as proxy:
        cold, _ = run_with(server, account, cache, calendar_from(5), proxy.port)
        assert cold.followups[0].message is not None
        assert cold.followups[0].message.message_id == "<n6@x>"
        proxy.commands.clear()
        run_with(server, account, cache, calendar_from(5), proxy.port)
        assert b"SEARCH" not in proxy.commands

        # Another window (an earlier event): the old answer does not cover it.
        proxy.commands.clear()
        wider, source = run_with(server, account, cache, calendar_from(1), proxy.port)
        assert b"SEARCH" in proxy.commands
        assert source.messages_scanned == 3
        assert wider.followups[0].message is not None
        assert wider.followups[0].message.message_id == "<n2@x>"

        # Only an expunge (UIDNEXT unchanged, EXISTS down): found, not taken from the cache.
        with server.client(account) as client:
            client.select_folder("Sent")
            client.delete_messages(client.search(["HEADER", "Message-ID", "<n6@x>"]))
            client.expunge()
        proxy.commands.clear()
        after, source = run_with(server, account, cache, calendar_from(5), proxy.port)
        assert b"SEARCH" in proxy.commands
        assert source.messages_scanned == 1  # the note of the 2nd is before the window
        assert after.followups[0].message is not None
        assert after.followups[0].message.message_id == "<n9@x>"  # late now: the on-time note is gone
    assert (
        after
        == run_with(server, account, HeaderCache(tmp_path / "fresh"), calendar_from(5), server.imap_port)[0]
    )


@pytest.mark.parametrize(
    "search",
    [
        None,
        "not a mapping",
        {"window": "2026-11-04", "uidnext": "4", "exists": 3, "found": [[1, 3]]},
        {"window": "2026-11-04", "uidnext": 4, "exists": 1, "found": [[1, 3]]},  # more found than exist
        {"window": "2026-11-04", "uidnext": 4, "exists": 3, "found": [[1]]},
    ],
)
def test_a_missing_or_damaged_search_record_means_searching_again(search: object) -> None:
    assert SearchRecord.from_json(search) is None


def test_a_search_record_round_trips(tmp_path: Path) -> None:
    cache = HeaderCache(tmp_path)
    record = SearchRecord("2026-11-04", 10, 3, frozenset({1, 2, 7}))
    writer = cache.writer(KEY, 42, record)
    assert writer is not None
    writer.commit()
    loaded = cache.load(KEY, 42)
    assert loaded is not None
    loaded.close()
    assert loaded.search == record
    assert record.unchanged_since(loaded.search)
    assert not SearchRecord("2026-11-04", 11, 3).unchanged_since(record)  # a message was added
    assert not SearchRecord("2026-11-04", 10, 2).unchanged_since(record)  # one was expunged
    assert not SearchRecord("2026-11-01", 10, 3).unchanged_since(record)  # another window
    assert not SearchRecord("2026-11-04", None, 3).unchanged_since(record)  # the server did not say


# -- the cache must never change a report (issue 10 items 7-13, issue 9 item 10) --------------


def cold_report(server: Server, account: Account) -> Report:
    return run(server, account, None)[0]


class RacingCache(HeaderCache):
    """A cache folder where another scan finishes between this scan's load() and its replay."""

    def __init__(self, directory: Path, race: Callable[[], None]) -> None:
        super().__init__(directory)
        self.race: Callable[[], None] | None = race

    def load(self, key: CacheKey, uidvalidity: int) -> CacheFile | None:
        loaded = super().load(key, uidvalidity)
        if self.race is not None:
            race, self.race = self.race, None
            race()
        return loaded


@pytest.mark.imap
@pytest.mark.parametrize(
    "other", ["rewrites it longer", "deletes it", "leaves garbage", "truncates it in place"]
)
def test_another_scan_replacing_the_file_mid_scan_changes_nothing(
    server: Server, account: Account, tmp_path: Path, other: str
) -> None:
    seed(server, account, {"Sent": demo_mail()})
    folder = tmp_path / "cache"
    before, _ = run(server, account, HeaderCache(folder))
    (path,) = folder.glob("*.cache")

    def another_scan() -> None:
        if other == "rewrites it longer":  # a new note, and a scan that caches it
            seed(server, account, {"Sent": [late_note(1)]}, create=False)
            run(server, account, HeaderCache(folder))
        elif other == "deletes it":
            path.unlink()
        elif other == "truncates it in place":  # no scan does this; a broken disk or another program might
            os.truncate(path, path.stat().st_size // 2)
        else:
            replacement = path.with_name("new")
            replacement.write_bytes(b"garbage" * 1000)
            replacement.replace(path)

    report, source = run(server, account, RacingCache(folder, another_scan))
    assert report == before  # what the folder held when this scan looked
    if other == "truncates it in place":
        assert source.messages_fetched > 0  # what could not be read again was fetched
    else:
        assert source.messages_fetched == 0
    if other == "rewrites it longer":
        after, source = run(server, account, HeaderCache(folder))
        assert after == cold_report(server, account) != before
        assert source.messages_fetched == 0  # the other scan's file is whole and in use


def write_with_search(cache: HeaderCache) -> Path:
    writer = cache.writer(KEY, 42, SearchRecord("2026-11-01", 10, 3, frozenset({1, 7, 9})))
    assert writer is not None
    for record in RECORDS:
        writer.add(record)
    writer.commit()
    return cache.path(KEY)


def test_every_one_bit_flip_anywhere_is_detected(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = HeaderCache(tmp_path)
    path = write_with_search(cache)
    original = path.read_bytes()
    undetected = []
    for bit in range(len(original) * 8):
        damaged = bytearray(original)
        damaged[bit // 8] ^= 1 << (bit % 8)
        path.write_bytes(bytes(damaged))
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
            loaded = cache.load(KEY, 42)
        if loaded is not None or "discarding the cache" not in caplog.text:
            undetected.append(bit)
        if loaded is not None:
            loaded.close()
    assert not undetected, (
        f"{len(undetected)} of {len(original) * 8} flips went unnoticed, e.g. bit {undetected[0]}"
    )


@pytest.mark.imap
def test_a_flipped_bit_in_the_last_search_costs_a_fetch_not_a_wrong_report(
    server: Server, account: Account, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seed(server, account, {"Sent": demo_mail()})
    cache = HeaderCache(tmp_path / "cache")
    cold, _ = run(server, account, cache)
    (path,) = (tmp_path / "cache").glob("*.cache")
    data = bytearray(path.read_bytes())
    found = data.rindex(b'"found": [[') + len(b'"found": [[')
    last = data.index(b"]", found) - 1  # the last digit of the run's end: 8 -> 0, one bit
    assert data[last : last + 1] == b"8"
    data[last] ^= 0x08
    path.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        report, source = run(server, account, cache)
    assert "discarding the cache" in caplog.text
    assert report == cold
    assert source.messages_fetched == 8
    again, _ = run(server, account, cache)  # and the next scan is right too
    assert again == cold


def chown_to_nobody(path: Path) -> None:
    os.chown(path, 65534, 65534, follow_symlinks=False)


requires_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")


@requires_root
@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (chown_to_nobody, "belongs to another user"),
        (lambda p: p.chmod(0o666), "could be written by other users"),
        (lambda p: p.chmod(0o620), "could be written by other users"),
        (lambda p: chown_to_nobody(p.parent), "belongs to another user"),
        (lambda p: p.parent.chmod(0o1777), "shared with other users"),
    ],
)
def test_cache_files_and_folders_others_could_write_are_not_trusted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: Callable[[Path], None], reason: str
) -> None:
    cache = HeaderCache(tmp_path / "cache")
    path = write(cache)
    damage(path)
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        assert cache.load(KEY, 42) is None
    assert reason in caplog.text
    if path.parent.stat().st_uid != os.geteuid() or path.parent.stat().st_mode & 0o1000:
        caplog.clear()
        path.unlink()
        with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
            assert cache.writer(KEY, 42) is None  # nothing is written into it either
        assert "cannot write the cache" in caplog.text and reason in caplog.text
        assert not list(path.parent.iterdir())


def test_a_cache_folder_others_could_write_is_made_private(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = HeaderCache(tmp_path / "cache")
    path = write(cache)
    path.parent.chmod(0o777)
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        loaded = cache.load(KEY, 42)
    assert loaded is not None
    loaded.close()
    assert "made it private" in caplog.text
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_a_new_cache_folder_is_0700_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o277)
    try:
        path = write(HeaderCache(tmp_path / "new" / "cache"))
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@requires_root
@pytest.mark.imap
def test_a_planted_cache_file_is_ignored_and_replaced(
    server: Server, account: Account, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seed(server, account, {"Sent": demo_mail()})
    folder = tmp_path / "cache"
    cold, _ = run(server, account, HeaderCache(folder))
    (path,) = folder.glob("*.cache")
    # Another user's file, in place of ours: here, a valid cache of an empty folder.
    with server.client(account) as client:
        uidvalidity = client.select_folder("Sent", readonly=True)[b"UIDVALIDITY"]
    key = CacheKey("127.0.0.1", server.imap_port, account.user, "Sent")
    writer = HeaderCache(folder).writer(key, uidvalidity, SearchRecord("2026-10-11", 9999, 0, frozenset()))
    assert writer is not None
    writer.commit()
    chown_to_nobody(path)
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        report, source = run(server, account, HeaderCache(folder))
    assert "belongs to another user" in caplog.text
    assert report == cold and source.messages_fetched == 8
    assert path.stat().st_uid == os.geteuid()  # replaced by a file of our own


def test_temporary_cache_files_never_follow_a_planted_link(tmp_path: Path) -> None:
    cache = HeaderCache(tmp_path / "cache")
    cache.directory.mkdir(mode=0o700)
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    # The names temporary files had: .NAME.PID.tmp
    (cache.directory / f".{KEY.filename()}.{os.getpid()}.tmp").symlink_to(victim)
    write(cache)
    assert victim.read_bytes() == b"precious"
    loaded = cache.load(KEY, 42)
    assert loaded is not None
    with loaded:
        assert list(loaded.messages()) == RECORDS


def test_a_symlink_at_the_cache_path_is_not_followed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = HeaderCache(tmp_path / "cache")
    path = write(cache)
    elsewhere = tmp_path / "elsewhere"
    path.rename(elsewhere)
    path.symlink_to(elsewhere)
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        assert cache.load(KEY, 42) is None
    assert "symbolic link" in caplog.text


@pytest.mark.imap
def test_a_fifo_at_the_cache_path_does_not_hang_the_scan(
    server: Server, account: Account, tmp_path: Path, caplog: pytest.LogCaptureFixture, alarm: None
) -> None:
    seed(server, account, {"Sent": demo_mail()})
    folder = tmp_path / "cache"
    cold, _ = run(server, account, HeaderCache(folder))
    (path,) = folder.glob("*.cache")
    path.unlink()
    os.mkfifo(path, 0o600)
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        report, source = run(server, account, HeaderCache(folder))
    assert "not a regular file" in caplog.text
    assert report == cold and source.messages_fetched == 8
    assert path.is_file()  # replaced by a cache


def cli_scan(
    server: Server, account: Account, cache: Path, *, file_size_limit: int | None = None
) -> subprocess.CompletedProcess[str]:
    """``thankyou-scan scan`` of the demo calendar in a child process, optionally under RLIMIT_FSIZE."""

    def limit() -> None:
        if file_size_limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    argv = [
        sys.executable, "-m", "thankyou_scan", "scan", "--calendar", str(CALENDAR),
        "--now", NOW.isoformat(), "--format", "json", "--imap-host", "127.0.0.1",
        "--imap-port", str(server.imap_port), "--security", "plain", "--user", account.user,
        "--password-env", "TEST_IMAP_PASSWORD", "--cache", str(cache),
    ]  # fmt: skip
    return subprocess.run(
        argv,
        # Not narrowed: every message is fetched, so the cache outgrows the file-size limit.
        env={**os.environ, "TEST_IMAP_PASSWORD": account.password, "THANKYOU_SCAN_NARROW": "0"},
        preexec_fn=limit,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.imap
def test_a_cache_that_cannot_be_written_is_a_warning_and_the_report_still_comes(
    server: Server, account: Account, tmp_path: Path
) -> None:
    mails = [
        Mail(raw_message(to=f"person{n}@company{n % 40}.example", date="Tue, 3 Nov 2026 10:00:00 +0000",
                         message_id=f"<bulk{n}@x>", subject=os.urandom(150).hex()),
             datetime(2026, 11, 3, 10, tzinfo=UTC))
        for n in range(600)
    ] + demo_mail()  # fmt: skip
    seed(server, account, {"Sent": mails})
    expected = cli_scan(server, account, tmp_path / "unlimited")
    assert expected.returncode == 1, expected.stderr
    folder = tmp_path / "cache"
    full = cli_scan(server, account, folder, file_size_limit=16_384)  # the cache outgrows it
    assert full.returncode == 1, full.stderr
    assert full.stdout == expected.stdout
    assert "cannot write the cache" in full.stderr and "internal error" not in full.stderr
    assert not list(folder.iterdir())  # no temporary file left behind
    again = cli_scan(server, account, folder)
    assert again.returncode == 1 and again.stdout == expected.stdout


def append(server: Server, account: Account, raw: bytes, when: datetime) -> None:
    with server.client(account) as client:
        client.append("Sent", raw.replace(b"\n", b"\r\n"), flags=(b"\\Seen",), msg_time=when)


@pytest.mark.imap
def test_what_the_cache_cannot_hold_is_skipped_and_counted_on_every_scan(
    greenmail: Server, gm_account: Account, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # GreenMail only: Dovecot serves no more than about 14 MB of header fields.
    server, account = greenmail, gm_account
    seed(server, account, {"Sent": demo_mail()})
    huge = raw_message(to="samir@initech.example", date="Mon, 9 Nov 2026 10:00:00 +0000", message_id="<huge@x>",
                       extra="References: " + "<a@b>\n " * (MAX_HEADER // 7 + 1))  # fmt: skip
    append(server, account, huge, datetime(2026, 11, 9, 10, tzinfo=UTC))
    cache = HeaderCache(tmp_path / "cache")
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        cold, source = run(server, account, cache)
    assert source.messages_skipped == 1 and "over 16 MB" in caplog.text
    for _ in range(2):
        report, source = run(server, account, cache)
        assert report == cold and source.messages_skipped == 1 and source.messages_fetched == 0


END_OF_TIME = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-12)))


class RewritingProxy(FaultProxy):
    """A hostile server: the real one's answers with every ``old`` replaced by ``new`` (as long)."""

    def __init__(self, target_port: int, old: bytes, new: bytes) -> None:
        assert len(old) == len(new)
        super().__init__(target_port, [None])
        self.old, self.new = old, new

    def _pump(self, source: socket.socket, sink: socket.socket, rule: CutOn | None, watch: bool) -> None:
        if watch:
            super()._pump(source, sink, rule, watch)
            return
        try:
            while chunk := source.recv(65536):
                sink.sendall(chunk.replace(self.old, self.new))
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


@pytest.mark.imap
def test_dates_at_the_end_of_time_do_not_break_later_scans(
    server: Server, account: Account, tmp_path: Path
) -> None:
    seed(server, account, {"Sent": demo_mail()})
    no_date = raw_message(to="samir@initech.example", date=None, message_id="<nodate@x>")
    far = raw_message(
        to="samir@initech.example", date="Fri, 31 Dec 9999 23:59:59 -1200", message_id="<far@x>"
    )
    for raw in (no_date, far):
        append(server, account, raw, datetime(2026, 11, 9, 7, 7, 7, tzinfo=UTC))
    cache = HeaderCache(tmp_path / "cache")
    # Real servers refuse to store such an INTERNALDATE: a hostile one sends it anyway.
    with RewritingProxy(
        server.imap_port, b'"09-Nov-2026 07:07:07 +0000"', b'"31-Dec-9999 23:59:59 -1200"'
    ) as proxy:
        cold, source = run(server, account, cache, port=proxy.port)
        skipped = source.messages_skipped
        assert skipped >= 1  # at least the message without a Date: it has no usable time
        for _ in range(2):
            report, source = run(server, account, cache, port=proxy.port)
            assert report == cold and source.messages_fetched == 0 and source.messages_skipped == skipped


def test_a_record_the_cache_cannot_read_back_is_never_written(tmp_path: Path) -> None:
    writer = HeaderCache(tmp_path).writer(KEY, 1)
    assert writer is not None
    with pytest.raises(ValueError, match="cannot be stored"):
        writer.add(CachedMessage(1, b"To: a@x.example\r\n", END_OF_TIME))
    with pytest.raises(ValueError, match="over the cache's limits"):
        writer.add(CachedMessage(2, b"x" * (MAX_HEADER + 1), None))
    writer.abort()
    assert not list(tmp_path.iterdir())


def forge_trailer(path: Path, **changes: object) -> None:
    """Rewrite the trailer and recompute the digest, as a program running as the user could."""
    data = path.read_bytes()
    length = int.from_bytes(data[-4:], "big")
    end = len(data) - 4 - length
    trailer = json.loads(data[end:-4])
    trailer.update(changes)
    encoded = json.dumps(trailer).encode()
    tail = encoded + len(encoded).to_bytes(4, "big")
    body = data[: end - 32]
    path.write_bytes(body + hashlib.sha256(body + tail).digest() + tail)


@pytest.mark.parametrize(
    "changes",
    [
        {"uids": [[1, 2**32 - 1]], "count": 2**32 - 1},  # four billion UIDs from 30 bytes
        {"uids": [[1, 2**40]], "count": 2**40},
        {"uids": [[5, 1]], "count": -3},
        {"uids": "1:3", "count": 3},
    ],
)
def test_a_forged_uid_list_is_discarded_not_expanded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, changes: dict[str, object]
) -> None:
    cache = HeaderCache(tmp_path)
    path = write(cache)
    forge_trailer(path, **changes)
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        assert cache.load(KEY, 42) is None
    assert "discarding the cache" in caplog.text


def test_a_consistent_forged_trailer_is_read(tmp_path: Path) -> None:
    """The forger above is right: an unchanged trailer, re-digested, loads."""
    cache = HeaderCache(tmp_path)
    path = write(cache)
    forge_trailer(path)
    loaded = cache.load(KEY, 42)
    assert loaded is not None
    with loaded:
        assert list(loaded.messages()) == RECORDS


@pytest.mark.parametrize(
    "search",
    [
        {"window": "2026-11-01", "uidnext": 2, "exists": 2**40, "found": [[1, 2**32 - 1]]},  # 4 billion UIDs
        {"window": "2026-11-01", "uidnext": 2, "exists": 2, "found": [[1, 2]]} | {"deep": [[[[[[[]]]]]]]},
    ],
)
def test_a_forged_search_record_is_never_expanded(tmp_path: Path, search: dict[str, object]) -> None:
    cache = HeaderCache(tmp_path)
    path = write(cache)
    forge_trailer(path, search=search)
    loaded = cache.load(KEY, 42)
    assert loaded is not None
    with loaded:
        # an implausible record is not used (the scan then searches); a plausible one is
        assert (loaded.search is None) == (search["exists"] == 2**40)


def test_a_trailer_nested_too_deeply_is_discarded(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = HeaderCache(tmp_path)
    path = write(cache)
    data = path.read_bytes()
    length = int.from_bytes(data[-4:], "big")
    body = data[: len(data) - 4 - length - 32]
    encoded = b"[" * 100_000 + b"]" * 100_000
    tail = encoded + len(encoded).to_bytes(4, "big")
    path.write_bytes(body + hashlib.sha256(body + tail).digest() + tail)
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        assert cache.load(KEY, 42) is None
    assert "discarding the cache" in caplog.text


def test_learnt_facts_nested_too_deeply_read_as_damage() -> None:
    from thankyou_scan.message import HeaderFacts, decode_message

    with pytest.raises(ValueError, match="nested too deeply"):
        HeaderFacts.decode(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(ValueError, match="nested too deeply"):
        decode_message(b"[" * 100_000 + b"]" * 100_000, "1")


@pytest.mark.imap
def test_a_rescan_reads_only_the_records_of_the_calendars_people(
    server: Server, account: Account, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outsiders = [
        Mail(
            raw_message(to=f"someone{n}@elsewhere.example", date=f"Mon, 9 Nov 2026 0{n}:00:00 +0000"),
            datetime(2026, 11, 9, n, tzinfo=UTC),
        )
        for n in range(1, 6)
    ]
    seed(server, account, {"Sent": demo_mail() + outsiders})
    cache = HeaderCache(tmp_path / "cache")
    cold, _ = run(server, account, cache)
    read: list[int] = []
    original = CacheFile._read

    def counting(self: CacheFile, offsets: Any) -> Any:
        for record in original(self, offsets):
            read.append(record.uid)
            yield record

    monkeypatch.setattr(CacheFile, "_read", counting)
    again, source = run(server, account, cache)
    assert again == cold and source.messages_fetched == 0
    assert 0 < len(read) <= len(demo_mail())  # none of the five outsiders' records

    # A calendar that now names an outsider: their record is read, parsed and kept.
    text = CALENDAR.read_text(encoding="utf-8") + (
        "  - title: Coffee with someone\n    kind: networking\n    start: 2026-11-08 09:00\n"
        "    people:\n      - name: Someone\n        email: someone3@elsewhere.example\n"
    )
    calendar = parse_calendar(text, path="calendar.yaml")
    for attempt in range(2):
        read.clear()
        with plain_imap(server.imap_port, account, cache=cache) as source:
            widened = scan(calendar, source, now=NOW)
        # Narrowed to the first calendar's people, the first scan never fetched the
        # outsider's message (where the server can narrow): now it is, once.
        assert source.messages_fetched <= (1 if attempt == 0 else 0)
        with plain_imap(server.imap_port, account, cache=None) as fresh_source:
            assert widened == scan(calendar, fresh_source, now=NOW)
        assert any(f.person.email == "someone3@elsewhere.example" and f.message for f in widened.followups)


@pytest.mark.parametrize(
    "changes",
    [{"offsets": [5, 4, 3]}, {"offsets": ["27", 100, 200]}, {"offsets": [27]}, {"index": ["a@x.example"]}],
)
def test_forged_offsets_or_index_discard_the_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, changes: dict[str, object]
) -> None:
    cache = HeaderCache(tmp_path)
    forge_trailer(write(cache), **changes)
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        assert cache.load(KEY, 42) is None
    assert "discarding the cache" in caplog.text


@pytest.mark.parametrize("numbers", [[3], [-1], ["0"], {"0": 0}])
def test_an_index_naming_records_that_do_not_exist_is_damage_when_read(
    tmp_path: Path, numbers: object
) -> None:
    cache = HeaderCache(tmp_path)
    forge_trailer(write(cache), index={"": numbers})
    loaded = cache.load(KEY, 42)
    assert loaded is not None
    with loaded, pytest.raises(CacheError):
        list(loaded.messages_for([]))


# -- the replay of a rescan that finds nothing new (sources/replay.py) ------------------------

REPLAYED = "messages the last scan let through"


def replay_file(cache: HeaderCache) -> Path:
    (path,) = cache.directory.glob("*.replay")
    return path


@pytest.mark.imap
def test_a_rescan_with_nothing_new_reads_only_what_the_last_scan_let_through(
    server: Server, account: Account, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A note to Samir dated after NOW: turned away as of NOW, counted as of two days later.
    future = Mail(
        raw_message(to="samir@initech.example", date="Thu, 12 Nov 2026 09:00:00 +0000", message_id="<f@x>"),
        datetime(2026, 11, 12, 9, tzinfo=UTC),
    )
    seed(server, account, {"Sent": [*demo_mail(), future]})
    cache = HeaderCache(tmp_path / "cache")
    cold, _ = run(server, account, cache)
    assert oct(stat.S_IMODE(replay_file(cache).stat().st_mode)) == "0o600"

    def rescan(now: datetime) -> tuple[Report, bool]:
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="thankyou_scan"):
            with plain_imap(server.imap_port, account, cache=cache) as source:
                report = scan(load_calendar(CALENDAR), source, now=now)
            assert source.messages_fetched == 0
        with plain_imap(server.imap_port, account, cache=None) as fresh:
            assert report == scan(load_calendar(CALENDAR), fresh, now=now)
        return report, REPLAYED in caplog.text

    assert rescan(NOW) == (cold, True)
    assert rescan(NOW + timedelta(hours=30))[1]  # still before the note to Samir
    later, replayed = rescan(NOW + timedelta(days=3))  # after it: the replay does not stand
    assert not replayed
    assert later.to_dict()["summary"] != cold.to_dict()["summary"]
    assert not rescan(NOW)[1]  # an earlier now than the replay's (written as of three days later)
    assert rescan(NOW)[1]


@pytest.mark.imap
def test_a_damaged_or_foreign_replay_is_ignored(
    server: Server, account: Account, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seed(server, account, {"Sent": demo_mail()})
    cache = HeaderCache(tmp_path / "cache")
    cold, _ = run(server, account, cache)
    path = replay_file(cache)
    original = path.read_bytes()
    meta = json.loads(original[32:])
    forged = []
    # (A consistent forgery of the numbers themselves is read, as a consistent forged
    # cache trailer is: the files are the user's own, in a folder only they may write.)
    for change in ({"numbers": [10**6]}, {"cache": "0" * 64}, {"version": 2}, {"now": "x"}):
        data = json.dumps({**meta, **change}).encode()
        forged.append(hashlib.sha256(data).digest() + data)  # a consistent forgery
    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 1
    for data in [*forged, bytes(flipped), b"", original[:40]]:
        path.write_bytes(data)
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="thankyou_scan"):
            again, source = run(server, account, cache)
        assert again == cold and source.messages_fetched == 0
        assert REPLAYED not in caplog.text
    # A calendar with other people: the replay is not theirs.
    path.write_bytes(original)
    calendar = parse_calendar(calendar_from(2))
    caplog.clear()
    with (
        caplog.at_level(logging.INFO, logger="thankyou_scan"),
        plain_imap(server.imap_port, account, cache=cache) as source,
    ):
        report = scan(calendar, source, now=NOW)
    assert REPLAYED not in caplog.text
    with plain_imap(server.imap_port, account, cache=None) as fresh:
        assert report == scan(calendar, fresh, now=NOW)


def test_a_replay_stands_only_for_its_file_rules_and_later_nows() -> None:
    from thankyou_scan.sources.replay import Replay

    replay = Replay("c" * 64, "r", NOW, NOW + timedelta(days=1), (0, 3))
    assert Replay.from_json(replay.as_json()) == replay
    assert replay.stands_for("c" * 64, "r", NOW)
    assert replay.stands_for("c" * 64, "r", NOW + timedelta(hours=23))
    assert not replay.stands_for("c" * 64, "r", NOW + timedelta(days=1))
    assert not replay.stands_for("c" * 64, "r", NOW - timedelta(seconds=1))
    assert not replay.stands_for("d" * 64, "r", NOW)
    assert not replay.stands_for("c" * 64, "s", NOW)
    for bad in (
        {"numbers": [-1]},
        {"numbers": ["1"]},
        {"now": "2026-11-10T17:00:00"},
        {"rules": None},
        {"package": "0.0.1"},  # written by another version, whose pre-check may have differed
    ):
        with pytest.raises((ValueError, TypeError)):
            Replay.from_json(json.dumps({**json.loads(replay.as_json()), **bad}).encode())
