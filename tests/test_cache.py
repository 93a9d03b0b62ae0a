"""The incremental IMAP cache: rescans equal cold scans, and every cache fault is survived."""

from __future__ import annotations

import json
import logging
import stat
from datetime import datetime, timezone
from pathlib import Path

import pytest

from faultproxy import FaultProxy
from greenmail import Account, Mail, Server, demo_mail, seed
from helpers import raw_message
from thankyou_scan import ImapSource, load_calendar, parse_calendar, scan
from thankyou_scan.report import Report
from thankyou_scan.sources.cache import CachedMessage, CacheKey, HeaderCache, SearchRecord

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
    assert loaded.uids == {1, 7, 9}
    assert list(loaded.messages()) == RECORDS
    assert not list(path.parent.glob(".*.tmp"))


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
    assert cache.load(KEY, 42) is not None


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
    server: Server, account: Account, cache: HeaderCache | None, port: int | None = None
) -> tuple[Report, ImapSource]:
    source = ImapSource(
        "127.0.0.1", port=port or server.imap_port, security="plain", user=account.user,
        password=account.password, cache=cache,
    )  # fmt: skip
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
    (path,) = (tmp_path / "cache").iterdir()
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
        cold, source = run(server, account, cache, port=proxy.port)
        assert source.messages_scanned == 2008
        assert proxy.commands.count(b"FETCH") == 9  # 2008 UIDs in batches of 250
        proxy.commands.clear()
        warm, source = run(server, account, cache, port=proxy.port)
    assert warm == cold
    assert source.messages_fetched == 0
    assert b"FETCH" not in proxy.commands
    assert b"SEARCH" not in proxy.commands  # same UIDNEXT and EXISTS: the last SEARCH stands
    assert len(proxy.commands) <= 7, proxy.commands


def run_with(
    server: Server, account: Account, cache: HeaderCache, calendar_text: str, port: int
) -> tuple[Report, ImapSource]:
    source = ImapSource(
        "127.0.0.1", port=port, security="plain", user=account.user, password=account.password, cache=cache
    )
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
    assert loaded.search == record
    assert record.unchanged_since(loaded.search)
    assert not SearchRecord("2026-11-04", 11, 3).unchanged_since(record)  # a message was added
    assert not SearchRecord("2026-11-04", 10, 2).unchanged_since(record)  # one was expunged
    assert not SearchRecord("2026-11-01", 10, 3).unchanged_since(record)  # another window
    assert not SearchRecord("2026-11-04", None, 3).unchanged_since(record)  # the server did not say
