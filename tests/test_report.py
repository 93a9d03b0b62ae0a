"""Report and its renderers: the JSON contract field for field, CSV columns, text and Markdown."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from datetime import datetime, timezone

import pytest

from thankyou_scan import SentMessage, StaticSource, UsageError, parse_calendar, render, scan

UTC = timezone.utc
NOW = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)

CALENDAR = parse_calendar(
    textwrap.dedent(
        """\
        timezone: America/New_York
        events:
          - id: acme-onsite
            title: Onsite interview, Acme
            kind: interview
            start: 2026-11-02 10:00
            end: 2026-11-02 14:00
            domain: acme.example
            people:
              - Ada Lovelace <ada@acme.example>
              - Bob Recruiter
              - Grace Hopper <grace@acme.example>
          - id: sync
            title: Sync | weekly
            kind: meeting
            start: 2026-11-04 09:00
            people: [Pat <pat@example.com>]
          - id: meetup
            title: Meetup
            kind: networking
            start: 2026-11-05 18:00
            people: [Kim <kim@example.com>]
          - id: lunch
            title: Lunch
            kind: meeting
            start: 2026-11-01 12:00
            follow_up: false
            people: [Lu <lu@example.com>]
        """
    ),
    path="cal.yaml",
)
THANKS = SentMessage(
    date=datetime(2026, 11, 2, 23, 41, 5, tzinfo=UTC),
    recipients=("ada@acme.example", "recruiting@acme.example"),
    subject="Thank you — onsite",
    message_id="<t1@example.com>",
)
LATE = SentMessage(
    date=datetime(2026, 11, 5, 10, 0, tzinfo=UTC),
    recipients=("grace@acme.example",),
    subject="Sorry for the delay",
    message_id="<t2@example.com>",
)
REPORT = scan(CALENDAR, StaticSource([THANKS, LATE], folder="Sent", skipped=1), now=NOW)


def test_json_report_is_the_contract_field_for_field() -> None:
    data = json.loads(render(REPORT, "json"))
    onsite = {
        "id": "acme-onsite",
        "title": "Onsite interview, Acme",
        "kind": "interview",
        "start": "2026-11-02T15:00:00+00:00",
        "end": "2026-11-02T19:00:00+00:00",
    }
    thanks = {
        "date": "2026-11-02T23:41:05+00:00",
        "subject": "Thank you — onsite",
        "message_id": "<t1@example.com>",
        "hours_after_end": 4.68,
    }
    assert data == {
        "version": 1,
        "now": "2026-11-05T12:00:00+00:00",
        "source": {"kind": "static", "folder": "Sent", "messages_scanned": 2, "messages_skipped": 1},
        "summary": {"sent": 2, "late": 1, "missing": 0, "due": 1, "upcoming": 1, "skipped": 1},
        "followups": [
            {
                "event": {
                    "id": "lunch",
                    "title": "Lunch",
                    "kind": "meeting",
                    "start": "2026-11-01T17:00:00+00:00",
                    "end": "2026-11-01T18:00:00+00:00",
                },
                "person": {"name": "Lu", "email": "lu@example.com"},
                "status": "skipped",
                "deadline": None,
                "hours_left": None,
                "message": None,
            },
            {
                "event": onsite,
                "person": {"name": "Ada Lovelace", "email": "ada@acme.example"},
                "status": "sent",
                "deadline": "2026-11-04T19:00:00+00:00",
                "hours_left": None,
                "message": {**thanks, "matched_by": "address"},
            },
            {
                "event": onsite,
                "person": {"name": "Bob Recruiter", "email": None},
                "status": "sent",
                "deadline": "2026-11-04T19:00:00+00:00",
                "hours_left": None,
                "message": {**thanks, "matched_by": "domain"},
            },
            {
                "event": onsite,
                "person": {"name": "Grace Hopper", "email": "grace@acme.example"},
                "status": "late",
                "deadline": "2026-11-04T19:00:00+00:00",
                "hours_left": None,
                "message": {
                    "date": "2026-11-05T10:00:00+00:00",
                    "subject": "Sorry for the delay",
                    "message_id": "<t2@example.com>",
                    "matched_by": "address",
                    "hours_after_end": 63.0,
                },
            },
            {
                "event": {
                    "id": "sync",
                    "title": "Sync | weekly",
                    "kind": "meeting",
                    "start": "2026-11-04T14:00:00+00:00",
                    "end": "2026-11-04T15:00:00+00:00",
                },
                "person": {"name": "Pat", "email": "pat@example.com"},
                "status": "due",
                "deadline": "2026-11-05T15:00:00+00:00",
                "hours_left": 3.0,
                "message": None,
            },
            {
                "event": {
                    "id": "meetup",
                    "title": "Meetup",
                    "kind": "networking",
                    "start": "2026-11-05T23:00:00+00:00",
                    "end": "2026-11-06T01:00:00+00:00",
                },
                "person": {"name": "Kim", "email": "kim@example.com"},
                "status": "upcoming",
                "deadline": "2026-11-08T01:00:00+00:00",
                "hours_left": None,
                "message": None,
            },
        ],
    }


def test_csv_has_the_documented_columns_and_one_row_per_followup() -> None:
    rows = list(csv.reader(io.StringIO(render(REPORT, "csv"))))
    assert rows[0] == (
        "event_id,event_title,kind,event_start,event_end,person_name,person_email,status,"
        "deadline,hours_left,message_date,message_subject,matched_by"
    ).split(",")
    assert len(rows) == 1 + len(REPORT.followups)
    assert rows[3] == [
        "acme-onsite", "Onsite interview, Acme", "interview", "2026-11-02T15:00:00+00:00", "2026-11-02T19:00:00+00:00",
        "Bob Recruiter", "", "sent", "2026-11-04T19:00:00+00:00", "", "2026-11-02T23:41:05+00:00",
        "Thank you — onsite", "domain",
    ]  # fmt: skip
    assert rows[5][7:10] == ["due", "2026-11-05T15:00:00+00:00", "3.0"]


def test_text_puts_action_first_in_the_calendars_zone() -> None:
    text = render(REPORT, "text")
    headings = [line.split(" (")[0] for line in text.splitlines() if line[:1].isupper() and "(" in line]
    assert headings == ["DUE", "LATE", "SENT", "UPCOMING", "SKIPPED"]
    assert "Wed 04 Nov 2026 09:00 EST" in text  # the sync, shown in New York time
    assert "3.0 h left" in text
    assert "(by domain)" in text
    assert text.rstrip().endswith("Summary: 2 sent, 1 late, 0 missing, 1 due, 1 upcoming, 1 skipped")


def test_markdown_is_a_table_with_escaped_cells() -> None:
    lines = render(REPORT, "markdown").splitlines()
    table = [line for line in lines if line.startswith("|")]
    assert table[0] == "| Status | Event | When | Person | Details |"
    assert len(table) == 2 + len(REPORT.followups)
    assert any("Sync \\| weekly" in row for row in table)
    assert all(row.count(" | ") == 4 for row in table[2:] if "Sync" not in row)


def test_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown format 'yaml'"):
        render(REPORT, "yaml")
