"""`thankyou-scan drafts`: which follow-ups get a draft, the message, templates in the sandbox, and the
mailbox — Drafts gains one draft per owed person, once; every other folder stays as it was."""

from __future__ import annotations

import email
import email.policy
import hashlib
import json
import os
import stat
from datetime import datetime, timezone
from email.message import EmailMessage
from importlib import resources
from pathlib import Path

import mailparser
import pytest

from faultproxy import FaultProxy
from greenmail import Account, Mail, Server, seed, snapshot
from helpers import RunCli, raw_message, write_mbox
from thankyou_scan.calendar_data import Event, Person
from thankyou_scan.draft_templates import compile_template, default_template
from thankyou_scan.drafts import (
    KEY_HEADER,
    Draft,
    build_message,
    company_of,
    draft_key,
    reply_subject,
    template_fields,
    thread_for,
)
from thankyou_scan.errors import TemplateError
from thankyou_scan.report import FollowUp, Status
from thankyou_scan.sources.imap_drafts import choose_drafts_folder
from thankyou_scan.sources.imap_folders import Folder

UTC = timezone.utc
NOW = "2026-11-05T12:00:00Z"
DATA = resources.files("thankyou_scan") / "data"

CALENDAR = """\
version: 1
timezone: UTC
me: [me@example.com]
events:
  - id: acme-onsite
    title: Onsite interview, Acme
    kind: interview
    start: 2026-11-02 10:00
    end: 2026-11-02 11:00
    people:
      - name: Zoë Ångström
        email: zoe@acme.example
      - Ada Lovelace <ada@acme.example>
      - Carl Noaddress
  - id: globex-coffee
    title: 面试感谢 coffee, Globex
    kind: networking
    start: 2026-11-05 09:00
    end: 2026-11-05 10:00
    people:
      - Bob Builder <bob@globex.example>
"""


def followup(
    name: str = "Zoë Ångström",
    address: str = "zoe@acme.example",
    title: str = "面试感谢",
    kind: str = "interview",
) -> FollowUp:
    start = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    event = Event("ev-1", title, kind, start, start.replace(hour=11), "UTC", (Person(name, address),))
    return FollowUp(event, event.people[0], Status.MISSING, None)


def made(item: FollowUp, **draft: object) -> bytes:
    text = default_template(item.event.kind).render(template_fields(item, my_email="me@example.com"))
    options: dict[str, object] = {"subject": text.subject, "body": text.body, **draft}
    return build_message(
        Draft(item, draft_key(item.event.id, item.person.email or ""), **options),  # type: ignore[arg-type]
        sender="me@example.com",
        now=datetime(2026, 11, 5, 12, tzinfo=UTC),
    )


# -- the library ----------------------------------------------------------------------


def test_the_key_is_the_contracts_hash_of_event_id_and_normalized_address() -> None:
    expected = hashlib.sha256(b"acme-onsite\0ada@acme.example").hexdigest()[:32]
    assert draft_key("acme-onsite", "Ada@ACME.example") == expected
    assert draft_key("acme-onsite", "a.d.a+jobs@gmail.com") == draft_key("acme-onsite", "ada@gmail.com")
    assert draft_key("other", "ada@acme.example") != expected


@pytest.mark.parametrize(
    ("address", "company"),
    [
        ("ada@acme.example", "Acme"),
        ("ada@mail.pied-piper.co.uk", "Pied Piper"),
        ("ada@gmail.com", ""),
        (None, ""),
    ],
)
def test_company_from_the_domain(address: str | None, company: str) -> None:
    assert company_of(address) == company


def test_non_ascii_drafts_parse_in_the_stdlib_and_in_mail_parser() -> None:
    raw = made(followup())
    assert b"\r\n" in raw and raw.isascii()  # RFC 2047 headers, quoted-printable body
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["To"].addresses[0].display_name == "Zoë Ångström"
    assert parsed["Subject"] == "Thank you — 面试感谢"
    assert parsed[KEY_HEADER] == draft_key("ev-1", "zoe@acme.example")
    assert parsed["Message-ID"].endswith("@example.com>")
    body = parsed.get_body().get_content()  # type: ignore[union-attr]
    assert "Dear Zoë," in body and not parsed.defects
    other = mailparser.parse_from_bytes(raw)
    assert other.to == [("Zoë Ångström", "zoe@acme.example")]
    assert "Dear Zoë," in other.body and not other.has_defects


def test_non_ascii_subject_survives_both_parsers() -> None:
    raw = made(followup(kind="networking"))
    assert (
        email.message_from_bytes(raw, policy=email.policy.default)["Subject"]
        == "Great to meet you at 面试感谢"
    )
    assert mailparser.parse_from_bytes(raw).subject == "Great to meet you at 面试感谢"


@pytest.mark.parametrize(
    ("name", "title"),
    [("x\r\nBcc: evil@x", "Interview"), ("Ada", "x\r\nBcc: evil@x"), ("Ada\nX-Evil: 1", "t\rX-Evil: 2")],
)
def test_a_hostile_title_or_name_cannot_add_headers(name: str, title: str) -> None:
    raw = made(followup(name=name, title=title, kind="networking"))
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert set(parsed.keys()) == {
        "From", "To", "Subject", "Date", "Message-ID", KEY_HEADER, "Content-Type",
        "Content-Transfer-Encoding", "MIME-Version",
    }  # fmt: skip


def test_a_threaded_draft_replies_to_the_message() -> None:
    inbox = [
        raw_message(sender="zoe@acme.example", subject="Your interview at Acme", message_id="<inv@acme.example>",
                    extra="References: <older@acme.example>"),
        raw_message(sender="zoe@acme.example", subject="Lunch plans?", message_id="<lunch@acme.example>"),
    ]  # fmt: skip
    thread = thread_for("Onsite interview, Acme", inbox)
    assert thread is not None and thread.message_id == "<inv@acme.example>"
    parsed = email.message_from_bytes(made(followup(), thread=thread), policy=email.policy.default)
    assert parsed["In-Reply-To"] == "<inv@acme.example>"
    assert parsed["References"] == "<older@acme.example> <inv@acme.example>"
    assert parsed["Subject"] == "Re: Your interview at Acme"
    assert thread_for("Onsite interview, Acme", inbox[1:]) is None
    assert reply_subject("RE: Fwd: AW: hello") == "Re: hello"


def test_the_drafts_folder_is_found_by_flag_gmail_name_or_common_name() -> None:
    assert choose_drafts_folder([Folder("Entwürfe", ("\\drafts",)), Folder("Drafts")]) == Folder(
        "Entwürfe", ("\\drafts",)
    )
    assert choose_drafts_folder([Folder("INBOX"), Folder("[Google Mail]/Entwürfe")]) == Folder(
        "[Google Mail]/Entwürfe"
    )
    assert choose_drafts_folder([Folder("INBOX.Drafts", delimiter=".")]) == Folder(
        "INBOX.Drafts", delimiter="."
    )
    assert choose_drafts_folder([Folder("INBOX"), Folder("Sent")]) is None


# -- templates ---------------------------------------------------------------------------

HOSTILE = {
    "class-escape": ("{{ ''.__class__.__mro__ }}", "unsafe"),
    "subclasses": ("{{ title.__class__.__base__.__subclasses__() }}", "unsafe"),
    "include": ("{% include '/etc/passwd' %}", "cannot include"),
    "import": ("{% import '/etc/passwd' as x %}", "cannot include"),
    "cycler": ("{{ cycler.__init__.__globals__ }}", "StrictUndefined"),
    "huge-range": ("{% for i in range(10**9) %}{{ i }}{% endfor %}", "too large"),
    "nested-range": ("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}", "range"),
    "multiply": ("{{ 'x' * 10**9 }}", "at most"),
    "format": ("{{ '{:>999999999}'.format(1) }}", "not allowed"),
    "center": ("{{ 'x'.center(999999999) }}", "not allowed"),
    "doubling": ("{% set a = 'x' * 60000 %}{% set b = a ~ a %}{{ b }}", "at most"),
    "silent-loop": (
        "{% set s = 'x' * 5000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
        "took over",
    ),
    "output": ("{% for i in range(100) %}{{ 'x' * 60000 }}{% endfor %}", "longer than"),
    "undefined": ("{{ nobody }}", "'nobody' is undefined"),
    "syntax": ("{% if %}", "Expected an expression"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_templates_fail_with_file_and_line(case: str) -> None:
    statement, message = HOSTILE[case]
    with pytest.raises(TemplateError, match=message) as caught:
        compile_template(
            f"Subject: hello\n\nDear {{{{ first_name }}}},\n{statement}\n", "/t/hostile.txt"
        ).render(template_fields(followup()))
    assert caught.value.path == "/t/hostile.txt"
    if case not in ("output",):
        assert caught.value.line == 4, str(caught.value)


def test_a_template_without_a_subject_line_is_refused_at_line_1() -> None:
    with pytest.raises(TemplateError, match=r"t\.txt:1: the first line must be the subject"):
        compile_template("Dear {{ name }}\n", "t.txt")


def test_every_default_template_renders_every_field() -> None:
    for kind in ("interview", "networking", "meeting", "default", "lunch"):
        text = default_template(kind).render(template_fields(followup(kind=kind), my_name="Jordan"))
        assert text.subject and "Zoë" in text.body and "Jordan" in text.body


# -- the command, offline ----------------------------------------------------------------


@pytest.fixture
def offline(tmp_path: Path) -> tuple[Path, Path]:
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text(CALENDAR, encoding="utf-8")
    sent = raw_message(sender="me@example.com", to="ada@acme.example", date="Mon, 2 Nov 2026 18:00:00 +0000")
    mbox = write_mbox(tmp_path / "sent.mbox", [("Mon Nov  2 18:00:00 +0000 2026", sent)])
    return calendar, mbox


def test_eml_dir_writes_one_private_file_per_owed_person_once(
    offline: tuple[Path, Path], tmp_path: Path, run_cli: RunCli
) -> None:
    calendar, mbox = offline
    out = tmp_path / "drafts"
    args = ("drafts", "--calendar", str(calendar), "--mbox", str(mbox), "--now", NOW, "--eml-dir", str(out))
    code, stdout, stderr = run_cli(*args)
    assert code == 0, stderr
    lines = stdout.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith(f"wrote {draft_key('acme-onsite', 'zoe@acme.example')}.eml: Zoë Ångström")
    assert "(missing)" in lines[0] and "Bob Builder" in lines[1] and "(due)" in lines[1]
    assert lines[2] == "no draft: no address: Carl Noaddress — Onsite interview, Acme (missing)"
    files = sorted(out.iterdir())
    assert len(files) == 2
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)
    before = {path.name: path.read_bytes() for path in files}
    code, stdout, _ = run_cli(*args)
    assert code == 0 and stdout.count("exists: ") == 2
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


def test_dry_run_writes_nothing(offline: tuple[Path, Path], tmp_path: Path, run_cli: RunCli) -> None:
    calendar, mbox = offline
    out = tmp_path / "drafts"
    code, stdout, _ = run_cli(
        "drafts",
        "--calendar",
        str(calendar),
        "--mbox",
        str(mbox),
        "--now",
        NOW,
        "--eml-dir",
        str(out),
        "--dry-run",
    )
    assert code == 0 and stdout.count("would write ") == 2
    assert not out.exists()


def test_a_hostile_template_exits_2_naming_file_and_line_and_writes_nothing(
    offline: tuple[Path, Path], tmp_path: Path, run_cli: RunCli
) -> None:
    calendar, mbox = offline
    template = tmp_path / "evil.txt"
    template.write_text("Subject: hi\n\nHello\n{{ ''.__class__.__mro__ }}\n", encoding="utf-8")
    out = tmp_path / "drafts"
    code, stdout, stderr = run_cli(
        "drafts", "--calendar", str(calendar), "--mbox", str(mbox), "--now", NOW, "--eml-dir", str(out),
        "--template", str(template),
    )  # fmt: skip
    assert code == 2 and stdout == ""
    assert f"{template}:4: refused" in stderr
    assert not any(out.iterdir()) if out.exists() else True


def test_mbox_drafts_need_an_eml_dir(offline: tuple[Path, Path], run_cli: RunCli) -> None:
    calendar, mbox = offline
    code, _, stderr = run_cli("drafts", "--calendar", str(calendar), "--mbox", str(mbox), "--now", NOW)
    assert code == 2 and "--eml-dir" in stderr


# -- the command, on real servers ----------------------------------------------------------

WRITES = {b"STORE", b"EXPUNGE", b"MOVE", b"COPY", b"DELETE", b"CREATE", b"RENAME", b"SUBSCRIBE", b"SELECT"}


def seed_scenario(server: Server, account: Account) -> None:
    received = datetime(2026, 11, 1, 9, tzinfo=UTC)
    seed(
        server,  # type: ignore[arg-type]
        account,
        {
            "INBOX": [
                Mail(raw_message(sender="=?utf-8?q?Zo=C3=AB?= <zoe@acme.example>", to=account.user,
                                 subject="Your interview at Acme", message_id="<inv@acme.example>",
                                 date="Sun, 1 Nov 2026 09:00:00 +0000"), received, flags=()),
                Mail(raw_message(sender="zoe@acme.example", to=account.user, subject="Lunch plans?",
                                 message_id="<lunch@acme.example>", date="Sun, 1 Nov 2026 10:00:00 +0000"),
                     received.replace(hour=10)),
            ],
            "Sent": [
                Mail(raw_message(sender=account.user, to="ada@acme.example", date="Mon, 2 Nov 2026 18:00:00 +0000"),
                     datetime(2026, 11, 2, 18, tzinfo=UTC)),
            ],
            "Drafts": [
                Mail(raw_message(sender=account.user, to="someone@else.example", subject="unrelated",
                                 message_id="<mine@example.com>"), received, flags=(b"\\Draft", b"\\Seen")),
            ],
        },
    )  # fmt: skip


def drafts_in(server: Server, account: Account) -> list[tuple[tuple[bytes, ...], EmailMessage]]:
    with server.client(account) as client:
        folder = next(name for _f, _d, name in client.list_folders() if name.endswith("Drafts"))
        client.select_folder(folder, readonly=True)
        fetched = client.fetch(client.search(["ALL"]), ["FLAGS", "BODY.PEEK[]"])
    result = []
    for _uid, data in sorted(fetched.items()):
        parsed = email.message_from_bytes(data[b"BODY[]"], policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        result.append((data[b"FLAGS"], parsed))
    return result


@pytest.mark.imap
def test_drafts_on_a_real_server(
    server: Server, account: Account, tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", account.password)
    seed_scenario(server, account)
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text(CALENDAR.replace("me@example.com", account.user), encoding="utf-8")
    with FaultProxy(server.imap_port, [None]) as proxy:
        imap = [
            "--calendar", str(calendar), "--now", NOW, "--imap-host", "127.0.0.1", "--imap-port", str(proxy.port),
            "--security", "plain", "--user", account.user, "--password-env", "TEST_IMAP_PASSWORD",
        ]  # fmt: skip
        code, out, err = run_cli("scan", *imap, "--format", "json")
        statuses = [(f["person"]["name"], f["status"]) for f in json.loads(out)["followups"]]
        assert code == 1, err
        before = snapshot(server, account)

        code, out, err = run_cli("drafts", *imap)
        assert code == 0, err
        lines = out.splitlines()
        assert [line.split(":")[0] for line in lines] == [
            "created in Drafts",
            "created in Drafts",
            "no draft",
        ]
        assert "a reply to 'Your interview at Acme'" in lines[0]
        after = snapshot(server, account)
        for folder in before:
            if folder != "Drafts":
                assert after[folder] == before[folder], folder
        drafts = drafts_in(server, account)
        assert len(drafts) == 3  # the unrelated one, and one per owed person with an address
        made = {parsed["To"].addresses[0].addr_spec: (flags, parsed) for flags, parsed in drafts[1:]}
        assert sorted(made) == ["bob@globex.example", "zoe@acme.example"]
        flags, zoe = made["zoe@acme.example"]
        assert b"\\Draft" in flags
        assert zoe["To"].addresses[0].display_name == "Zoë Ångström"
        assert zoe["In-Reply-To"] == "<inv@acme.example>" and zoe["Subject"] == "Re: Your interview at Acme"
        assert zoe[KEY_HEADER] == draft_key("acme-onsite", "zoe@acme.example")
        assert zoe["From"].addresses[0].addr_spec == account.user
        flags, bob = made["bob@globex.example"]
        assert b"\\Draft" in flags and bob["In-Reply-To"] is None
        assert bob["Subject"] == "Great to meet you at 面试感谢 coffee, Globex"

        code, out, err = run_cli("drafts", *imap)
        assert code == 0 and out.count("exists in Drafts") == 2, err
        assert snapshot(server, account) == after

        code, out, _ = run_cli("scan", *imap, "--format", "json")
        assert [(f["person"]["name"], f["status"]) for f in json.loads(out)["followups"]] == statuses

        code, out, _ = run_cli("drafts", *imap, "--dry-run", "--status", "due,missing,upcoming")
        assert code == 0 and out.count("exists in Drafts") == 2
        assert snapshot(server, account) == after
    assert b"APPEND" in proxy.commands and proxy.commands.count(b"APPEND") == 2
    assert not WRITES & set(proxy.commands), sorted(set(proxy.commands))


@pytest.mark.imap
def test_no_drafts_folder_is_a_mailbox_error(
    server: Server, account: Account, tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", account.password)
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text(CALENDAR.replace("me@example.com", account.user), encoding="utf-8")
    before = snapshot(server, account)
    code, _, err = run_cli(
        "drafts", "--calendar", str(calendar), "--now", NOW, "--imap-host", "127.0.0.1",
        "--imap-port", str(server.imap_port), "--security", "plain", "--user", account.user,
        "--password-env", "TEST_IMAP_PASSWORD", "--folder", "INBOX", "--drafts-folder", "Nowhere",
    )  # fmt: skip
    assert code == 3 and "'Nowhere' does not exist" in err
    assert snapshot(server, account) == before
    assert os.environ["TEST_IMAP_PASSWORD"] == account.password


def test_drafts_are_signed_with_the_configs_name(
    offline: tuple[Path, Path], tmp_path: Path, run_cli: RunCli
) -> None:
    calendar, mbox = offline
    config = tmp_path / "config.yaml"
    config.write_text(f"version: 1\nname: Jordan Smith\ncalendar: {calendar}\n")
    config.chmod(0o600)
    out = tmp_path / "drafts"
    code, _, err = run_cli(
        "drafts", "--config", str(config), "--mbox", str(mbox), "--now", NOW, "--eml-dir", str(out)
    )
    assert code == 0, err
    message = email.message_from_bytes(sorted(out.iterdir())[0].read_bytes(), policy=email.policy.default)
    assert message["From"].addresses[0].display_name == "Jordan Smith"
    assert message.get_content().rstrip().endswith("Jordan Smith")
