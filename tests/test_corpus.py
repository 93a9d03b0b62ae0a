"""A corpus of real messages written by others, against an independent reading of the docs.

tests/data/corpus/messages holds 729 messages from the test data of public
packages (PROVENANCE.md, PROVENANCE.tsv), written by many mail programs and list
servers, oddities included. calendar.yaml has events for their real recipients, and
expected.json says what docs/report.md makes of them: tests/corpus_oracle.py, which
reads the mail with the standard library only and never imports thankyou_scan, wrote it.

Every way in — the CLI and the Python API over an mbox and a Maildir, a StaticSource,
IMAP on GreenMail and on Dovecot — must agree with it on every person.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

import corpus_oracle as oracle
from greenmail import Account, Server, _crlf, _greenmail_safe
from thankyou_scan import (
    ImapSource,
    MaildirSource,
    MboxSource,
    MessageError,
    Report,
    SentMessage,
    StaticSource,
    load_calendar,
    scan,
)
from thankyou_scan.cli import main

UTC = timezone.utc
CORPUS = oracle.CORPUS
NOW = oracle.NOW
ROWS = oracle.provenance()
EXPECTED: dict[str, Any] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
READINGS: dict[str, Any] = json.loads((CORPUS / "readings.json").read_text(encoding="utf-8"))


def raw(row: dict[str, str]) -> bytes:
    return (CORPUS / "messages" / row["file"]).read_bytes()


def message_id(value: str | None) -> str | None:
    return "".join(value.split()) if value else None


def person_key(event_id: str, person: dict[str, Any]) -> str:
    """Event id and the person's address as docs/report.md compares them (or their name)."""
    return f"{event_id} / {oracle.normalize(person['email']) if person['email'] else person['name']}"


def disagreements(got: Iterable[dict[str, Any]], expected: dict[str, Any]) -> list[str]:
    """One line per person on which a report (JSON form) and the expected one differ."""
    seen: dict[str, dict[str, Any]] = {}
    for followup in got:
        seen[person_key(followup["event"]["id"], followup["person"])] = followup
    problems = []
    for key, want in expected.items():
        have = seen.pop(person_key(want["event"], want["person"]), None)
        if have is None:
            problems.append(f"{key}: not in the report (expected {want['status']})")
            continue
        want_message, have_message = want["message"], have["message"]
        same = have["status"] == want["status"] and (want_message is None) == (have_message is None)
        if same and want_message is not None:
            same = (
                datetime.fromisoformat(have_message["date"]) == datetime.fromisoformat(want_message["date"])
                and message_id(have_message["message_id"]) == message_id(want_message["message_id"])
                and have_message["matched_by"] == want_message["matched_by"]
            )
        if same and want["deadline"] is not None:
            same = datetime.fromisoformat(have["deadline"]) == datetime.fromisoformat(want["deadline"])
        if not same:
            wanted = f"{want['status']} (deadline {want['deadline']})" + (
                f" by {want_message['file']} at {want_message['date']}" if want_message else ""
            )
            got_text = f"{have['status']} (deadline {have['deadline']})" + (
                f" by {have_message['message_id']} at {have_message['date']}" if have_message else ""
            )
            problems.append(f"{key}: expected {wanted}; got {got_text}")
    problems.extend(f"{key}: in the report but not expected" for key in seen)
    return problems


def assert_agrees(report: Report | dict[str, Any], expected: dict[str, Any] | None = None) -> None:
    document = report if isinstance(report, dict) else json.loads(_json(report))
    problems = disagreements(document["followups"], expected or EXPECTED["followups"])
    assert not problems, f"{len(problems)} people disagree with expected.json:\n" + "\n".join(problems)


def _json(report: Report) -> str:
    from thankyou_scan import render

    return render(report, "json")


# -- the corpus itself -----------------------------------------------------------------


def test_the_corpus_is_several_hundred_real_messages_with_provenance() -> None:
    files = sorted(p.name for p in (CORPUS / "messages").iterdir())
    assert files == sorted(row["file"] for row in ROWS)
    assert len(files) >= 400
    assert all(row["package"] and row["version"] and row["path"] and row["licence"] for row in ROWS)
    assert len({row["package"] for row in ROWS}) >= 8
    statuses = EXPECTED["summary"]
    assert all(statuses[s] > 0 for s in ("sent", "late", "missing", "due", "upcoming", "skipped")), statuses


def test_expected_json_is_the_oracle_over_the_readings() -> None:
    events = oracle.load_events(CORPUS / "calendar.yaml")
    assert oracle.expected_followups(events, READINGS) == EXPECTED["followups"]


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="readings.json was made with Python 3.11's email")
def test_readings_json_is_the_oracle_over_the_messages() -> None:
    assert oracle.read_corpus() == READINGS


# -- files and the Python API ----------------------------------------------------------


def write_mbox(path: Path) -> Path:
    with open(path, "wb") as handle:
        for row in ROWS:
            when = oracle.delivered(row).strftime("%a %b %d %H:%M:%S %Y")
            body = re.sub(rb"(?m)^(>*From )", rb">\1", raw(row))
            handle.write(f"From corpus@example.com {when}\n".encode() + body.rstrip(b"\n") + b"\n\n")
    return path


def write_maildir(path: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True)
    for n, row in enumerate(ROWS):
        stamp = int(oracle.delivered(row).timestamp())
        target = path / "cur" / f"{stamp}.M{n}P1.corpus:2,S"
        target.write_bytes(raw(row))
        os.utime(target, (stamp, stamp))
    return path


@pytest.fixture(scope="module")
def calendar() -> Any:
    return load_calendar(CORPUS / "calendar.yaml")


def test_mbox_through_the_api(tmp_path: Path, calendar: Any) -> None:
    assert_agrees(scan(calendar, MboxSource(write_mbox(tmp_path / "Sent.mbox")), now=NOW))


def test_maildir_through_the_api(tmp_path: Path, calendar: Any) -> None:
    assert_agrees(scan(calendar, MaildirSource(write_maildir(tmp_path / "Sent")), now=NOW))


def test_static_source_through_the_api(calendar: Any) -> None:
    messages, skipped = [], 0
    for n, row in enumerate(ROWS):
        try:
            messages.append(
                SentMessage.from_headers(raw(row), fallback_date=oracle.delivered(row), uid=str(n))
            )
        except MessageError:
            skipped += 1
    assert_agrees(scan(calendar, StaticSource(messages, skipped=skipped), now=NOW))


@pytest.mark.parametrize("kind", ["mbox", "maildir"])
def test_cli_json(kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_mbox(tmp_path / "Sent.mbox") if kind == "mbox" else write_maildir(tmp_path / "Sent")
    argv = ["scan", "--calendar", str(CORPUS / "calendar.yaml"), f"--{kind}", str(path)]
    code = main([*argv, "--now", NOW.isoformat(), "--format", "json", "--no-cache"])
    document = json.loads(capsys.readouterr().out)
    assert_agrees(document)
    assert code == 1  # people are missing and late
    assert document["summary"] == EXPECTED["summary"]


# -- IMAP ------------------------------------------------------------------------------


def eight_bit_headers(data: bytes) -> bool:
    return bool(re.search(rb"[\x80-\xff]", re.split(rb"\r?\n\r?\n", data, maxsplit=1)[0]))


def append_all(server: Server, account: Account, rows: list[dict[str, str]]) -> tuple[list[str], list[str]]:
    """APPEND every row to Sent, pipelined; returns (files held, files refused or dropped)."""
    with server.client(account) as client:
        client.create_folder("Sent")
    held: list[str] = []
    refused: list[str] = []
    pending = list(rows)
    while pending:
        with socket.create_connection(("127.0.0.1", server.imap_port), timeout=120) as connection:
            reader = connection.makefile("rb")
            reader.readline()
            commands = [f'a0 LOGIN "{account.user}" "{account.password}"\r\n'.encode()]
            for row in pending:
                body = _crlf(raw(row))
                when = _greenmail_safe(oracle.delivered(row)).strftime("%d-%b-%Y %H:%M:%S %z")
                commands.append(
                    f'a{len(commands)} APPEND "Sent" (\\Seen) "{when}" {{{len(body)}+}}\r\n'.encode()
                    + body
                    + b"\r\n"
                )
            connection.sendall(b"".join(commands))
            done = 0
            for tag in range(len(commands)):
                while not (line := reader.readline()).startswith(f"a{tag} ".encode()):
                    if not line:
                        break
                if not line:
                    break
                if tag:
                    (held if line.startswith(f"a{tag} OK".encode()) else refused).append(
                        pending[tag - 1]["file"]
                    )
                    done = tag
            else:
                connection.sendall(b"z LOGOUT\r\n")
                return held, refused
        # The server dropped the connection: the first message without an answer broke it.
        refused.append(pending[done]["file"])
        pending = pending[done + 1 :]
    return held, refused


def imap_scan(
    server: Server, rows: list[dict[str, str]], calendar: Any
) -> tuple[Report, list[str], list[str]]:
    account = server.account()
    held, refused = append_all(server, account, rows)
    with ImapSource(
        "127.0.0.1", port=server.imap_port, security="plain", user=account.user, password=account.password
    ) as source:
        report = scan(calendar, source, now=NOW)
    return report, held, refused


# Messages GreenMail 2.1.8 cannot serve faithfully (SERVERS.md): its HEADER.FIELDS literal
# lengths count Java chars, so raw 8-bit headers misframe the FETCH answer. They are not
# seeded there; Dovecot takes every message.
def greenmail_rows() -> list[dict[str, str]]:
    return [row for row in ROWS if not eight_bit_headers(raw(row))]


# APPENDing these drops GreenMail 2.1.8's connection (a NullPointerException in its MIME
# parser; SERVERS.md): they are not on the GreenMail account, and the expected report there
# is the oracle's over the messages it holds.
GREENMAIL_DROPS = {
    "0013-cpython-msg_14.txt.eml",
    "0021-cpython-msg_25.txt.eml",
    "0166-hyperkitty-unconvertable_msg-2.txt.eml",
    "0296-imap-tools-sages_error_emails_multiple_invalid_content_dispositions.eml.eml",
    "0463-spamassassin-t-spam_badctype1.eml",
}


@pytest.mark.imap
def test_imap_greenmail(greenmail: Server, calendar: Any) -> None:
    rows = greenmail_rows()
    report, held, refused = imap_scan(greenmail, rows, calendar)
    assert set(refused) == GREENMAIL_DROPS, f"GreenMail refused {sorted(refused)}"
    assert len(held) >= 0.9 * len(ROWS)
    expected = oracle.expected_followups(
        oracle.load_events(CORPUS / "calendar.yaml"), {file: READINGS[file] for file in held}
    )
    assert_agrees(report, expected)


@pytest.mark.imap
def test_imap_dovecot(dovecot: Server, calendar: Any) -> None:
    report, _held, refused = imap_scan(dovecot, ROWS, calendar)
    assert not refused, f"Dovecot refused {refused}"
    assert_agrees(report)
