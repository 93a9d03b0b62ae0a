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
        def sent_messages(self, since: object = None, until: object = None, *, relevant: object = None):  # type: ignore[no-untyped-def,override]
            raise AssertionError("no mail should be read")

    report = scan(calendar, Exploding([]), now=datetime(2026, 11, 20, tzinfo=UTC))
    assert report.followups == ()
    assert report.source.messages_scanned == 0


def test_source_is_asked_for_a_window_with_a_day_of_slack() -> None:
    asked: list[tuple[object, object]] = []

    class Recording(StaticSource):
        def sent_messages(self, since=None, until=None, *, relevant=None):  # type: ignore[no-untyped-def]
            asked.append((since, until))
            return super().sent_messages(since, until, relevant=relevant)

    now = datetime(2026, 11, 20, tzinfo=UTC)
    scan(CALENDAR, Recording([]), now=now)
    assert asked == [(datetime(2026, 10, 31, 4, 30, tzinfo=UTC), now)]
