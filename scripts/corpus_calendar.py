"""Write a corpus's calendar.yaml: events around its messages, for their real recipients.

    python scripts/corpus_calendar.py tests/data/corpus     # or tests/data/corpus2 --boundaries

A one-off, kept for the record (the calendars are committed; rerunning gives the same files).
It reads the messages through tests/corpus_oracle.py, never through thankyou_scan.

* For each message, up to six of its recipients (all of them, or the first address and the
  last of every To/Cc/Bcc field, so repeated fields are covered), each in an event of their
  own placed so that this message is their first one after the start: sent (start an hour
  before), late (start three days before, 24 h to answer) or sent during the event.
* Some recipients again after their last message: missing.
* Events around `now`: due (ended, deadline ahead), upcoming (still running, or later).
* Cancelled and `follow_up: false` events: skipped.
* People known by name only, matched through the event's domain.
* Addresses that only look like recipients (a display name written as an address): never sent.
* Some events in a zone of their own, in local time.
* Addresses written as a person would type them: other case, Gmail dots and +tags.
* With --boundaries (corpus2): per recipient, events starting at the message's second (it
  does not count), with the deadline at it (sent) or a second before (late), starting a
  second before it (counts); and people known by name at the parent domain of a
  recipient's subdomain (only an address at the parent domain itself matches) or at the
  recipient's domain written in capitals (it matches).
"""

from __future__ import annotations

import email
import email.policy
import email.utils
import json
import sys
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from email_validator import EmailNotValidError, validate_email

import corpus_oracle as oracle

UTC = timezone.utc
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)
ZONES = ["America/New_York", "Europe/Berlin", "Asia/Kolkata", "Australia/Sydney", "America/St_Johns"]
NOW = oracle.NOW


def minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") + "Z"


def chosen_recipients(file: str, raw: bytes, decisions: dict[str, dict[str, Any]]) -> list[str]:
    """Every address when there are six or fewer, else the first and the last of every To/Cc/Bcc
    field (as written); at most six. A hand decision's recipients replace the message's."""
    if "recipients" in decisions.get(file, {}):
        return [a for a in decisions[file]["recipients"] if usable(a)][:6]
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    fields = [
        [a for _n, a in email.utils.getaddresses([str(value)], **oracle.LENIENT) if "@" in a]
        for field in ("To", "Cc", "Bcc")
        for value in message.get_all(field) or []
    ]
    picks: list[str] = []
    if sum(len(found) for found in fields) <= 6:
        picks = [a for found in fields for a in found]
    else:
        for found in fields:
            if found:
                picks.extend([found[0], found[-1]] if not picks else [found[-1]])
    unique: list[str] = []
    for address in picks:
        if (
            oracle.normalize(address) not in {oracle.normalize(u) for u in unique}
            and address.isascii()
            and usable(address)
        ):
            unique.append(address.strip())
    return unique[:6]


def usable(address: str) -> bool:
    """Whether the calendar accepts the address (email-validator, syntax only)."""
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def as_typed(address: str, n: int) -> str:
    """The address as a person might write it in the calendar."""
    local, _, domain = address.rpartition("@")
    if domain.lower() in oracle.GMAIL and n % 2 == 0:
        return f"{local[:1]}.{local[1:]}+jobs@{'googlemail.com' if domain.lower() == 'gmail.com' else 'gmail.com'}"
    if n % 5 == 0:
        return address.upper()
    return address


def main(corpus: Path, boundaries: bool) -> None:
    readings = oracle.read_corpus(corpus)
    decisions = oracle.hand_decisions(corpus)
    by_address: dict[str, list[datetime]] = defaultdict(list)
    by_domain: dict[str, list[datetime]] = defaultdict(list)
    for reading in readings.values():
        when = datetime.fromisoformat(reading["date"])
        for address in reading["recipients"]:
            by_address[address].append(when)
        for domain in {a.rpartition("@")[2] for a in reading["recipients"]}:
            by_domain[domain].append(when)

    def previous(times: list[datetime], when: datetime) -> datetime | None:
        earlier = [t for t in times if t < when]
        return max(earlier) if earlier else None

    lines = [
        f"# The corpus calendar: real recipients of tests/data/{corpus.name}/messages (see PROVENANCE.md).",
        "# Written by scripts/corpus_calendar.py; times are UTC unless the event names its zone.",
        "version: 1",
        "timezone: UTC",
        "events:",
    ]
    used: list[str] = []
    last_seen: dict[str, tuple[datetime, str]] = {}
    n = 0
    for file, reading in sorted(readings.items()):
        when = datetime.fromisoformat(reading["date"])
        if when.year < 1971:
            continue  # before any calendar anyone keeps
        raw = (corpus / "messages" / file).read_bytes()
        for k, address in enumerate(chosen_recipients(file, raw, decisions)):
            key = oracle.normalize(address)
            times = by_address[key]
            if times.count(when) > 1:
                continue  # two messages at the same second: "first" would be a tie
            before = previous(times, when)
            n += 1
            typed = as_typed(address, n)
            typed = typed if usable(typed) else address
            event_id = f"{file[:4]}-{k}"
            if when > NOW:
                # A message dated after `now` is ignored: the person is still due.
                start = minute(NOW - 6 * HOUR)
                if before is not None and before > start:
                    continue
                lines.append(f"  - {{id: {event_id}-future, title: After now {file[:4]}, kind: interview, "
                             f"start: {stamp(start)}, duration: 1h, people: {json.dumps([typed])}}}")  # fmt: skip
                continue
            variant = n % 3
            late_start = minute(when - timedelta(days=3))
            if variant == 1 and (before is None or before < late_start):
                lines.append(f"  - {{id: {event_id}-late, title: Late {file[:4]}, kind: meeting, "
                             f"start: {stamp(late_start)}, duration: 1h, people: {json.dumps([typed])}}}")  # fmt: skip
            elif variant == 2 and (before is None or before < minute(when - 30 * timedelta(minutes=1))):
                start = minute(when - 30 * timedelta(minutes=1))
                lines.append(f"  - {{id: {event_id}-during, title: During {file[:4]}, kind: meeting, "
                             f"start: {stamp(start)}, end: {stamp(start + HOUR)}, people: {json.dumps([typed])}}}")  # fmt: skip
            else:
                start = minute(when - HOUR)
                if before is not None and before >= start:
                    start = minute(before + (when - before) / 2)
                    if not before < start < when:
                        continue
                if n % 4 == 0:  # some in a zone of their own, written in local time
                    zone = ZONES[n // 4 % len(ZONES)]
                    local = start.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
                    lines.append(f"  - {{id: {event_id}-sent, title: Sent {file[:4]}, kind: interview, "
                                 f"start: '{local}', timezone: {zone}, duration: 1h, people: {json.dumps([typed])}}}")  # fmt: skip
                else:
                    lines.append(f"  - {{id: {event_id}-sent, title: Sent {file[:4]}, kind: interview, "
                                 f"start: {stamp(start)}, duration: 1h, people: {json.dumps([typed])}}}")  # fmt: skip
            used.append(key)
            last_seen[key] = (max(times), address)

    # Addresses a hand decision says are not recipients (an unquoted display name that looks
    # like an address): an event placed as if the message were their note. It must not count.
    for file, decision in sorted(decisions.items()):
        if "recipients" not in decision:
            continue
        raw = (corpus / "messages" / file).read_bytes()
        message = email.message_from_bytes(raw, policy=email.policy.compat32)
        values = [str(v) for field in ("To", "Cc", "Bcc") for v in message.get_all(field) or []]
        kept = {oracle.normalize(a) for a in decision["recipients"]}
        when = datetime.fromisoformat(readings[file]["date"])
        for k, (_name, address) in enumerate(email.utils.getaddresses(values, **oracle.LENIENT)):
            if usable(address) and oracle.normalize(address) not in kept:
                lines.append(f"  - {{id: {file[:4]}-not-{k}, title: Not a recipient {file[:4]}, kind: interview, "
                             f"start: {stamp(minute(when - HOUR))}, duration: 1h, people: {json.dumps([address])}}}")  # fmt: skip

    # Missing: every seventh person again, a month after their last message.
    for i, key in enumerate(sorted(set(used))[::7]):
        last, address = last_seen[key]
        start = minute(last + timedelta(days=30))
        if start + timedelta(days=3) < NOW:
            lines.append(f"  - {{id: missing-{i:03d}, title: Missing {i}, kind: networking, "
                         f"start: {stamp(start)}, people: {json.dumps([address])}}}")  # fmt: skip

    people = sorted(set(used))
    due = people[3:12:2]
    upcoming = people[4:12:2]
    lines.append(f"  - {{id: due-now, title: Ended this morning, kind: interview, start: {stamp(NOW - 6 * HOUR)}, "
                 f"end: {stamp(NOW - 5 * HOUR)}, people: {json.dumps([last_seen[k][1] for k in due])}}}")  # fmt: skip
    lines.append(f"  - {{id: running-now, title: Still running, kind: meeting, start: {stamp(NOW - HOUR)}, "
                 f"end: {stamp(NOW + 3 * HOUR)}, people: {json.dumps([last_seen[k][1] for k in upcoming])}}}")  # fmt: skip
    lines.append(f"  - {{id: next-week, title: Next week, kind: networking, start: {stamp(NOW + timedelta(days=7))}, "
                 f"people: {json.dumps([last_seen[k][1] for k in people[20:23]])}}}")  # fmt: skip

    # Skipped: people who would otherwise be sent.
    _first_file, first = min(
        (
            (f, r)
            for f, r in readings.items()
            if datetime.fromisoformat(r["date"]).year >= 1971 and r["recipients"]
        ),
        key=lambda item: item[1]["date"],
    )
    skip_people = [a for a in first["recipients"] if usable(a)][:2]
    first_when = datetime.fromisoformat(first["date"])
    lines.append(f"  - {{id: cancelled, title: Cancelled, kind: interview, start: {stamp(minute(first_when - HOUR))}, "
                 f"cancelled: true, people: {json.dumps(skip_people)}}}")  # fmt: skip
    lines.append(f"  - {{id: no-note, title: No note needed, kind: meeting, start: {stamp(minute(first_when - HOUR))}, "
                 f"follow_up: false, people: {json.dumps(skip_people)}}}")  # fmt: skip

    # People known by name only: matched through the domain.
    domains = sorted(d for d, times in by_domain.items() if len(times) >= 2 and "." in d and d.isascii())
    for i, domain in enumerate(domains[:: max(1, len(domains) // 25)]):
        times = sorted(by_domain[domain])
        target = times[len(times) // 2]
        if times.count(target) > 1:
            continue  # two messages at the same second: "first" would be a tie
        before = previous(times, target)
        start = minute(target - HOUR)
        if before is not None and before >= start:
            continue
        if target > NOW:
            continue
        lines.append(f"  - {{id: domain-{i:02d}, title: Met someone at {domain}, kind: interview, "
                     f"start: {stamp(start)}, duration: 1h, domain: {domain}, people: [Someone At {i}]}}")  # fmt: skip
    lines.append(f"  - {{id: nameless, title: No address and no domain, kind: meeting, start: {stamp(NOW - timedelta(days=20))}, "
                 f"people: [Unknown Person]}}")  # fmt: skip
    if boundaries:
        lines.extend(boundary_events(readings))
    (corpus / "calendar.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines) - 5} events", file=sys.stderr)


def boundary_events(readings: dict[str, dict[str, Any]]) -> list[str]:
    # Copies of one message (same second, same Message-ID) count once: whichever is "first",
    # the report shows the same time and Message-ID. An event is left out when the first
    # message after its start is a tie between two others at the same second.
    by_address: dict[str, set[tuple[datetime, str]]] = defaultdict(set)
    by_domain: dict[str, set[tuple[datetime, str]]] = defaultdict(set)
    for file, reading in readings.items():
        sent = (datetime.fromisoformat(reading["date"]), reading["message_id"] or file)
        for address in reading["recipients"]:
            by_address[address].add(sent)
            by_domain[address.rpartition("@")[2]].add(sent)

    def clear(found: set[tuple[datetime, str]], start: datetime) -> bool:
        after = sorted(when for when, _ in found if when > start)
        return len(after) < 2 or after[0] != after[1]

    lines, done = [], set()
    for file, reading in sorted(readings.items()):
        when = datetime.fromisoformat(reading["date"])
        if when.year < 1971 or when > NOW:
            continue
        for k, a in enumerate(reading["recipients"]):
            if (
                not usable(a)
                or not a.isascii()
                or not clear(by_address[a], when - SECOND)
                or (a, when) in done
            ):
                continue
            done.add((a, when))
            f, people = file[:4], json.dumps([a])
            for suffix, title, kind, start in (
                ("atstart", "At start", "meeting", when),  # the message does not count, the next one does
                ("atdeadline", "At deadline", "meeting", when - 25 * HOUR),  # sent, if it is the first
                ("pastdeadline", "Past deadline", "meeting", when - 25 * HOUR - SECOND),  # late, if so
                ("justbefore", "Just before", "interview", when - SECOND),  # the message counts
            ):
                if clear(by_address[a], start):
                    lines.append(f"  - {{id: {f}-{k}-{suffix}, title: {title} {f}, kind: {kind}, "
                                 f"start: '{exact(start)}', duration: 1h, people: {people}}}")  # fmt: skip
    # A person known by name at the parent domain of a recipient's subdomain (a subdomain does
    # not match), and one at the recipient's domain written in capitals (it matches).
    since = datetime(1971, 1, 2, tzinfo=UTC)
    for i, domain in enumerate(d for d in sorted(by_domain) if d.count(".") >= 2):
        parent = domain.split(".", 1)[1]
        if not (usable("x@" + parent) and usable("x@" + domain)):
            continue
        if clear(by_domain.get(parent, set()), since):
            lines.append(f"  - {{id: parent-{i:03d}, title: Parent domain {parent}, kind: interview, start: "
                         f"'1971-01-02 00:00:00Z', duration: 1h, domain: {parent}, people: [Parent Person {i}]}}")  # fmt: skip
        if clear(by_domain[domain], since):
            lines.append(f"  - {{id: upper-{i:03d}, title: Upper domain {domain}, kind: interview, start: "
                         f"'1971-01-02 00:00:00Z', duration: 1h, domain: {domain.upper()}, people: [Upper Person {i}]}}")  # fmt: skip
    return lines


def exact(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") + "Z"


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else oracle.CORPUS, "--boundaries" in sys.argv)
