"""Report and its renderers: the JSON contract field for field, CSV columns, text and Markdown."""

from __future__ import annotations

import csv
import io
import json
import re
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


# A window-title change and a screen clear (ESC), a one-byte CSI (U+009B), BEL, a bidi override.
HOSTILE_TITLE = "Onsite\x1b]0;pwned\x07\x1b[2J\u202egnp.exe"
HOSTILE_CALENDAR = parse_calendar(
    "timezone: UTC\nevents:\n"
    '  - {id: "=1+1", title: "Onsite\\e]0;pwned\\a\\e[2J\\u202egnp.exe", kind: interview, start: 2026-11-02 10:00,'
    '     people: ["Ada\\x9b31m <ada@acme.example>", "=HYPERLINK(\\"http://evil.example\\") <bo@acme.example>"]}\n',
    path="hostile.yaml",
)
HOSTILE_REPORT = scan(
    HOSTILE_CALENDAR,
    StaticSource(
        [
            SentMessage(
                date=datetime(2026, 11, 2, 12, 0, tzinfo=UTC),
                recipients=("ada@acme.example",),
                subject="@SUM(1+1)\x1b[8m hidden",
                message_id="<h@x>",
            )
        ],
        folder="Sent\x1b[31m\x7f",
    ),
    now=NOW,
)
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize("format", ["text", "markdown", "csv", "html"])
def test_human_formats_show_control_characters_instead_of_obeying_them(format: str) -> None:
    assert HOSTILE_REPORT.followups[0].event.title == HOSTILE_TITLE
    out = render(HOSTILE_REPORT, format)
    assert not RAW_CONTROL.search(out), repr(out)
    assert "Onsite\\x1b]0;pwned\\x07\\x1b[2J\\u202egnp.exe" in out
    assert "Ada\\x9b31m" in out
    if format == "text":
        assert "Source: static Sent\\x1b[31m\\x7f — 1 sent message read" in out


def test_csv_cells_never_start_a_spreadsheet_formula() -> None:
    rows = list(csv.reader(io.StringIO(render(HOSTILE_REPORT, "csv"))))
    ada, bo = (
        next(row for row in rows if row[6] == email) for email in ("ada@acme.example", "bo@acme.example")
    )
    assert ada[0] == bo[0] == "'=1+1"
    assert ada[11] == "'@SUM(1+1)\\x1b[8m hidden"
    assert bo[5].startswith("'=HYPERLINK")
    assert ada[3] == "2026-11-02T10:00:00+00:00"  # times and numbers are ours: untouched


def test_json_keeps_the_values_and_escapes_what_json_leaves_raw() -> None:
    out = render(HOSTILE_REPORT, "json")
    assert json.loads(out) == HOSTILE_REPORT.to_dict()  # the contract's values, unchanged
    assert not RAW_CONTROL.search(out)
    assert "\\u001b]0;pwned\\u0007" in out and "\\u202e" in out and "Ada\\u009b31m" in out


def test_a_file_name_that_is_not_utf8_can_be_written() -> None:
    # Python reads the byte 0xff of a file name as the lone surrogate U+DCFF, which no UTF-8
    # output can encode: the report would fail to print or save.
    report = scan(HOSTILE_CALENDAR, StaticSource([], folder="Sent\udcff.mbox"), now=NOW)
    text, data = render(report, "text"), render(report, "json")
    assert "Source: static Sent\\xff.mbox" in text.encode("utf-8").decode()
    assert json.loads(data.encode("utf-8"))["source"]["folder"] == "Sent\udcff.mbox"  # the value, kept
