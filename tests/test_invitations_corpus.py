"""More real invitations written by others (tests/data/invitations/PROVENANCE.md), each with
the events expected from it written by hand from reading the file — never from running the
importer. One row per file (or per set of files read together, as a mailbox would hold them).

An expected event is (id, title, start, end, timezone, cancelled, people):
- start/end: ``YYYY-MM-DDTHH:MMZ`` (the instant in UTC) for a time with a zone,
  ``YYYY-MM-DDTHH:MM`` for a floating time, ``YYYY-MM-DD`` for a date (all-day; end is
  DTEND, the day after the last), None for no end;
- timezone: the IANA name written, or None (an offset, or floating);
- people: the addresses owed a note, sorted.
"""

from __future__ import annotations

import base64
import mailbox
import quopri
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from thankyou_scan import parse_calendar
from thankyou_scan.invitations.ics import ImportedEvent, InvitationSet
from thankyou_scan.invitations.mail import calendar_parts, maildir_messages, mbox_messages
from thankyou_scan.invitations.output import render_calendar
from thankyou_scan.invitations.rules import PeopleRules

UTC = timezone.utc
DATA = Path(__file__).parent / "data" / "invitations"
WINDOW = (datetime(1990, 1, 1, tzinfo=UTC), datetime(2040, 1, 1, tzinfo=UTC))

Row = tuple[str | None, str, str, str | None, str | None, bool, tuple[str, ...]]


def _moment(value: datetime | date | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, datetime):
        return value.isoformat()
    if value.tzinfo is None:
        return value.strftime("%Y-%m-%dT%H:%M")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def row(event: ImportedEvent) -> Row:
    return (
        event.id,
        event.title,
        _moment(event.start) or "",
        _moment(event.end),
        event.timezone,
        event.cancelled,
        tuple(sorted(address for _name, address in event.people)),
    )


def read_texts(texts: list[tuple[str, str]], me: tuple[str, ...]) -> list[ImportedEvent]:
    found = InvitationSet(rules=PeopleRules(me=frozenset(me)))
    for text, origin in texts:
        found.add_text(text, origin)
    return found.events(*WINDOW)


def read_files(names: tuple[str, ...], me: tuple[str, ...]) -> list[ImportedEvent]:
    return read_texts([((DATA / name).read_bytes().decode("utf-8"), name) for name in names], me)


@dataclass(frozen=True)
class Case:
    files: tuple[str, ...]
    expected: tuple[Row, ...]
    me: tuple[str, ...] = ()
    exact: bool = True
    """False: only these events are checked (by id); ``count`` then gives how many there are."""
    count: int | None = None
    absent: tuple[str, ...] = ()
    """ids that must not be there (an EXDATE, a moved occurrence)."""
    invitation: bool = True
    """Worth wrapping in an email (an invitation, not a calendar export with dozens of events)."""


ORGANIZER = ("organizer@no.where",)
EVO_ME = ("user@no.where",)


def evo_series(overrides: dict[str, Row]) -> tuple[Row, ...]:
    """invite-5.ics: weekly all-day on Wednesdays, 2018-04-25 until 2018-06-27 (UNTIL 22:00Z)."""
    days = [
        "2018-04-25",
        "2018-05-02",
        "2018-05-09",
        "2018-05-16",
        "2018-05-23",
        "2018-05-30",
        "2018-06-06",
        "2018-06-13",
        "2018-06-20",
        "2018-06-27",
    ]
    result: list[Row] = []
    for day in days:
        key = day.replace("-", "")
        next_day = date.fromordinal(date.fromisoformat(day).toordinal() + 1).isoformat()
        result.append(
            overrides.get(
                key,
                (f"invite-detached@{key}", "Recurring invite", day, next_day, None, False, ORGANIZER),
            )
        )
    return tuple(result)


def arbeit(cancel_14th: bool) -> tuple[Row, ...]:
    """khal's weekly "Arbeit": Mondays 07:00-12:00 Berlin from 2014-06-30 until 2014-08-06T06:00Z;
    the 7 July occurrence moved to 09:00-14:00."""
    uid = "event_rrule_recurrence_id"
    berlin = "Europe/Berlin"
    return (
        (f"{uid}@20140630T050000Z", "Arbeit", "2014-06-30T05:00Z", "2014-06-30T10:00Z", berlin, False, ()),
        (f"{uid}@20140707T050000Z", "Arbeit", "2014-07-07T07:00Z", "2014-07-07T12:00Z", berlin, False, ()),
        (
            f"{uid}@20140714T050000Z",
            "Arbeit",
            "2014-07-14T05:00Z",
            "2014-07-14T10:00Z",
            berlin,
            cancel_14th,
            (),
        ),
        (f"{uid}@20140721T050000Z", "Arbeit", "2014-07-21T05:00Z", "2014-07-21T10:00Z", berlin, False, ()),
        (f"{uid}@20140728T050000Z", "Arbeit", "2014-07-28T05:00Z", "2014-07-28T10:00Z", berlin, False, ()),
        (f"{uid}@20140804T050000Z", "Arbeit", "2014-08-04T05:00Z", "2014-08-04T10:00Z", berlin, False, ()),
    )


OUTLOOK1_UID = (
    "040000008200E00074C5B7101A82E00800000000907682BE2B88D501000000000000000"
    "01000000077F6CDA3B634104B9BC1ED539119F558"
)
MS_TEST_UID = (
    "040000008200E00074C5B7101A82E0080000000070DE40F38786D601000000000000000"
    "010000000D2A9BA8A3668CA4ABB2CC6838268179F"
)
MS_SUMMARY1_UID = (
    "040000008200E00074C5B7101A82E008000000007070639B9D82D601000000000000000"
    "010000000690B7C3173632247A60664DDD8E0160E"
)
MS_EITHER_UID = (
    "040000008200E00074C5B7101A82E00800000000C8CF296B9654D601000000000000000"
    "01000000031C6A267A9E4A2489CEB57D709E7A37F"
)
MS_JIRA_UID = (
    "040000008200E00074C5B7101A82E008000000008001F1896B63D301000000000000000"
    "0100000005D0552D848712746896D6C8E2E066560"
)
EXCHANGE_TZ_UID = (
    "040000008200E00074C5B7101A82E00800000000C9AB6E5A6AFED401000000000000000"
    "010000000C55132227F0F0948A7D58F6190A3AEF9"
)
OUTLOOK2007_UID = (
    "040000008200E00074C5B7101A82E00800000000900AD080B5F2C901000000000000000"
    "010000000B29680BF9E5DC246B5EDDE228038E71F"
)
LIBICAL = "calsrv.example.com-873970198738"


def weekly_outlook1() -> tuple[Row, ...]:
    """ical4android outlook1.ics: Wednesdays 09:00-09:30 W. Europe from 2019-10-23 until 2019-12-18T08:00Z."""
    result: list[Row] = []
    for day, hour in [
        ("2019-10-23", "07"),  # CEST
        ("2019-10-30", "08"),  # CET from 27 October
        ("2019-11-06", "08"),
        ("2019-11-13", "08"),
        ("2019-11-20", "08"),
        ("2019-11-27", "08"),
        ("2019-12-04", "08"),
        ("2019-12-11", "08"),
        ("2019-12-18", "08"),  # UNTIL is inclusive
    ]:
        key = day.replace("-", "") + f"T{hour}0000Z"
        result.append(
            (
                f"{OUTLOOK1_UID}@{key}",
                "Weekly Meeting - Test",
                f"{day}T{hour}:00Z",
                f"{day}T{hour}:30Z",
                "Europe/Berlin",
                False,
                (),
            )
        )
    return tuple(result)


CASES: dict[str, Case] = {
    # -- GNOME Evolution (evolution-data-server's libedata-cal tests) --------------------------
    "evolution request": Case(
        ("evolution/invite-1.ics",),
        (("invite", "Invite", "2017-03-21T12:00Z", "2017-03-21T13:00Z", "UTC", False, ORGANIZER),),
        me=EVO_ME,
    ),
    "evolution reply is not an invitation": Case(
        ("evolution/invite-2.ics",), (), me=EVO_ME, invitation=False
    ),
    "evolution request then reply then update": Case(
        ("evolution/invite-1.ics", "evolution/invite-2.ics", "evolution/invite-3.ics"),
        (("invite", "Invite (modified)", "2017-03-21T13:00Z", "2017-03-21T14:00Z", "UTC", False, ORGANIZER),),
        me=EVO_ME,
        invitation=False,
    ),
    "evolution update read before the original": Case(
        ("evolution/invite-3.ics", "evolution/invite-1.ics"),
        (("invite", "Invite (modified)", "2017-03-21T13:00Z", "2017-03-21T14:00Z", "UTC", False, ORGANIZER),),
        me=EVO_ME,
        invitation=False,
    ),
    "evolution cancel of the update (same SEQUENCE, later DTSTAMP)": Case(
        ("evolution/invite-1.ics", "evolution/invite-3.ics", "evolution/invite-4.ics"),
        (("invite", "Invite (modified)", "2017-03-21T13:00Z", "2017-03-21T14:00Z", "UTC", True, ORGANIZER),),
        me=EVO_ME,
        invitation=False,
    ),
    "evolution all-day weekly series": Case(("evolution/invite-5.ics",), evo_series({}), me=EVO_ME),
    # RECURRENCE-ID 20180502T000000Z (a UTC time) names the all-day occurrence of 2 May:
    # Evolution's own test of a detached instance. It replaces that occurrence.
    "evolution detached instance of an all-day series": Case(
        ("evolution/invite-5.ics", "evolution/invite-6.ics"),
        evo_series(
            {
                "20180502": (
                    "invite-detached@20180502",
                    "Detached instance of recurring invite",
                    "2018-05-02T13:00Z",
                    "2018-05-02T13:30Z",
                    "UTC",
                    False,
                    ORGANIZER,
                )
            }
        ),
        me=EVO_ME,
        absent=("invite-detached@20180502T000000Z",),
        invitation=False,
    ),
    "evolution two detached instances in one message": Case(
        ("evolution/invite-5.ics", "evolution/invite-7.ics"),
        evo_series(
            {
                "20180502": (
                    "invite-detached@20180502",
                    "Detached instance of recurring invite",
                    "2018-05-02T13:00Z",
                    "2018-05-02T13:30Z",
                    "UTC",
                    False,
                    ORGANIZER,
                ),
                "20180509": (
                    "invite-detached@20180509",
                    "Another detached instance of recurring invite",
                    "2018-05-09T14:00Z",
                    "2018-05-09T14:30Z",
                    "UTC",
                    False,
                    ORGANIZER,
                ),
            }
        ),
        me=EVO_ME,
        invitation=False,
    ),
    # -- khal ---------------------------------------------------------------------------------
    "khal partstat: declined and delegated left out": Case(
        ("khal/event_dt_partstat.ics",),
        (
            (
                "V042MJ8B3SJNFXQOJL6P53OFMHJE8Z3VZWOU",
                "An Event",
                "2014-04-09T07:30Z",
                "2014-04-09T08:30Z",
                "Europe/Berlin",
                False,
                ("hcabot@example.com", "jdoe@example.com", "jqpublic@example.com", "tent@example.com"),
            ),
        ),
    ),
    "khal override and a cancelled occurrence": Case(
        ("khal/event_rrule_recuid_cancelled.ics",), arbeit(cancel_14th=True), invitation=False
    ),
    "khal override before its master, and a monthly all-day series": Case(
        ("khal/mult_uids_and_recuid_no_order.ics",),
        tuple(
            sorted(
                arbeit(cancel_14th=False)
                + tuple(
                    (f"date123@{day.replace('-', '')}", "Event with Ümläutß", day, following, None, False, ())
                    for day, following in [
                        ("2013-03-01", "2013-03-02"),
                        ("2013-05-01", "2013-05-02"),
                        ("2013-07-01", "2013-07-02"),
                        ("2013-09-01", "2013-09-02"),
                        ("2013-11-01", "2013-11-02"),
                        ("2014-01-01", "2014-01-02"),
                    ]
                ),
                key=lambda r: r[2],
            )
        ),
        invitation=False,
    ),
    "khal floating time, a bare VEVENT": Case(
        ("khal/event_dt_floating.ics",),
        (("floating1234567890", "An Event", "2014-04-09T09:30", "2014-04-09T10:30", None, False, ()),),
    ),
    "khal DURATION without DTEND": Case(
        ("khal/event_dt_duration.ics",),
        (
            (
                "V042MJ8B3SJNFXQOJL6P53OFMHJE8Z3VZWOU",
                "An Event",
                "2014-04-09T07:30Z",
                "2014-04-09T08:30Z",
                "Europe/Berlin",
                False,
                ("frank@nord.tld",),
            ),
        ),
    ),
    "khal all-day over three days": Case(
        ("khal/event_d_long.ics",),
        (
            (
                "V042MJ8B3SJNFXQOJL6P53OFMHJE8Z3VZWOU",
                "Another Event",
                "2014-04-09",
                "2014-04-12",
                None,
                False,
                (),
            ),
        ),
    ),
    "khal floating RDATE": Case(
        ("khal/event_dt_rd.ics",),
        (
            (
                "V042MJ8B3SJNFXQOJL6P53OFMHJE8Z3VZWOU@20140409T093000",
                "An Event",
                "2014-04-09T09:30",
                "2014-04-09T10:30",
                None,
                False,
                (),
            ),
            (
                "V042MJ8B3SJNFXQOJL6P53OFMHJE8Z3VZWOU@20140410T093000",
                "An Event",
                "2014-04-10T09:30",
                "2014-04-10T10:30",
                None,
                False,
                (),
            ),
        ),
    ),
    "khal no UID": Case(
        ("khal/without_uid.ics",), ((None, "An Event", "2014-04-09", "2014-04-10", None, False, ()),)
    ),
    # -- DAVx5 / ical4android ------------------------------------------------------------------
    "ical4android Exchange weekly, W. Europe Standard Time": Case(
        ("ical4android/outlook1.ics",), weekly_outlook1(), invitation=False
    ),
    "ical4android Evolution's /freeassociation.sourceforge.net/ TZID": Case(
        ("ical4android/vienna-evolution.ics",),
        (
            (
                "c252087c-7354-4722-aea9-0e7d86c01a25",
                "Test-Ereignis im schönen Wien",
                "2013-10-09T15:00Z",
                "2013-10-09T16:00Z",
                "Europe/Vienna",
                False,
                (),
            ),
        ),
    ),
    "ical4android broken DTSTART (20131009T170000T) is skipped": Case(
        ("ical4android/utf8.ics",), (), invitation=False
    ),
    "ical4android all-day daily with an override": Case(
        ("ical4android/recurring-with-exception1.ics",),
        tuple(
            (
                f"fcb42e4d-bc6e-4499-97f0-6616a02da7bc@201505{day:02d}",
                "Another summary for the third day" if day == 3 else "Recurring event with one exception",
                f"2015-05-{day:02d}",
                f"2015-05-{day + 1:02d}",
                None,
                False,
                (),
            )
            for day in range(1, 6)
        ),
        invitation=False,
    ),
    # -- node-ical: Apple Calendar, Exchange / Outlook Web Access ------------------------------
    "node-ical Apple (macOS 11) events, one cancelled": Case(
        ("node-ical/tentative-apple-calendar.ics",),
        (
            (
                "31a1ffc9-9b76-465b-ae4a-cadb694c9d37",
                "Tentative",
                "2022-07-04T23:00Z",
                "2022-07-04T23:50Z",
                "UTC",
                False,
                ("tentative@example.com",),
            ),
            (
                "F00F3710-BF4D-46D3-9A2C-1037AB24C6AC",
                "Confirmed",
                "2022-07-05T16:00Z",
                "2022-07-05T17:00Z",
                "America/Vancouver",
                False,
                ("confirmed@example.com",),
            ),
            (
                "8CAB46C5-669F-4249-B1AD-52BFA72F4E0A",
                "Cancelled",
                "2022-07-06T20:00Z",
                "2022-07-06T21:00Z",
                "America/Vancouver",
                True,
                ("cancelled@example.com",),
            ),
            (
                "99F615DE-82C6-4CEF-97B8-CD0D3E1EE0D3",
                "No Status",
                "2022-07-07T16:00Z",
                "2022-07-07T17:00Z",
                "America/Vancouver",
                False,
                (),
            ),
        ),
        invitation=False,
    ),
    "node-ical Outlook Web Access display-name TZIDs without VTIMEZONE": Case(
        ("node-ical/Office-2012-owa.ics",),
        (
            (None, "TEST Syd", "2020-10-28T02:30Z", "2020-10-28T04:00Z", "Australia/Sydney", False, ()),
            (None, "TEST", "2020-10-28T17:30Z", "2020-10-28T19:00Z", "America/New_York", False, ()),
            (None, "TEST 3", "2020-11-02T18:30Z", "2020-11-02T20:00Z", "America/New_York", False, ()),
            (None, "TEST2", "2020-11-02T18:30Z", "2020-11-02T20:00Z", "America/New_York", False, ()),
            (None, "TEST2", "2020-11-05T18:30Z", "2020-11-05T20:00Z", "America/New_York", False, ()),
            (None, "TEST2", "2021-08-27T17:30Z", "2021-08-27T19:00Z", "America/New_York", False, ()),
        ),
        exact=False,
        invitation=False,
    ),
    "node-ical Exchange zones: W. Europe, Pacific; EXDATE; a broken DTSTART": Case(
        ("node-ical/ms_timezones.ics",),
        (
            (MS_TEST_UID, "test", "2020-09-10T07:00Z", "2020-09-10T07:30Z", "Europe/Berlin", False, ()),
            (
                MS_SUMMARY1_UID,
                "Not the actual summary 1",
                "2020-09-15T15:30Z",
                "2020-09-15T16:30Z",
                "America/Los_Angeles",
                False,
                (),
            ),
            (
                f"{MS_EITHER_UID}@20200707T190000Z",
                "Not the actual summary either",
                "2020-07-07T19:00Z",
                "2020-07-07T19:30Z",
                "America/Los_Angeles",
                False,
                (),
            ),
        ),
        exact=False,
        absent=(f"{MS_EITHER_UID}@20200721T190000Z", f"{MS_EITHER_UID}@20200723T190000Z", MS_JIRA_UID),
        invitation=False,
    ),
    "node-ical Exchange all-day series, an occurrence moved (RECURRENCE-ID with a TZID)": Case(
        ("node-ical/exchange_whole_day_moved_recurrence.ics",),
        (
            (
                "exchange-moved-recurrence@20260219",
                "Exchange Recurring Test",
                "2026-02-19",
                "2026-02-20",
                None,
                False,
                (),
            ),
            (
                "exchange-moved-recurrence@20260224",
                "Exchange Recurring Test",
                "2026-02-24",
                "2026-02-25",
                None,
                False,
                (),
            ),
            (
                "exchange-moved-recurrence@20260226",
                "Exchange Recurring Test",
                "2026-02-27",
                "2026-02-28",
                None,
                False,
                (),
            ),
        ),
        exact=False,
        absent=("exchange-moved-recurrence@20260226T000000Z", "exchange-moved-recurrence@20260225T230000Z"),
        invitation=False,
    ),
    "node-ical quoted mailto and quoted TZID": Case(
        ("node-ical/event-organizer-cn.ics",),
        (
            (
                "eb9e1bd2-ceba-499f-be77-f02773954c72",
                "Event with an alarm",
                "2013-04-18T18:00Z",
                "2013-04-18T19:00Z",
                "America/Los_Angeles",
                False,
                ("stomlinson@mozilla.com",),
            ),
        ),
    ),
    "node-ical Exchange display-name TZID with an escaped VTIMEZONE": Case(
        ("node-ical/exchange-custom-tz.ics",),
        (
            (
                EXCHANGE_TZ_UID,
                "Test event",
                "2019-04-30T02:00Z",
                "2019-04-30T05:00Z",
                "Asia/Bangkok",
                False,
                (),
            ),
        ),
    ),
    "node-ical Exchange 'Customized Time Zone'": Case(
        ("node-ical/bad_ms_tz.ics",),
        (
            (
                "1173422081SZR322@20200825T143500Z",
                "[private]",
                "2020-08-25T14:35Z",
                "2020-08-25T15:50Z",
                None,
                False,
                (),
            ),
            (
                "1173422081SZR322@20201105T153500Z",
                "[private]",
                "2020-11-05T15:35Z",
                "2020-11-05T16:50Z",
                None,
                False,
                (),
            ),
            (
                "1173422081SZR322@20201217T153500Z",
                "[private]",
                "2020-12-17T15:35Z",
                "2020-12-17T16:50Z",
                None,
                False,
                (),
            ),
        ),
        exact=False,
        count=34,
        invitation=False,
    ),
    "node-ical Apple iCal 1.0 with VTODO, VJOURNAL, VFREEBUSY and no VTIMEZONE": Case(
        ("node-ical/vtodo-vfreebusy.ics",),
        (
            (
                "EC9439B1-FF65-11D6-9973-003065F99D04",
                "Coffee with Jason",
                "2002-10-28T22:00Z",
                "2002-10-28T23:00Z",
                "US/Pacific",  # an IANA name (a link), as written
                False,
                (),
            ),
            (
                "EC944331-FF65-11D6-9973-003065F99D04",
                "Code Review",
                "2002-11-27T20:00Z",
                "2002-11-27T21:00Z",
                "US/Pacific",  # an IANA name (a link), as written
                False,
                (),
            ),
            (
                "EC944CFA-FF65-11D6-9973-003065F99D04",
                "Dinner with T",
                "2002-12-17T04:00Z",
                "2002-12-17T05:00Z",
                "US/Pacific",  # an IANA name (a link), as written
                False,
                (),
            ),
        ),
        invitation=False,
    ),
    # -- libical: iTIP messages one after another (RFC 2446's examples) -----------------------
    "libical incoming iTIP stream": Case(
        ("libical/incoming.ics",),
        (
            (
                f"{LIBICAL}776@example.com",
                "Conference",
                "1997-07-01T10:00Z",
                None,  # DTEND:19970701T10300Z cannot be read
                "UTC",
                False,
                ("A@example.com", "B@example.com", "D@example.com", "E@example.com"),
            ),
            (
                f"{LIBICAL}777@example.com",  # SEQUENCE 2, later DTSTAMP; the CANCEL (SEQUENCE 1) is older
                "Pool party",
                "1997-07-01T19:00Z",
                "1997-07-01T19:30Z",
                "UTC",
                False,
                ("A@example.com", "B@example.com", "D@example.com", "E@example.com"),
            ),
            (
                f"{LIBICAL}779@example.com",
                "Conference",
                "1997-07-01T19:00Z",
                "1997-07-01T19:30Z",
                "UTC",
                False,
                ("A@example.com", "B@example.com"),  # C delegated to A
            ),
            (
                "calsrv.example.com-1001@example.com",
                "Conference",
                "1997-07-01T10:00Z",
                "1997-07-01T10:30Z",
                "UTC",
                False,
                ("B@example.com",),
            ),
            (
                "calsrv.example.com-1002@example.com",
                "Conference",
                "1997-07-01T10:00Z",
                "1997-07-01T11:00Z",
                "UTC",
                False,
                ("B@example.com",),
            ),
        ),
        me=("C@example.com",),
        exact=False,
        count=5,
        invitation=False,
    ),
    # -- ical.net ---------------------------------------------------------------------------------
    "ical.net Outlook 2007 tab-folded lines, a RESOURCE room": Case(
        ("ical.net/Outlook2007LineFolds.ics",),
        (
            (
                OUTLOOK2007_UID,
                "Example Calendar Export that Blows Up DDay.iCal",
                "2009-06-21",
                "2009-06-22",
                None,
                False,
                ("event@calendardemo.net", "some.attendee@event.com", "some.attendee@somewhere.com"),
            ),
        ),
    ),
    "ical.net MEMBER and DELEGATED-FROM attendees": Case(
        ("ical.net/Attendee1.ics",),
        (
            (
                "uuid1153170430406",
                "Test event",
                "2006-07-18T10:00",
                "2006-07-18T11:00",
                None,
                False,
                ("ildoit@example.com", "joecool@example.com"),
            ),
        ),
    ),
}


def check(case: Case, events: list[ImportedEvent]) -> None:
    got = [row(event) for event in events]
    if case.exact:
        assert got == list(case.expected)
    else:
        by_id = {r[0]: r for r in got}
        for expected in case.expected:
            if expected[0] is None:
                assert expected in got
            else:
                assert by_id.get(expected[0]) == expected
        if case.count is not None:
            assert len(got) == case.count
    ids = {r[0] for r in got}
    for missing in case.absent:
        assert missing not in ids
    # every event is one the calendar loader reads back, at the same instant
    calendar = parse_calendar(render_calendar(events), path="<corpus>")
    assert len(calendar.events) == len(events)


@pytest.mark.parametrize("name", list(CASES))
def test_corpus_file(name: str) -> None:
    case = CASES[name]
    check(case, read_files(case.files, case.me))


# -- the same files as mail clients send them -----------------------------------------------------


def wrap(ics: bytes, encoding: str, *, attach: bool = False, number: int = 1) -> bytes:
    """A realistic invitation email around an .ics file: multipart/mixed > multipart/alternative
    (text/plain, text/html, text/calendar; method=…) — Google's and Outlook's layout — and, with
    ``attach``, the same file again as an ``invite.ics`` attachment (Google adds one). CRLF line ends."""
    text = ics.decode("utf-8")
    method = "REQUEST"
    for line in text.splitlines():
        if line.upper().startswith("METHOD:"):
            method = line.split(":", 1)[1].strip().upper()

    def body(data: bytes) -> bytes:
        if encoding == "base64":
            return base64.encodebytes(data)
        return quopri.encodestring(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))

    crlf = b"\r\n"
    lines = [
        b"From: Organizer <organizer@example.com>",
        b"To: You <you@example.com>",
        b"Subject: =?UTF-8?Q?Invitation=3A_caf=C3=A9?=",
        b"Date: Tue, 3 Mar 2026 10:00:00 +0000",
        f"Message-ID: <invite-{number}@example.com>".encode(),
        b"MIME-Version: 1.0",
        b'Content-Type: multipart/mixed; boundary="outer"',
        b"",
        b"--outer",
        b'Content-Type: multipart/alternative; boundary="inner"',
        b"",
        b"--inner",
        b'Content-Type: text/plain; charset="UTF-8"',
        b"Content-Transfer-Encoding: quoted-printable",
        b"",
        quopri.encodestring("You have been invited — café at 10:00.\r\n".encode()),
        b"--inner",
        b'Content-Type: text/html; charset="UTF-8"',
        b"Content-Transfer-Encoding: quoted-printable",
        b"",
        quopri.encodestring("<p>You have been invited &mdash; café</p>\r\n".encode()),
        b"--inner",
        f'Content-Type: text/calendar; charset="UTF-8"; method={method}'.encode(),
        f"Content-Transfer-Encoding: {encoding}".encode(),
        b"",
        body(ics),
        b"--inner--",
    ]
    if attach:
        lines += [
            b"--outer",
            b'Content-Type: application/ics; name="invite.ics"',
            b'Content-Disposition: attachment; filename="invite.ics"',
            b"Content-Transfer-Encoding: base64",
            b"",
            base64.encodebytes(ics),
        ]
    lines += [b"--outer--", b""]
    # encoded bodies come with LF line ends: every line ends in CRLF, as sent
    return crlf.join(line.replace(b"\r\n", b"\n").rstrip(b"\n").replace(b"\n", crlf) for line in lines)


INVITATIONS = [name for name, case in CASES.items() if case.invitation]


@pytest.mark.parametrize("encoding", ["base64", "quoted-printable"])
@pytest.mark.parametrize("name", INVITATIONS)
def test_corpus_invitation_in_an_email(name: str, encoding: str) -> None:
    case = CASES[name]
    texts = []
    for number, file in enumerate(case.files):
        raw = wrap((DATA / file).read_bytes(), encoding, attach=number == 0, number=number)
        texts += [(text, file) for text in calendar_parts(raw)]
    assert len(texts) == len(case.files) + 1  # the attachment too: the same UID, read once
    check(case, read_texts(texts, case.me))


def test_corpus_invitations_through_an_mbox_and_a_maildir(tmp_path: Path) -> None:
    """Several wrapped invitations in one mbox and one Maildir, read as `import` reads them."""
    names = ["evolution request", "khal DURATION without DTEND", "node-ical quoted mailto and quoted TZID"]
    raws = [
        wrap((DATA / CASES[name].files[0]).read_bytes(), encoding, number=number)
        for number, (name, encoding) in enumerate(
            zip(names, ["base64", "quoted-printable", "base64"], strict=True)
        )
    ]
    box = mailbox.mbox(str(tmp_path / "in.mbox"))
    folder = mailbox.Maildir(str(tmp_path / "Maildir"))
    for raw in raws:
        box.add(raw)
        folder.add(raw)
    box.flush()
    expected = sorted(r for name in names for r in CASES[name].expected)
    me = tuple(address for name in names for address in CASES[name].me)
    for messages in (mbox_messages(tmp_path / "in.mbox"), maildir_messages(tmp_path / "Maildir")):
        texts = [(text, key) for key, raw in messages for text in calendar_parts(raw)]
        assert sorted(row(event) for event in read_texts(texts, me)) == expected


@pytest.mark.parametrize(
    ("tzid", "zone"),
    [
        ("(UTC-05:00) Eastern Time (US & Canada)", "America/New_York"),
        ("(UTC-08:00) Pacific Time (US and Canada)", "America/Los_Angeles"),
        ("(GMT+10:00) Canberra, Melbourne, Sydney", "Australia/Sydney"),
        ("(UTC+01:00) Amsterdam, Berlin, Bern, Rome, Stockholm, Vienna", "Europe/Berlin"),  # CLDR's
        ("(UTC+05:30) Chennai, Kolkata, Mumbai, New Delhi", "Asia/Kolkata"),
        ("(UTC) Coordinated Universal Time", "UTC"),
        ("(UTC+07:00) Bangkok, Hanoi, Jakarta", "Asia/Bangkok"),
        ("(UTC+03:00) Sydney", None),  # the offset shown does not fit: not guessed
        ("(UTC-03:00) Brasília", None),  # no city of that name: the VTIMEZONE (if any) decides
        ("Customized Time Zone", None),
    ],
)
def test_outlook_display_name_tzids(tzid: str, zone: str | None) -> None:
    from thankyou_scan.invitations.components import zone_from_name

    assert zone_from_name(tzid) == zone
