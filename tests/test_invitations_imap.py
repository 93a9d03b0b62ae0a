"""`import` over IMAP on GreenMail and Dovecot: only calendar parts are fetched (BODYSTRUCTURE, then
BODY.PEEK of the part), the mailbox is unchanged, and `import --append` then `scan` needs no
hand-typed event."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from imapclient import IMAPClient

from greenmail import Account, GreenMail, Mail, Server, seed, snapshot
from helpers import RunCli, raw_message
from thankyou_scan.invitations.imap import ImapInvitations
from thankyou_scan.invitations.mail import calendar_parts

UTC = timezone.utc
TB = Path(__file__).parent / "data" / "invitations" / "thunderbird"
INVITES = ("outlook-test-invite.eml", "repeat-event.eml", "meet-meeting-invite.eml", "message-non-invite.eml")


def seeded(server: Server, account: Account) -> None:
    inbox = [
        Mail((TB / name).read_bytes(), datetime(2022, 3, 10, 9, 0, tzinfo=UTC), flags=()) for name in INVITES
    ]
    inbox.append(
        Mail(raw_message(to=account.user, subject="no invitation here"), datetime(2022, 3, 11, tzinfo=UTC))
    )
    thanks = raw_message(
        sender=account.user, to="Other <other@example.com>", date="Thu, 17 Mar 2022 10:00:00 +0000",
        message_id="<thanks@x>",
    )  # fmt: skip
    seed(server, account, {"INBOX": inbox, "Sent": [Mail(thanks, datetime(2022, 3, 17, 10, tzinfo=UTC))]})  # type: ignore[arg-type]


@pytest.mark.imap
def test_import_fetches_only_calendar_parts_and_changes_nothing(
    server: Server, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded(server, account)
    before = snapshot(server, account)
    asked: list[list[Any]] = []
    original = IMAPClient.fetch

    def recording(self: IMAPClient, messages: Any, data: Any, modifiers: Any = None) -> Any:
        asked.append(list(data))
        return original(self, messages, data, modifiers)

    monkeypatch.setattr(IMAPClient, "fetch", recording)
    with ImapInvitations(
        "127.0.0.1", port=server.imap_port, security="plain", user=account.user, password=account.password
    ) as imap:
        texts = list(imap.calendar_texts(datetime(2022, 3, 1, tzinfo=UTC)))
        fetched = imap.bytes_fetched
    assert len(texts) == sum(
        len(calendar_parts((TB / name).read_bytes())) for name in INVITES
    )  # as from files
    assert all(text.lstrip().startswith("BEGIN:VCALENDAR") for text, _origin in texts)
    items = {item for data in asked for item in data}
    assert b"BODYSTRUCTURE" in items
    assert all(item == b"BODYSTRUCTURE" or item.startswith(b"BODY.PEEK[") for item in items), items
    assert not any(item in (b"BODY.PEEK[]", b"RFC822", b"BODY[]") for item in items)
    whole = sum((TB / name).stat().st_size for name in INVITES)
    assert fetched < whole / 2  # the calendar parts, not the messages (HTML, text, headers)
    assert snapshot(server, account) == before


@pytest.mark.imap
def test_import_append_then_scan_needs_no_typed_event(
    server: Server, account: Account, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded(server, account)
    monkeypatch.setenv("IMAP_PW", account.password)
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text("version: 1\ntimezone: UTC\nevents:\n  - title: Typed by hand\n    kind: meeting\n"
                        "    start: 2022-01-03 10:00\n    people: [ada@acme.example]\n")  # fmt: skip
    imap = ("--imap-host", "127.0.0.1", "--imap-port", str(server.imap_port), "--security", "plain",
            "--user", account.user, "--password-env", "IMAP_PW")  # fmt: skip
    args = (
        "import",
        *imap,
        "--since",
        "2022-03-01",
        "--now",
        "2022-03-20T00:00:00Z",
        "--calendar",
        str(calendar),
    )
    before = snapshot(server, account)
    code, _out, err = run_cli(*args, "--append", "--me", "receiver@example.com")
    assert code == 0, err
    text = calendar.read_text()
    assert text.count("- id: 02e79b96@") == 3
    code, _out, err = run_cli(*args, "--append", "--me", "receiver@example.com")
    assert code == 0 and calendar.read_text() == text
    assert snapshot(server, account) == before
    code, out, err = run_cli("scan", "--calendar", str(calendar), *imap, "--folder", "Sent",
                             "--now", "2022-03-20T00:00:00Z", "--format", "json", "--no-cache")  # fmt: skip
    statuses = {
        (f["event"]["id"], f["person"]["email"]): f["status"]
        for f in json.loads(out)["followups"]
        if f["event"]["id"].startswith("02e79b96@")
    }
    assert statuses[("02e79b96@20220316T110000Z", "other@example.com")] == "sent"
    assert statuses[("02e79b96@20220316T110000Z", "sender@example.com")] == "missing"


@pytest.mark.imap
def test_wrong_password_exits_3(
    greenmail: GreenMail, gm_account: Account, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("IMAP_PW", "wrong")
    code, _out, err = run_cli("import", "--imap-host", "127.0.0.1", "--imap-port", str(greenmail.imap_port),
                              "--security", "plain", "--user", gm_account.user, "--password-env", "IMAP_PW")  # fmt: skip
    assert code == 3, err


@pytest.mark.imap
def test_import_from_a_configured_account_into_the_configured_calendar(
    greenmail: GreenMail, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = greenmail.account()
    seeded(greenmail, account)
    (tmp_path / "pw").write_text(account.password)
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text(
        "version: 1\ntimezone: UTC\nevents:\n  - {title: Typed, kind: meeting, start: 2022-03-02 10:00, people: [x@y.example]}\n"
    )
    config = tmp_path / "config.yaml"
    config.write_text(
        "version: 1\ncalendar: calendar.yaml\nme: receiver@example.com\naccounts:\n"
        f"  - {{name: mine, imap_host: 127.0.0.1, imap_port: {greenmail.imap_port}, security: plain,\n"
        f"     user: {account.user}, folder: Sent, password_command: [cat, {tmp_path / 'pw'}]}}\n"
    )
    config.chmod(0o600)
    monkeypatch.setenv("THANKYOU_SCAN_CONFIG", str(config))
    args = ("import", "--account", "mine", "--since", "2022-03-01", "--now", "2022-03-20T00:00:00Z")
    code, _out, err = run_cli(*args, "--append")
    assert code == 0, err
    assert calendar.read_text().count("- id: 02e79b96@") == 3
    code, out, err = run_cli("--now", "2022-03-20T00:00:00Z", "--format", "json")  # the configured scan
    assert code == 1, err
    statuses = {(f["event"]["id"], f["person"]["email"]): f["status"] for f in json.loads(out)["followups"]}
    assert statuses[("02e79b96@20220316T110000Z", "other@example.com")] == "sent"
    assert "receiver@example.com" not in {email for _, email in statuses}  # me, from the config
