"""Hostile input: real-world broken mail, generated garbage, fuzzing, and hostile calendars.

The promise: no crash, broken messages counted in messages_skipped, right statuses for
the good ones; a calendar that cannot be used is a CalendarError with a line, in
bounded time and memory.

Fuzzing runs briefly in the suite; THANKYOU_SCAN_FUZZ_EXAMPLES=100000 runs it longer.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import sysconfig
import textwrap
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import raw_message, write_mbox
from thankyou_scan import (
    CalendarError,
    MaildirSource,
    MboxSource,
    MessageError,
    SentMessage,
    parse_calendar,
    scan,
)

UTC = timezone.utc
FUZZ = int(os.environ.get("THANKYOU_SCAN_FUZZ_EXAMPLES", "200"))
CPYTHON_MAIL = Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data"
FALLBACK = datetime(2026, 11, 3, tzinfo=UTC)
CALENDAR = parse_calendar(
    textwrap.dedent(
        """\
        timezone: UTC
        events:
          - {id: e, title: Onsite, kind: interview, start: 2026-11-02 10:00, people: [Ada <ada@acme.example>, Bo <bo@acme.example>]}
        """
    )
)
NOW = datetime(2026, 11, 10, tzinfo=UTC)


def garbage_messages() -> list[bytes]:
    nested = b"Content-Type: multipart/mixed; boundary=b0\n\n"
    for depth in range(1, 200):
        nested += b"--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n" % (depth - 1, depth)
    return [
        b"",
        b"\n\nno headers at all, only a body\n",
        b"\x00\x01\x02\xff\xfe" * 200,
        b"To: \x00ada@acme.example\x00\nDate: \x00\n\n",
        b"To: =?x-no-such-charset?q?=FF=FE?= <x@y.example>\nSubject: =?utf-8?b?////?=\nDate: Mon, 2 Nov 2026 11:00:00 +0000\n\n",
        b"To: "
        + b", ".join(b"p%d@many.example" % n for n in range(10_000))
        + b"\nDate: Mon, 2 Nov 2026 11:00:00 +0000\n\n",
        b"Subject: " + b"x" * 1_000_000 + b"\nTo: y@z.example\nDate: Mon, 2 Nov 2026 11:00:00 +0000\n\n",
        b"To: " + b"a" * 1_000_000 + b"@acme.example\nDate: Mon, 2 Nov 2026 11:00:00 +0000\n\n",
        nested + b"To: ada@acme.example\n",
        b'Date: Mon, 2 Nov 2026 11:00:00 +0000\nTo: <<<@@@>>>, "\\""@, @, a@, @b\n\n',
        b"Date: Mon, 99 Nov 99999 99:99:99 +9999\nTo: ada@acme.example\n\n",
        b"\xef\xbb\xbfTo: ada@acme.example\r\r\n\rDate: Mon, 2 Nov 2026 11:00:00 +0000\n\n",
    ]


def cpython_messages() -> list[bytes]:
    return [path.read_bytes() for path in sorted(CPYTHON_MAIL.glob("msg_*.txt"))]


GOOD = raw_message(to="Ada <ada@acme.example>", date="Mon, 2 Nov 2026 12:00:00 +0000", message_id="<good@x>")


@pytest.mark.parametrize("raw", garbage_messages() + cpython_messages())
def test_every_message_parses_or_is_a_message_error(raw: bytes) -> None:
    try:
        message = SentMessage.from_headers(raw, fallback_date=FALLBACK)
    except MessageError:
        return
    assert message.date.tzinfo is UTC
    assert all("@" in address for address in message.recipients)


def test_cpython_corpus_is_here_when_the_interpreter_ships_it() -> None:
    if not CPYTHON_MAIL.is_dir():
        pytest.skip("this Python has no test/test_email/data")
    assert len(cpython_messages()) > 30


def test_hostile_mbox_gives_right_statuses_for_the_good_mail(tmp_path: Path) -> None:
    hostile = garbage_messages() + cpython_messages()
    entries = [("Mon Nov 02 12:00:00 +0000 2026", raw) for raw in hostile] + [
        ("Mon Nov 02 12:00:00 +0000 2026", GOOD)
    ]
    path = write_mbox(tmp_path / "Sent.mbox", entries)
    source = MboxSource(path)
    report = scan(CALENDAR, source, now=NOW)
    statuses = {f.person.name: f.status.value for f in report.followups}
    assert statuses == {"Ada": "sent", "Bo": "missing"}
    assert report.source.messages_scanned >= len(hostile)


def test_hostile_maildir_counts_what_it_cannot_parse(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "Sent" / sub).mkdir(parents=True)
    for n, raw in enumerate([*garbage_messages(), GOOD]):
        (tmp_path / "Sent" / "cur" / f"{n}.M{n}.host:2,S").write_bytes(raw)
    # A message to Bo without a Date: the file's delivery time (1970) places it before the event.
    (tmp_path / "Sent" / "new" / "nodate").write_bytes(b"To: bo@acme.example\n\n")
    os.utime(tmp_path / "Sent" / "new" / "nodate", (0, 0))
    # A message to Bo, after the event, whose headers cannot be parsed: skipped and counted.
    (tmp_path / "Sent" / "new" / "broken").write_bytes(
        b"To: bo@acme.example, " + b"(" * 5_000 + b"\nDate: Mon, 2 Nov 2026 12:00:00 +0000\n\n"
    )
    source = MaildirSource(tmp_path / "Sent")
    with caplog.at_level(logging.WARNING, logger="thankyou_scan"):
        report = scan(CALENDAR, source, now=NOW)
    statuses = {f.person.name: f.status.value for f in report.followups}
    assert statuses == {"Ada": "sent", "Bo": "missing"}
    # The 1 MB Subject and To among the garbage are over the header cap: skipped and counted too.
    assert report.source.messages_skipped == 3
    assert report.to_dict()["source"]["messages_skipped"] == 3
    assert sorted(r.getMessage() for r in caplog.records if "skipped message" in r.getMessage()) == [
        f"skipped message 6.M6.host in {tmp_path / 'Sent'}: its header block is over 262,144 bytes",
        f"skipped message 7.M7.host in {tmp_path / 'Sent'}: its header block is over 262,144 bytes",
        f"skipped message broken in {tmp_path / 'Sent'}: its to/cc/bcc fields nest too deeply to read",
    ]


@settings(max_examples=FUZZ, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096), st.one_of(st.none(), st.just(FALLBACK)))
def test_fuzz_message_parsing(raw: bytes, fallback: datetime | None) -> None:
    with contextlib.suppress(MessageError):
        SentMessage.from_headers(raw, fallback_date=fallback)


HEADER_LINES = st.lists(
    st.tuples(
        st.sampled_from(["To", "Cc", "Bcc", "Date", "Subject", "From", "Message-ID", "X-Junk", "to", "DATE"]),
        st.text(st.characters(blacklist_categories=("Cs",)), max_size=80),
    ),
    max_size=8,
)


@settings(max_examples=FUZZ, deadline=None)
@given(HEADER_LINES)
def test_fuzz_structured_headers(lines: list[tuple[str, str]]) -> None:
    raw = "".join(f"{name}: {value}\n" for name, value in lines).encode("utf-8", "surrogateescape") + b"\n"
    try:
        message = SentMessage.from_headers(raw, fallback_date=FALLBACK)
    except MessageError:
        return
    assert message.date.utcoffset() is not None


@settings(max_examples=FUZZ, deadline=None)
@given(st.text(max_size=2000))
def test_fuzz_calendar_loading(text: str) -> None:
    try:
        parse_calendar(text, path="fuzz.yaml")
    except CalendarError as error:
        assert all(str(problem).startswith("fuzz.yaml") for problem in error.problems)


YAMLISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20), st.sampled_from(["2026-11-02 10:00", "48h", "a@b.example"])),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.sampled_from(["title", "kind", "start", "end", "people", "events", "timezone", "duration", "follow_up", "name", "email", "x"]), children, max_size=5)),
    max_leaves=30,
)  # fmt: skip


@settings(max_examples=FUZZ, deadline=None)
@given(YAMLISH)
def test_fuzz_calendar_shapes(data: object) -> None:
    import yaml

    text = yaml.safe_dump({"events": data} if not isinstance(data, dict) else data)
    try:
        parse_calendar(text, path="shape.yaml")
    except CalendarError as error:
        assert error.problems
        assert all(str(problem).startswith("shape.yaml") for problem in error.problems)


def test_alias_bomb_is_refused() -> None:
    levels = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, 10):
        refs = ",".join([f"*a{n - 1}"] * 10)
        levels.append(f"a{n}: &a{n} [{refs}]")
    text = "\n".join(levels) + "\nevents: *a9\n"
    started = time.perf_counter()
    with pytest.raises(CalendarError) as caught:
        parse_calendar(text, path="bomb.yaml")
    assert time.perf_counter() - started < 2
    # Refused for its expansion, at the first level that passes the limit, before anything else.
    (problem,) = caught.value.problems
    assert problem.line == 7  # a6 = 10^7 "lol"s
    assert "expands through its aliases (*name) to more than 2,000,000 nodes, the limit" in problem.message


def test_alias_amplified_people_are_refused_early_in_the_cli(tmp_path: Path) -> None:
    # The review's file: one event of 10,000 people repeated 20,000 times through an alias,
    # 330 KB on disk; before the fix it ran for an hour at 500 MB.
    people = ",".join(f"p{n}@acme.example" for n in range(10_000))
    lines = [
        "timezone: UTC",
        "events:",
        f"  - &e {{title: X, kind: meeting, start: 2026-11-02 10:00, people: [{people}]}}",
    ]
    path = tmp_path / "amplified.yaml"
    path.write_text("\n".join(lines + ["  - *e"] * 19_999) + "\n")
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "thankyou_scan", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert time.perf_counter() - started < 20  # about 0.3 s alone; 2 shared cores in CI
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        f"thankyou-scan: error: {path}:3: this YAML expands through its aliases (*name) to more than "
        "2,000,000 nodes, the limit — a calendar is far smaller; write repeated entries out\n"
    )


@pytest.mark.slow
def test_a_huge_events_list_is_a_clear_limit() -> None:
    text = "timezone: UTC\nevents:\n" + "  - {title: E, kind: meeting, start: 2026-11-02 10:00}\n" * 30_000
    with pytest.raises(CalendarError, match=r"'events' has 30,000 entries; the limit is 20,000"):
        parse_calendar(text, path="big.yaml")


def test_a_file_over_10_mb_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    from thankyou_scan import load_calendar

    path = tmp_path / "big.yaml"
    path.write_bytes(b"# padding\n" * 1_100_000)
    with pytest.raises(CalendarError, match="larger than 10 MB"):
        load_calendar(path)


@pytest.mark.parametrize(
    "body",
    [
        "events: 42\n",
        "events: [42]\n",
        "events: [[1, 2]]\n",
        "events: [{title: [x], kind: {a: b}, start: 5, people: 7}]\n",
        "events: [{title: X, kind: meeting, start: 2026-11-02 10:00, people: [[a], {name: [n]}, 3]}]\n",
        "timezone: 3\nevents: []\n",
        "timezone: [UTC]\nevents: []\n",
        "policies: [1]\nevents: []\n",
        "policies: {interview: {within: [1]}}\nevents: []\n",
        "me: {a: b}\nevents: []\n",
        "version: [1]\nevents: []\n",
        "? [complex, key]\n: value\nevents: []\n",
    ],
)
def test_wrong_types_everywhere_give_a_line(body: str) -> None:
    with pytest.raises(CalendarError) as caught:
        parse_calendar(body, path="types.yaml")
    assert all(problem.line is not None for problem in caught.value.problems), caught.value
