"""scan() end to end on files: DST, far-away zones, Cc/Bcc and encoded names together."""

from __future__ import annotations

import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

from helpers import raw_message, write_mbox
from thankyou_scan import MboxSource, StaticSource, Status, parse_calendar, scan

UTC = timezone.utc

# 2026-11-01 00:30 EDT + 2h ends at 01:30 EST (06:30 UTC): the clocks went back in between.
CALENDAR = parse_calendar(
    textwrap.dedent(
        """\
        timezone: America/New_York
        events:
          - id: late-show
            title: Late networking
            kind: networking
            start: 2026-11-01 00:30
            duration: 2h
            follow_up: {within: 24h}
            people:
              - Zoë <zoe@club.example>
              - Kai <kai@club.example>
        """
    ),
    path="cal.yaml",
)


@pytest.mark.parametrize(
    ("date", "status"),
    [
        ("Mon, 2 Nov 2026 15:29:59 +0900", Status.SENT),  # 06:29:59 UTC, a second before the deadline
        ("Mon, 2 Nov 2026 15:30:00 +0900", Status.SENT),  # exactly at the deadline
        ("Mon, 2 Nov 2026 15:30:01 +0900", Status.LATE),
        ("Sun, 1 Nov 2026 00:31:00 -0400", Status.SENT),  # during the event, in summer time
        ("Sun, 1 Nov 2026 00:29:00 -0400", Status.MISSING),  # before it started
    ],
)
def test_deadline_to_the_second_across_dst_and_zones(tmp_path: Path, date: str, status: Status) -> None:
    event = CALENDAR.events[0]
    assert event.end == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    mbox = write_mbox(
        tmp_path / "Sent.mbox",
        [
            (
                "Mon Nov 02 06:00:00 +0000 2026",
                raw_message(
                    to="Someone <x@y.example>", bcc="=?utf-8?q?Zo=C3=AB?= <ZOE@club.example>", date=date
                ),
            )
        ],
    )
    report = scan(CALENDAR, MboxSource(mbox), now=datetime(2026, 11, 20, tzinfo=UTC))
    by_name = {f.person.email: f.status for f in report.followups}
    assert by_name["zoe@club.example"] is status
    assert by_name["kai@club.example"] is Status.MISSING


def test_calendar_without_events_needing_notes_reads_no_mail() -> None:
    calendar = parse_calendar("timezone: UTC\nevents: []\n")

    class Exploding(StaticSource):
        def sent_messages(self, since: object = None, *, relevant: object = None):  # type: ignore[no-untyped-def,override]
            raise AssertionError("no mail should be read")

    report = scan(calendar, Exploding([]), now=datetime(2026, 11, 20, tzinfo=UTC))
    assert report.followups == ()
    assert report.source.messages_scanned == 0


def test_source_is_asked_for_a_window_with_a_day_of_slack() -> None:
    asked: list[object] = []

    class Recording(StaticSource):
        def sent_messages(self, since=None, *, relevant=None):  # type: ignore[no-untyped-def]
            asked.append(since)
            return super().sent_messages(since, relevant=relevant)

    now = datetime(2026, 11, 20, tzinfo=UTC)
    scan(CALENDAR, Recording([]), now=now)
    assert asked == [datetime(2026, 10, 31, 4, 30, tzinfo=UTC)]


# -- reports that look wrong say so (issue 9) -----------------------------------------------

ONE_EVENT = parse_calendar(
    "version: 1\ntimezone: UTC\nevents:\n"
    "  - {title: Onsite, kind: interview, start: 2026-11-02 10:00, people: [ada@acme.example]}\n"
)
NOW = datetime(2026, 11, 10, tzinfo=UTC)


def test_no_sent_mail_read_at_all_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="thankyou_scan"):
        report = scan(ONE_EVENT, StaticSource([], folder="Sent"), now=NOW)
    assert [f.status for f in report.followups] == [Status.MISSING]
    assert any("no sent message was read from static Sent" in w for w in report.warnings)
    assert "no sent message was read" in caplog.text


def test_sent_mail_to_nobody_in_the_calendar_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    from thankyou_scan import SentMessage

    elsewhere = [SentMessage(datetime(2026, 11, 3, tzinfo=UTC), (f"x{n}@else.example",)) for n in range(3)]
    source = StaticSource(elsewhere)
    with caplog.at_level("WARNING", logger="thankyou_scan"):
        report = scan(ONE_EVENT, source, now=NOW)
    assert any(
        "3 sent messages were read" in w and "none of them went to anybody" in w for w in report.warnings
    )
    # ... and nothing is said when the report looks right
    to_ada = SentMessage(datetime(2026, 11, 3, tzinfo=UTC), ("ada@acme.example",))
    assert scan(ONE_EVENT, StaticSource([*elsewhere, to_ada]), now=NOW).warnings == ()
