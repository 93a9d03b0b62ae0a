"""Invitations → calendar events (issue 13): real invitations from other projects' test data
(tests/data/invitations/PROVENANCE.md), the people and kind rules, updates, cancellations,
recurrences, hostile input, and the `import` command on files."""

from __future__ import annotations

import email
import email.policy
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from helpers import RunCli
from thankyou_scan import parse_calendar
from thankyou_scan.invitations.ics import ImportedEvent, InvitationSet
from thankyou_scan.invitations.mail import calendar_parts
from thankyou_scan.invitations.output import render_calendar
from thankyou_scan.invitations.rules import Attendee, PeopleRules, guess_kind

UTC = timezone.utc
DATA = Path(__file__).parent / "data" / "invitations"
TB = DATA / "thunderbird"
WIDE = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))


def parts(name: str) -> list[str]:
    return calendar_parts((TB / name).read_bytes())


def read(
    *names: str, me: tuple[str, ...] = ("receiver@example.com",), texts: tuple[str, ...] = ()
) -> list[ImportedEvent]:
    found = InvitationSet(rules=PeopleRules(me=frozenset(me)))
    for name in names:
        for text in parts(name) if name.endswith(".eml") else [(DATA / name).read_text(encoding="utf-8")]:
            found.add_text(text, name)
    for text in texts:
        found.add_text(text, "<text>")
    return found.events(*WIDE)


def utc(event: ImportedEvent) -> datetime:
    assert isinstance(event.start, datetime)
    return event.start.astimezone(UTC)


def round_trip(events: list[ImportedEvent]) -> dict[str, object]:
    calendar = parse_calendar(render_calendar(events), path="<import>")
    return {event.id: event for event in calendar.events}


# -- real invitations ------------------------------------------------------------------


def test_a_single_invitation_names_its_people_but_not_me() -> None:
    [event] = read("single-event.eml")
    assert event.id == "02e79b96"
    assert event.title == "Single Event"
    assert utc(event) == datetime(2022, 3, 16, 11, 0, tzinfo=UTC)
    assert event.people == (("Sender", "sender@example.com"), ("Other", "other@example.com"))
    loaded = round_trip([event])["02e79b96"]
    assert loaded.start == datetime(2022, 3, 16, 11, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    assert loaded.end == datetime(2022, 3, 16, 11, 30, tzinfo=UTC)  # type: ignore[attr-defined]


def test_outlook_windows_zone_is_mapped_to_iana() -> None:
    [event] = read("outlook-test-invite.eml", me=("homer@example.org",))
    assert event.timezone == "Europe/Kiev"  # FLE Standard Time, CLDR windowsZones
    assert utc(event) == datetime(2021, 11, 27, 7, 0, tzinfo=UTC)
    assert event.people == (("Marge", "marge@example.org"),)
    loaded = round_trip([event])[event.id]
    assert loaded.start == datetime(2021, 11, 27, 7, 0, tzinfo=UTC)  # type: ignore[attr-defined]


def test_teams_invitation_keeps_attendees_and_drops_an_address_used_as_name() -> None:
    [event] = read("teams-meeting-invite.eml", me=("homer@example.com",))
    assert [email for _name, email in event.people] == ["marge@example.com", "bart@example.com"]
    text = render_calendar([event])
    assert "name: bart@eexample.com" not in text


def test_google_invitation_from_gmail() -> None:
    [event] = read("meet-meeting-invite.eml", me=("homer@example.com",))
    assert event.id == "65m17hsdolmotv3kvmrtg40ont@google.com"
    assert event.timezone == "UTC" and utc(event) == datetime(2021, 3, 22, 9, 30, tzinfo=UTC)
    assert event.people == (("example@gmail.com", "example@gmail.com"),)


@pytest.mark.parametrize(
    "order", [("single-event.eml", "update-major.eml"), ("update-major.eml", "single-event.eml")]
)
def test_the_higher_sequence_wins_in_any_order(order: tuple[str, str]) -> None:
    single = parts("single-event.eml")[0]
    found = InvitationSet(rules=PeopleRules(me=frozenset({"receiver@example.com"})))
    for name in order:
        found.add_text(single if name == "single-event.eml" else parts(name)[0], name)
    [event] = found.events(*WIDE)
    assert utc(event) == datetime(2022, 3, 16, 5, 0, tzinfo=UTC)  # SEQUENCE:2 moved it


def test_a_cancellation_marks_the_event_cancelled() -> None:
    single = parts("single-event.eml")[0]
    [event] = read("cancel-single-event.eml", texts=(single,))
    assert event.cancelled
    assert "cancelled: true" in render_calendar([event])


def test_recurring_invitation_expands_with_ids_per_occurrence() -> None:
    events = read("repeat-event.eml")
    assert [event.id for event in events] == [
        "02e79b96@20220316T110000Z",
        "02e79b96@20220317T110000Z",
        "02e79b96@20220318T110000Z",
    ]
    assert len(round_trip(events)) == 3


def test_an_override_moves_one_occurrence() -> None:
    events = read("repeat-event.eml", "exception-major.eml")
    moved = {event.id: utc(event) for event in events}
    assert moved["02e79b96@20220317T110000Z"] == datetime(2022, 3, 17, 5, 0, tzinfo=UTC)
    assert moved["02e79b96@20220316T110000Z"] == datetime(2022, 3, 16, 11, 0, tzinfo=UTC)


def test_a_cancel_without_dtstart_cancels_the_whole_series() -> None:
    events = read("repeat-event.eml", "cancel-repeat-event.eml")
    assert events and all(event.cancelled for event in events)


def test_exdate_leaves_occurrences_out() -> None:
    found = InvitationSet()
    found.add_text((DATA / "recurring-ical-events" / "issue_20_exdate_ignored.ics").read_text(), "x")
    starts = [event.start.date() for event in found.events(*WIDE) if isinstance(event.start, datetime)]
    assert starts and all(day.day != 26 or day.month != 11 for day in starts)
    assert len(starts) == len(set(starts))


def test_outlook_pacific_standard_time_without_our_table() -> None:
    found = InvitationSet()
    found.add_text((DATA / "icalendar" / "timezone_same_start.ics").read_text(), "x")
    [event] = found.events(*WIDE)
    assert event.timezone == "America/Los_Angeles"
    assert utc(event) == datetime(2017, 2, 24, 20, 0, tzinfo=UTC)


def test_a_zone_known_only_by_its_vtimezone_is_written_with_an_offset() -> None:
    found = InvitationSet()
    found.add_text((DATA / "icalendar" / "issue_165_missing_event.ics").read_text(), "x")
    [event] = found.events(*WIDE)  # its RRULE is broken (BYDAY=MO, TU): the first occurrence is kept
    assert event.timezone is None
    assert "start: 2015-07-03 10:00+02:00" in render_calendar([event])


def test_all_day_and_duration_without_dtend() -> None:
    found = InvitationSet()
    found.add_text((DATA / "recurring-ical-events" / "duration.ics").read_text(), "x")
    events = found.events(*WIDE)
    text = render_calendar(events)
    assert "start: '2018-01-10'\n    duration: 3d" in text
    assert "start: 2018-01-15 10:00\n    end: 2018-01-15 13:00" in text
    assert len(parse_calendar(text).events) == len(events)


def test_google_export_round_trips_to_the_same_utc_times() -> None:
    found = InvitationSet()
    found.add_text((DATA / "recurring-ical-events" / "machbar_16_feb_2019.ics").read_text(), "x")
    events = found.events(*WIDE)
    loaded = round_trip(events)
    for event in events:
        if isinstance(event.start, datetime):
            assert loaded[event.id].start == utc(event)  # type: ignore[attr-defined]


# -- the people rules --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("attendee", "reason"),
    [
        (Attendee("ada@acme.example", "Ada"), None),
        (Attendee("me@gmail.com"), "you"),
        (Attendee("M.E+jobs@googlemail.com"), "you"),
        (Attendee("room1@acme.example", cutype="ROOM"), "a room or resource"),
        (Attendee("projector@acme.example", cutype="RESOURCE"), "a room or resource"),
        (Attendee("team@acme.example", cutype="GROUP"), "a group"),
        (Attendee("bob@acme.example", partstat="DECLINED"), "declined"),
        (Attendee("iamboss@acme.example", partstat="DELEGATED"), "delegated it to someone else"),
        (Attendee("calendar-notification@google.com"), "a scheduling robot or no-reply address"),
        (Attendee("no-reply@calendly.com"), "a scheduling robot or no-reply address"),
        (Attendee("noreply+abc@acme.example"), "a scheduling robot or no-reply address"),
        (
            Attendee("acme.com_3834@resource.calendar.google.com", "Room 4B"),
            "a calendar, room or resource of Google Calendar",
        ),
        (Attendee("confroom-4b@acme.example", "Conference Room 4B"), "a room"),
        (Attendee("", "Somebody"), "no email address"),
    ],
)
def test_people_rules(attendee: Attendee, reason: str | None) -> None:
    rules = PeopleRules(me=frozenset({"me@gmail.com"}))
    assert rules.left_out(attendee) == reason


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("Interview with Acme", "interview"),
        ("Phone Screen – Initech", "interview"),
        ("Onsite: Hooli", "interview"),
        ("Panel interviews", "interview"),
        ("Coffee with Sam", "networking"),
        ("Career Fair 2026", "networking"),
        ("PyData meetup", "networking"),
        ("Weekly sync", "meeting"),
        ("Screenshare setup", "meeting"),
    ],
)
def test_kind_from_title(title: str, kind: str) -> None:
    assert guess_kind(title) == kind


def test_an_invitation_i_declined_is_left_out() -> None:
    text = parts("single-event.eml")[0].replace(
        "PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:receiver", "PARTSTAT=DECLINED;RSVP=TRUE:mailto:receiver"
    )
    assert read(texts=(text,)) == []


def test_replies_are_not_invitations() -> None:
    text = parts("single-event.eml")[0].replace("METHOD:REQUEST", "METHOD:REPLY")
    assert read(texts=(text,)) == []


# -- hostile invitations ---------------------------------------------------------------------

BASE = """BEGIN:VCALENDAR
VERSION:2.0
METHOD:REQUEST
BEGIN:VEVENT
UID:hostile-1
DTSTAMP:20260101T000000Z
DTSTART:20260301T100000Z
DTEND:20260301T110000Z
{extra}
END:VEVENT
END:VCALENDAR
"""


def hostile(extra: str) -> tuple[list[ImportedEvent], InvitationSet]:
    found = InvitationSet()
    found.add_text(BASE.replace("{extra}", extra), "<hostile>")
    return found.events(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC)), found


def test_control_characters_and_markup_stay_one_loadable_string() -> None:
    events, _ = hostile(
        'SUMMARY:Interview\\n<script>alert(1)</script> "x": [y] # \x1b[31mred\x07\n'
        "ATTENDEE;CN=\"Ev<b>il</b>: - [a] #x 'y'\":mailto:evil@acme.example"
    )
    loaded = parse_calendar(render_calendar(events)).events
    assert len(loaded) == 1
    assert "\x1b" not in loaded[0].title and "<script>" in loaded[0].title
    assert (loaded[0].people[0].name, loaded[0].people[0].email) == (
        "Ev<b>il</b>: - [a] #x 'y'",
        "evil@acme.example",
    )


def test_an_endless_secondly_rule_is_skipped_quickly() -> None:
    began = time.monotonic()
    events, _found = hostile("SUMMARY:x\nRRULE:FREQ=SECONDLY;COUNT=1000000000")
    assert time.monotonic() - began < 5
    assert len(events) <= 1000


def test_a_rule_from_long_ago_is_refused_not_expanded() -> None:
    began = time.monotonic()
    text = BASE.replace("DTSTART:20260301T100000Z", "DTSTART:19000101T000000Z").replace(
        "{extra}", "SUMMARY:x\nRRULE:FREQ=MINUTELY;BYSECOND=1,2,3,4,5"
    )
    found = InvitationSet()
    found.add_text(text, "<hostile>")
    assert found.events(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC)) == []
    assert found.skipped == 1
    assert time.monotonic() - began < 5


def test_ten_thousand_attendees_are_capped() -> None:
    attendees = "\n".join(f"ATTENDEE;CN=P{n}:mailto:p{n}@acme.example" for n in range(10_000))
    began = time.monotonic()
    events, _ = hostile("SUMMARY:x\n" + attendees)
    assert len(events[0].people) == 500
    assert time.monotonic() - began < 20


@pytest.mark.parametrize(
    "extra",
    [
        "SUMMARY:x\nATTENDEE:urn:uuid:1234\nATTENDEE:invalid:nomail\nATTENDEE:mailto:not-an-address",
        "SUMMARY:x\nDTSTART;TZID=Not/AZone:20260301T100000",
        "SUMMARY:x\nRRULE:FREQ=FORTNIGHTLY",
        "SUMMARY:x\nRRULE:garbage",
        "SUMMARY:x\nSEQUENCE:99999999999999999999",
        "SUMMARY:x\nDURATION:P100000W",
    ],
)
def test_odd_values_never_raise(extra: str) -> None:
    events, _found = hostile(extra)
    if events:
        assert parse_calendar(render_calendar(events)).events


def test_missing_dtstart_is_skipped_with_a_count() -> None:
    found = InvitationSet()
    found.add_text(BASE.replace("DTSTART:20260301T100000Z\n", "").replace("{extra}", "SUMMARY:x"), "<x>")
    assert found.events(*WIDE) == [] and found.skipped == 1


@pytest.mark.parametrize(
    "text",
    [
        "BEGIN:VCALENDAR\n" + "BEGIN:VEVENT\n" * 5000 + "END:VEVENT\n" * 5000 + "END:VCALENDAR\n",
        "BEGIN:VCALENDAR\n" + "BEGIN:VEVENT\nUID:x\nEND:VEVENT\n" * 5000 + "END:VCALENDAR\n",
        "not a calendar at all",
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:2026\x00\nEND:VEVENT\n",
        "",
    ],
)
def test_broken_texts_are_skipped(text: str) -> None:
    found = InvitationSet()
    found.add_text(text, "<x>")
    assert found.events(*WIDE) == []


# -- the command ----------------------------------------------------------------------------

NOW = "2022-03-20T00:00:00Z"


def maildir(tmp_path: Path, *names: str) -> Path:
    root = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    for name in names:
        (root / "cur" / name).write_bytes((TB / name).read_bytes())
    return root


def test_import_from_a_maildir(run_cli: RunCli, tmp_path: Path) -> None:
    root = maildir(tmp_path, "repeat-event.eml", "exception-major.eml", "message-non-invite.eml")
    code, out, err = run_cli("import", "--maildir", str(root), "--since", "2022-03-01", "--now", NOW,
                             "--me", "receiver@example.com")  # fmt: skip
    assert code == 0, err
    calendar = parse_calendar(out)
    assert [event.id for event in calendar.events][:3] == [
        "02e79b96@20220316T110000Z",
        "02e79b96@20220317T110000Z",
        "02e79b96@20220318T110000Z",
    ]


def test_import_from_an_mbox(run_cli: RunCli, tmp_path: Path) -> None:
    mbox = tmp_path / "in.mbox"
    with open(mbox, "wb") as handle:
        for name in ("single-event.eml", "outlook-test-invite.eml", "teams-meeting-invite.eml"):
            handle.write(b"From someone@example.com Mon Mar 14 10:00:00 2022\n")
            handle.write((TB / name).read_bytes().rstrip(b"\n") + b"\n\n")
    code, out, err = run_cli("import", "--mbox", str(mbox), "--since", "2020-01-01", "--now", NOW)
    assert code == 0, err
    titles = [event.title for event in parse_calendar(out).events]
    assert titles == ["Teams meeting", "Testaus", "Single Event"]


def test_import_ics_files_and_a_missing_one(run_cli: RunCli) -> None:
    good = str(DATA / "icalendar" / "timezone_same_start.ics")
    code, out, err = run_cli(
        "import", "--ics", good, "--since", "2017-01-01", "--now", "2017-03-01T00:00:00Z"
    )
    assert code == 0, err
    assert "timezone: America/Los_Angeles" in out
    code, out, err = run_cli("import", "--ics", good, "/nonexistent/x.ics")
    assert code == 2 and "--ics /nonexistent/x.ics: no such file" in err and out == ""


def test_calendar_filters_known_ids_and_append_adds_each_once(run_cli: RunCli, tmp_path: Path) -> None:
    root = maildir(tmp_path, "repeat-event.eml")
    calendar = tmp_path / "calendar.yaml"
    original = (
        b"# my calendar\nversion: 1\ntimezone: UTC\nevents:\n"
        b"  - id: 02e79b96@20220316T110000Z   # typed by hand\n    title: First\n    kind: interview\n"
        b"    start: 2022-03-16 11:00\n    people: [ada@acme.example]\n# the end\n"
    )
    calendar.write_bytes(original)
    args = (
        "import",
        "--maildir",
        str(root),
        "--since",
        "2022-03-01",
        "--now",
        NOW,
        "--calendar",
        str(calendar),
    )
    code, out, err = run_cli(*args)
    assert code == 0, err
    assert [event.id for event in parse_calendar(out).events] == [
        "02e79b96@20220317T110000Z",
        "02e79b96@20220318T110000Z",
    ]
    code, out, err = run_cli(*args, "--append")
    assert code == 0, err
    after = calendar.read_bytes()
    assert after.startswith(original)
    assert len(parse_calendar(after.decode()).events) == 3
    code, out, err = run_cli(*args, "--append")
    assert code == 0 and calendar.read_bytes() == after


def test_append_refuses_a_flow_list(run_cli: RunCli, tmp_path: Path) -> None:
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text("version: 1\nevents: []\n")
    root = maildir(tmp_path, "single-event.eml")
    code, _out, err = run_cli("import", "--maildir", str(root), "--since", "2022-03-01", "--now", NOW,
                              "--calendar", str(calendar), "--append")  # fmt: skip
    assert code == 2 and "events:" in err
    assert calendar.read_text() == "version: 1\nevents: []\n"


def test_check_and_scan_accept_an_ics_calendar(run_cli: RunCli, tmp_path: Path) -> None:
    ics = tmp_path / "export.ics"
    ics.write_text(parts("single-event.eml")[0])
    code, out, err = run_cli("check", str(ics))
    assert code == 0, err
    assert "Single Event" in out
    mbox = tmp_path / "sent.mbox"
    mbox.write_bytes(
        b"From me@example.com Thu Mar 17 10:00:00 2022\nFrom: receiver@example.com\nTo: other@example.com\n"
        b"Subject: Thanks\nDate: Thu, 17 Mar 2022 10:00:00 +0000\nMessage-ID: <t@x>\n\nThanks!\n\n"
    )
    code, out, err = run_cli("scan", "--calendar", str(ics), "--mbox", str(mbox), "--me", "receiver@example.com",
                             "--now", NOW, "--format", "json")  # fmt: skip
    import json

    statuses = {f["person"]["email"]: f["status"] for f in json.loads(out)["followups"]}
    assert statuses == {"sender@example.com": "missing", "other@example.com": "sent"}


def test_other_commands_do_not_load_icalendar() -> None:
    import subprocess
    import sys

    code = "import sys; from thankyou_scan.cli import build_parser; build_parser(); print('icalendar' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_a_real_invitation_in_an_email_message() -> None:
    message = email.message_from_bytes(
        (TB / "outlook-test-invite.eml").read_bytes(), policy=email.policy.default
    )
    assert message.get_content_type() == "multipart/alternative"
    assert len(parts("outlook-test-invite.eml")) == 1
    assert len(parts("message-non-invite.eml")) == 1  # an .ics attached to a plain mail is read too
