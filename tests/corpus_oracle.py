"""An independent reading of a corpus: docs/report.md applied literally, without thankyou_scan.

Two halves, both small enough to check by eye:

* ``read_message``: what a message says, with the standard library only —
  ``email.message_from_bytes`` (compat32), ``email.utils.getaddresses`` over *every*
  To, Cc and Bcc field, ``email.utils.parsedate_to_datetime`` for the first Date field;
  a missing, zone-less or unreadable Date gives way to the mailbox's delivery time.
* ``expected_followups``: the matching rules of docs/report.md over those readings.

``python tests/corpus_oracle.py [FOLDER]`` (default tests/data/corpus; also
tests/data/corpus2) rewrites the folder's readings.json (one entry per message, the hand
decisions of its hand_decisions.json applied) and expected.json (the report). The tests
use the committed files and ``expected_followups`` (for the subset an IMAP server could
hold); nothing here imports thankyou_scan.
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import inspect
import json
import re
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

UTC = timezone.utc
CORPORA = (Path(__file__).parent / "data" / "corpus", Path(__file__).parent / "data" / "corpus2")
CORPUS = CORPORA[0]
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
GMAIL = {"gmail.com", "googlemail.com"}
# Newer Pythons read malformed lists strictly unless told not to; the oracle reads leniently everywhere.
LENIENT = {"strict": False} if "strict" in inspect.signature(email.utils.getaddresses).parameters else {}

# parsedate_to_datetime returns a naive time for "-0000" as for no zone at all; RFC 5322
# (3.3) says such a time is in UTC (only the sender's own zone is unknown), so it has a zone.
NEGATIVE_ZERO = re.compile(r"\s-0000\s*(\([^()]*\)\s*)?$")
# RFC 5322 4.3: an alphabetic zone other than these (JST, CET, AST, a military letter but
# "J") "SHOULD all be considered equivalent to -0000", i.e. UTC. parsedate gives a naive
# time for most of them (and reads AST/ADT as Atlantic time), so a Date of RFC 5322's
# shape (comments dropped) that ends in such a zone is read as UTC.
NAMED_ZONES = {"UT", "GMT", "EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT"}
# A Date not of RFC 5322's shape (comments dropped) is unreadable, even where parsedate reads
# it: an offset written otherwise than +HHMM/-HHMM ("-600"), a one-digit hour ("2:32:53").
RFC_DATE = re.compile(
    r"(?:[A-Za-z]{3} ?, ?)?\d{1,2} [A-Za-z]{3} \d{2,} \d{2} ?: ?\d{2}(?: ?: ?\d{2})? ([+-]\d{4}|[A-Za-z]+)"
)

# -- reading messages ----------------------------------------------------------------


def normalize(address: str) -> str:
    """docs/report.md: case-insensitive; gmail.com/googlemail.com also without dots and +tags."""
    local, _, domain = address.strip().lower().rpartition("@")
    if domain in GMAIL:
        local = local.split("+", 1)[0].replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"


def read_message(raw: bytes, delivered: datetime) -> dict[str, Any]:
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    values = [str(v) for field in ("To", "Cc", "Bcc") for v in (message.get_all(field) or [])]
    found = email.utils.getaddresses(values, **LENIENT)
    # An address has a local part and a domain: "@x.example" and "x@" are not addresses.
    recipients = sorted({normalize(a) for _name, a in found if a.rpartition("@")[0] and a.rpartition("@")[2]})
    moment, date_from = None, "delivery"
    header = message["Date"]
    if header is not None:
        try:
            parsed = email.utils.parsedate_to_datetime(str(header))
            if parsed.tzinfo is None and NEGATIVE_ZERO.search(str(header)):
                parsed = parsed.replace(tzinfo=UTC)  # RFC 5322 3.3: -0000 is UTC, sender's zone unknown
            if other_alphabetic_zone(str(header)):
                parsed = parsed.replace(tzinfo=UTC)  # RFC 5322 4.3: as -0000
            if RFC_DATE.fullmatch(without_comments(str(header))) is None:
                parsed = parsed.replace(tzinfo=None)
            if parsed.tzinfo is not None:
                moment, date_from = parsed.astimezone(UTC), "header"
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    moment = moment or delivered
    message_id = message["Message-ID"]
    return {
        "recipients": recipients,
        "date": moment.isoformat(timespec="seconds"),
        "date_from": date_from,
        "message_id": " ".join(str(message_id).split()) if message_id is not None else None,
    }


def other_alphabetic_zone(header: str) -> bool:
    """Whether the Date is RFC 5322's date-time with an alphabetic zone of no known meaning."""
    shape = RFC_DATE.fullmatch(without_comments(header))
    zone = shape.group(1).upper() if shape is not None else ""
    return zone.isalpha() and zone not in NAMED_ZONES | {"J"}


def without_comments(header: str) -> str:
    return " ".join(re.sub(r"\([^()]*\)", " ", header).split())


def provenance(corpus: Path = CORPUS) -> list[dict[str, str]]:
    lines = (corpus / "PROVENANCE.tsv").read_text(encoding="utf-8").splitlines()
    names = lines[0].split("\t")
    return [dict(zip(names, line.split("\t"), strict=True)) for line in lines[1:]]


def delivered(row: dict[str, str]) -> datetime:
    return datetime.strptime(row["delivered"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def hand_decisions(corpus: Path = CORPUS) -> dict[str, dict[str, Any]]:
    """A careful human reading wins over the parser: file -> fields to override, with the reason
    ("why"). Each is in the corpus's hand_decisions.json and described in its PROVENANCE.md."""
    decisions: dict[str, dict[str, Any]] = json.loads((corpus / "hand_decisions.json").read_text("utf-8"))
    return decisions


def read_corpus(corpus: Path = CORPUS) -> dict[str, dict[str, Any]]:
    readings = {}
    decisions = hand_decisions(corpus)
    for row in provenance(corpus):
        reading = read_message((corpus / "messages" / row["file"]).read_bytes(), delivered(row))
        decision = decisions.get(row["file"], {})
        reading.update({k: v for k, v in decision.items() if k != "why"})
        readings[row["file"]] = reading
    return readings


# -- the calendar (the subset of docs/calendar.md that calendar.yaml uses, read literally) --

POLICY = {"interview": 48, "networking": 48, "meeting": 24}
DEFAULT_LENGTH = {"networking": 2}


@dataclass(frozen=True)
class Event:
    id: str
    kind: str
    start: datetime
    end: datetime
    deadline: datetime
    domain: str | None
    skipped: bool
    people: list[tuple[str, str | None]]  # (name, email)


def hours(text: str) -> timedelta:
    total = timedelta()
    for amount, unit in re.findall(r"(\d+)([dhm])", text):
        total += {"d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1)}[unit] * int(
            amount
        )
    return total


def moment(value: Any, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=zone) if value.tzinfo is None else value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=zone)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed


def person(entry: Any) -> tuple[str, str | None]:
    if isinstance(entry, dict):
        return entry.get("name", ""), entry.get("email")
    name, address = email.utils.parseaddr(entry)
    if "<" in entry or "@" in entry:
        return name, address
    return entry, None


def load_events(path: Path) -> list[Event]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    zone = ZoneInfo(data.get("timezone", "UTC"))
    events = []
    for raw in data["events"]:
        kind = raw["kind"]
        start = moment(raw["start"], ZoneInfo(raw.get("timezone", zone.key))).astimezone(UTC)
        if "end" in raw:
            end = moment(raw["end"], ZoneInfo(raw.get("timezone", zone.key))).astimezone(UTC)
        else:
            end = start + (
                hours(raw["duration"]) if "duration" in raw else timedelta(hours=DEFAULT_LENGTH.get(kind, 1))
            )
        follow = raw.get("follow_up", True)
        within = (
            hours(follow["within"]) if isinstance(follow, dict) else timedelta(hours=POLICY.get(kind, 48))
        )
        events.append(
            Event(
                id=raw["id"],
                kind=kind,
                start=start,
                end=end,
                deadline=end + within,
                domain=raw.get("domain"),
                skipped=follow is False or raw.get("cancelled", False) is True,
                people=[person(p) for p in raw.get("people", [])],
            )
        )
    return events


# -- matching: docs/report.md's table ----------------------------------------------------


def expected_followups(
    events: list[Event], readings: dict[str, dict[str, Any]], now: datetime = NOW
) -> dict[str, dict[str, Any]]:
    """Per person, keyed "event id / email or name": status and the matched message."""
    messages = sorted(
        (datetime.fromisoformat(r["date"]), name, r) for name, r in readings.items()
    )  # earliest first; a file name breaks ties
    result = {}
    for event in events:
        for name, address in event.people:
            key = f"{event.id} / {address or name}"
            found = None
            if not event.skipped:
                for when, file, reading in messages:
                    if when <= event.start or when > now:
                        continue
                    if address is not None:
                        hit = normalize(address) in reading["recipients"]
                    else:
                        hit = event.domain is not None and any(
                            r.rpartition("@")[2] == event.domain.lower() for r in reading["recipients"]
                        )
                    if hit:
                        found = (when, file, reading)
                        break
            if event.skipped:
                status = "skipped"
            elif found is not None:
                status = "sent" if found[0] <= event.deadline else "late"
            elif now > event.deadline:
                status = "missing"
            elif now >= event.end:
                status = "due"
            else:
                status = "upcoming"
            result[key] = {
                "event": event.id,
                "person": {"name": name, "email": address},
                "status": status,
                "deadline": None if event.skipped else event.deadline.isoformat(timespec="seconds"),
                "message": None
                if found is None
                else {
                    "file": found[1],
                    "date": found[2]["date"],
                    "message_id": found[2]["message_id"],
                    "matched_by": "address" if address is not None else "domain",
                },
            }
    return result


def main(argv: list[str]) -> None:
    corpus = Path(argv[0]) if argv else CORPUS
    readings = read_corpus(corpus)
    (corpus / "readings.json").write_text(json.dumps(readings, indent=1, sort_keys=True) + "\n")
    report = expected_followups(load_events(corpus / "calendar.yaml"), readings)
    summary = dict.fromkeys(("sent", "late", "missing", "due", "upcoming", "skipped"), 0)
    for followup in report.values():
        summary[followup["status"]] += 1
    document = {"now": NOW.isoformat(), "summary": summary, "followups": report}
    (corpus / "expected.json").write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(summary, file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
