"""ImapSource: Sent-folder choice and safety rules (pure), then real scans against GreenMail and
Dovecot, and the Source contract on each."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import pytest

from greenmail import (
    Account,
    GreenMail,
    Mail,
    Server,
    demo_inbox_mail,
    demo_mail,
    draft_to_everyone,
    seed,
    seed_gmail_shaped,
    snapshot,
)
from helpers import ImapFactory, RunCli, raw_message
from source_contract import MakeSource, SourceTests
from thankyou_scan import (
    AuthenticationError,
    ConnectError,
    ImapSource,
    Source,
    TlsError,
    UsageError,
    load_calendar,
    parse_calendar,
    scan,
)
from thankyou_scan.sources.imap import Folder, choose_sent_folder, is_loopback

UTC = timezone.utc
DATA = resources.files("thankyou_scan") / "data"
DEMO_NOW = "2026-11-10T17:00:00Z"


# -- pure rules -------------------------------------------------------------------


def folders(*specs: str, delimiter: str = "/") -> list[Folder]:
    result = []
    for spec in specs:
        name, _, flags = spec.partition(" ")
        result.append(Folder(name.replace("_", " "), tuple(f.lower() for f in flags.split()), delimiter))
    return result


@pytest.mark.parametrize(
    ("listing", "delimiter", "expected"),
    [
        (["INBOX", "Sent \\Sent", "Drafts \\Drafts"], "/", "Sent"),
        (["INBOX", "Outgoing_mail \\Sent"], "/", "Outgoing mail"),  # the flag wins over names
        (["INBOX", "[Gmail]/All_Mail", "[Gmail]/Sent_Mail", "[Gmail]/Drafts"], ".", "[Gmail]/Sent Mail"),
        (["INBOX", "[Gmail] \\Noselect", "[Gmail]/Sent_Mail", "[Gmail]/Spam"], "/", "[Gmail]/Sent Mail"),
        (["INBOX", "[Google_Mail]/Gesendet", "[Google_Mail]/Entwürfe"], ".", "[Google Mail]/Gesendet"),
        (["INBOX", "[Gmail]/Messages_envoyés"], ".", "[Gmail]/Messages envoyés"),
        (["INBOX", "[Gmail]/Posta_inviata"], "/", "[Gmail]/Posta inviata"),
        (["INBOX", "[Gmail]/Wysłane"], "/", "[Gmail]/Wysłane"),
        (["INBOX", "[Gmail]/Skickat"], "/", "[Gmail]/Skickat"),
        (["INBOX", "[Gmail]/Verzonden_berichten"], "/", "[Gmail]/Verzonden berichten"),
        (["INBOX", "[Gmail]/Enviados"], "/", "[Gmail]/Enviados"),
        (["INBOX", "[Gmail]/E-mails_enviados"], "/", "[Gmail]/E-mails enviados"),
        (["INBOX", "Sent_Items", "Trash"], "/", "Sent Items"),
        (["INBOX", "Sent_Messages"], "/", "Sent Messages"),
        (["INBOX", "INBOX.Sent", "INBOX.Drafts"], ".", "INBOX.Sent"),
        (["INBOX", "INBOX/Sent"], "/", "INBOX/Sent"),
        (["INBOX", "sent"], "/", "sent"),
        (["INBOX", "[Gmail]/All_Mail \\All", "[Gmail]/Drafts \\Drafts"], "/", None),
        (["INBOX", "Archive"], "/", None),
    ],
)
def test_choose_sent_folder(listing: list[str], delimiter: str, expected: str | None) -> None:
    chosen = choose_sent_folder(folders(*listing, delimiter=delimiter))
    assert (chosen.name if chosen else None) == expected


def test_all_mail_drafts_spam_trash_are_never_sent_even_if_flagged_oddly() -> None:
    assert choose_sent_folder(folders("[Gmail]/All_Mail \\Sent \\All")) is None
    for name in ("[Gmail]/All_Mail", "[Gmail]/Drafts", "[Gmail]/Spam", "[Gmail]/Trash", "Junk"):
        assert Folder(name.replace("_", " ")).not_sent_reason is not None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST.", True),
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("10.0.0.1", False),
        ("imap.gmail.com", False),
        ("localhost.example.com", False),
        ("127.0.0.1.nip.io", False),
    ],
)
def test_is_loopback_needs_no_dns(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_plain_is_refused_for_remote_hosts_before_any_lookup() -> None:
    with pytest.raises(UsageError, match=r"refusing an unencrypted connection to mail\.example\.com"):
        ImapSource("mail.example.com", user="u", password="p", security="plain")


def test_constructor_does_not_connect_and_repr_hides_secrets() -> None:
    source = ImapSource("imap.invalid", user="me@example.com", password="hunter2-secret")
    assert "hunter2" not in repr(source) and "hunter2" not in repr(vars(source))
    token_source = ImapSource("imap.invalid", user="me@example.com", oauth2_token="ya29.token-value")
    assert "ya29" not in repr(token_source) and "ya29" not in repr(vars(token_source))
    with pytest.raises(UsageError, match="not open"):
        list(source.sent_messages())


# -- against GreenMail ---------------------------------------------------------------


def imap_args(server: Server, account: Account, *extra: str) -> list[str]:
    return [
        "--imap-host", "127.0.0.1", "--imap-port", str(server.imap_port), "--security", "plain",
        "--user", account.user, "--password-env", "TEST_IMAP_PASSWORD", *extra,
    ]  # fmt: skip


def scan_demo(run_cli: RunCli, *args: str) -> tuple[int, str, str]:
    """``thankyou-scan scan`` of the demo calendar at the demo's ``now``, with ``args`` added."""
    with resources.as_file(DATA / "demo-calendar.yaml") as cal:
        return run_cli("scan", "--calendar", str(cal), *args, "--now", DEMO_NOW)


@pytest.fixture
def password_env(monkeypatch: pytest.MonkeyPatch, account: Account) -> Account:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", account.password)
    return account


def mbox_report(run_cli: RunCli) -> dict[str, object]:
    with (
        resources.as_file(DATA / "demo-calendar.yaml") as cal,
        resources.as_file(DATA / "demo-sent.mbox") as mbox,
    ):
        code, out, _ = run_cli(
            "scan", "--calendar", str(cal), "--mbox", str(mbox), "--now", DEMO_NOW, "--format", "json"
        )
    assert code == 1
    data: dict[str, object] = json.loads(out)
    return data


@pytest.mark.imap
def test_imap_report_equals_the_mbox_report_for_the_same_mail(
    server: Server, password_env: Account, run_cli: RunCli
) -> None:
    seed(
        server,
        password_env,
        {"Sent": demo_mail(), "INBOX": demo_inbox_mail(), "Drafts": [draft_to_everyone()]},
    )
    expected = mbox_report(run_cli)
    code, out, err = scan_demo(run_cli, *imap_args(server, password_env), "--format", "json")
    assert code == 1, err
    report = json.loads(out)
    assert report["source"] == {
        "kind": "imap",
        "folder": "Sent",
        "messages_scanned": 8,
        "messages_skipped": 0,
    }
    assert {k: v for k, v in report.items() if k != "source"} == {
        k: v for k, v in expected.items() if k != "source"
    }
    assert password_env.password not in out + err


@pytest.mark.imap
def test_gmail_shaped_account_is_found_without_folder(
    server: Server, password_env: Account, run_cli: RunCli
) -> None:
    seed_gmail_shaped(server, password_env)
    code, out, _ = run_cli("folders", *imap_args(server, password_env))
    assert code == 0
    marked = [line for line in out.splitlines() if line.startswith("*")]
    assert len(marked) == 1 and "[Gmail]/Sent Mail" in marked[0]
    expected = mbox_report(run_cli)
    code, out, _ = scan_demo(run_cli, *imap_args(server, password_env), "--format", "json")
    report = json.loads(out)
    assert report["source"]["folder"] == "[Gmail]/Sent Mail"
    assert report["followups"] == expected["followups"]  # drafts, spam, trash, inbox, All Mail: none counted


@pytest.mark.imap
def test_localized_gmail_sent_folder(server: Server, account: Account, imap_source: ImapFactory) -> None:
    seed(
        server,
        account,
        {"[Google Mail]/Entwürfe": [draft_to_everyone()], "[Google Mail]/Gesendet": demo_mail()},
    )
    calendar = load_calendar(Path(str(DATA / "demo-calendar.yaml")))
    with imap_source(server.imap_port, account) as source:
        report = scan(calendar, source, now=datetime(2026, 11, 10, 17, 0, tzinfo=UTC))
    assert report.source.folder == "[Google Mail]/Gesendet"
    assert report.summary == {"sent": 7, "late": 1, "missing": 2, "due": 1, "upcoming": 1, "skipped": 2}


@pytest.mark.imap
def test_folder_option_overrides_and_refuses_all_mail(
    server: Server, password_env: Account, run_cli: RunCli
) -> None:
    seed(server, password_env, {"Sent": [], "Outbox archive": demo_mail(), "[Gmail]/All Mail": demo_mail()})
    code, out, _ = scan_demo(
        run_cli, *imap_args(server, password_env, "--folder", "Outbox archive"), "--format", "json"
    )
    assert json.loads(out)["summary"]["sent"] == 7
    code, out, err = scan_demo(run_cli, *imap_args(server, password_env, "--folder", "[Gmail]/All Mail"))
    assert (code, out) == (2, "")
    assert "refusing to read '[Gmail]/All Mail' as sent mail" in err
    code, out, err = scan_demo(run_cli, *imap_args(server, password_env, "--folder", "Nope"))
    assert (code, out) == (3, "")
    assert "folder 'Nope' does not exist" in err and "'Outbox archive'" in err


@pytest.mark.imap
def test_no_sent_folder_lists_what_exists(server: Server, password_env: Account, run_cli: RunCli) -> None:
    seed(server, password_env, {"Archive": [], "[Gmail]/All Mail": demo_mail()})
    code, out, err = scan_demo(run_cli, *imap_args(server, password_env))
    assert (code, out) == (3, "")
    assert "no Sent folder found" in err and "'Archive'" in err and "--folder" in err


@pytest.mark.imap
def test_garbage_date_is_placed_by_internaldate(
    server: Server, account: Account, imap_source: ImapFactory
) -> None:
    calendar = parse_calendar(
        "timezone: UTC\nevents:\n  - {title: Chat, kind: meeting, start: 2026-11-02 10:00, people: [ada@acme.example]}\n"
    )
    seed(
        server,
        account,
        {
            "Sent": [
                Mail(raw_message(date="the day after the chat"), datetime(2026, 11, 3, 9, 30, tzinfo=UTC))
            ]
        },
    )
    with imap_source(server.imap_port, account) as source:
        report = scan(calendar, source, now=datetime(2026, 11, 10, tzinfo=UTC))
    (followup,) = report.followups
    assert followup.status.value == "sent"
    assert followup.message is not None
    assert followup.message.date == datetime(2026, 11, 3, 9, 30, tzinfo=UTC)
    assert not followup.message.date_from_header


@pytest.mark.imap
def test_wrong_password_exit_3_and_the_secret_is_never_shown(
    server: Server,
    account: Account,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    imap_source: ImapFactory,
) -> None:
    wrong = "Wr0ng-And-Very-Secret-Password"
    monkeypatch.setenv("TEST_IMAP_PASSWORD", wrong)
    code, out, err = scan_demo(run_cli, "-v", *imap_args(server, account))
    assert (code, out) == (3, "")
    assert "refused the login" in err
    assert wrong not in err
    with pytest.raises(AuthenticationError) as caught:
        imap_source(server.imap_port, account, password=wrong).open()
    assert wrong not in str(caught.value) and wrong not in repr(caught.value)
    assert caught.value.__suppress_context__  # imaplib's own exception (and its frames) stay hidden


@pytest.mark.imap
def test_imaps_certificate_checked_by_default(
    greenmail: GreenMail,
    gm_account: Account,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_IMAP_PASSWORD", gm_account.password)
    seed(greenmail, gm_account, {"Sent": demo_mail()})
    tls = [
        "--imap-host",
        "127.0.0.1",
        "--imap-port",
        str(greenmail.imaps_port),
        "--user",
        gm_account.user,
        "--password-env",
        "TEST_IMAP_PASSWORD",
    ]
    code, out, err = scan_demo(run_cli, *tls)
    assert (code, out) == (3, "")
    assert "certificate" in err and "(on the command line: --tls-ca FILE, --insecure-skip-verify)" in err
    code, out, err = scan_demo(run_cli, *tls, "--tls-ca", str(greenmail.ca_pem), "--format", "json")
    assert code == 1, err
    assert json.loads(out)["summary"]["sent"] == 7
    assert "warning" not in err
    code, out, err = scan_demo(run_cli, *tls, "--insecure-skip-verify", "--format", "json")
    assert code == 1
    assert "TLS certificate checking is OFF" in err
    with pytest.raises(TlsError) as caught:
        ImapSource(
            "127.0.0.1", port=greenmail.imaps_port, user=gm_account.user, password=gm_account.password
        ).open()
    # the library speaks of its parameters; the CLI (above) adds its flags
    assert "tls_ca" in str(caught.value) and "--" not in str(caught.value)
    assert caught.value.options == ("tls_ca", "verify")
    # by name as well as by address: the certificate names localhost, and the name is checked
    with ImapSource(
        "localhost",
        port=greenmail.imaps_port,
        user=gm_account.user,
        password=gm_account.password,
        tls_ca=greenmail.ca_pem,
    ) as source:
        assert source.list_folders()


@pytest.mark.imap
def test_scan_changes_nothing_and_keeps_unseen_unseen(
    server: Server, account: Account, imap_source: ImapFactory
) -> None:
    unseen = [Mail(m.raw, m.internaldate, flags=()) for m in demo_mail()]
    seed(
        server,
        account,
        {
            "INBOX": demo_inbox_mail(),
            "Sent": unseen,
            "Drafts": [draft_to_everyone()],
            "[Gmail]/All Mail": unseen,
        },
    )
    before = snapshot(server, account)
    assert all(b"\\Seen" not in flags for _uid, flags, _size in before["Sent"])
    calendar = load_calendar(Path(str(DATA / "demo-calendar.yaml")))
    progress: list[tuple[int, int]] = []
    with imap_source(
        server.imap_port, account, batch_size=3, progress=lambda done, total: progress.append((done, total))
    ) as source:
        report = scan(calendar, source, now=datetime(2026, 11, 10, 17, 0, tzinfo=UTC))
    assert report.summary["sent"] == 7
    assert progress == [(3, 8), (6, 8), (8, 8)]  # three FETCH batches of at most 3
    assert snapshot(server, account) == before


@pytest.mark.imap
def test_bad_connections_exit_3_with_one_line(run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    from greenmail import free_port

    monkeypatch.setenv("TEST_IMAP_PASSWORD", "x")
    port = free_port()  # nothing listens there
    with resources.as_file(DATA / "demo-calendar.yaml") as cal:
        code, out, err = run_cli(
            "scan", "--calendar", str(cal), "--imap-host", "127.0.0.1", "--imap-port", str(port),
            "--security", "plain", "--user", "u@example.com", "--password-env", "TEST_IMAP_PASSWORD", "--timeout", "5",
        )  # fmt: skip
    assert (code, out) == (3, "")
    assert f"cannot connect to 127.0.0.1:{port}" in err
    assert len(err.strip().splitlines()) == 1
    with pytest.raises(ConnectError):
        ImapSource("127.0.0.1", port=port, security="plain", user="u", password="p", timeout=5).open()


@pytest.mark.imap
def test_secrets_absent_from_debug_logs(
    server: Server, account: Account, caplog: pytest.LogCaptureFixture, imap_source: ImapFactory
) -> None:
    seed(server, account, {"Sent": demo_mail()[:2]})
    imaplib_logger = logging.getLogger("imapclient")
    with caplog.at_level(logging.DEBUG):
        imaplib_logger.setLevel(logging.DEBUG)
        with imap_source(server.imap_port, account) as source:
            list(source.sent_messages())
    assert account.password not in caplog.text


@pytest.mark.imap
def test_dropped_connection_resumes_at_the_lost_batch(
    server: Server, account: Account, imap_source: ImapFactory
) -> None:
    from faultproxy import CutOn, FaultProxy

    seed(server, account, {"Sent": demo_mail()})
    calendar = load_calendar(Path(str(DATA / "demo-calendar.yaml")))
    now = datetime(2026, 11, 10, 17, 0, tzinfo=UTC)

    def run(proxy: FaultProxy) -> tuple[object, int]:
        with imap_source(proxy.port, account, batch_size=3, backoff=0.05) as source:
            return scan(calendar, source, now=now), source.reconnects

    with FaultProxy(server.imap_port, [None]) as clean:
        expected, reconnects = run(clean)
    assert reconnects == 0
    # 8 notes in batches of 3, and INTERNALDATE for the one whose Date has no zone
    assert clean.commands.count(b"FETCH") == 4
    # the 2nd FETCH of the first connection, then the 1st of the second, are cut
    with FaultProxy(server.imap_port, [CutOn(b"FETCH", 2), CutOn(b"FETCH", 1), None]) as faulty:
        report, reconnects = run(faulty)
    assert reconnects == 2
    assert report == expected
    assert faulty.commands.count(b"FETCH") == 4  # batch 1 was not fetched again
    assert faulty.commands.count(b"EXAMINE") == 3
    assert not (
        {b"SELECT", b"STORE", b"EXPUNGE", b"MOVE", b"DELETE", b"COPY", b"APPEND"} & set(faulty.commands)
    )


@pytest.mark.imap
def test_connection_dropping_every_time_exits_3_without_a_report(
    server: Server, password_env: Account, run_cli: RunCli
) -> None:
    from faultproxy import CutOn, FaultProxy

    seed(server, password_env, {"Sent": demo_mail()})
    with (
        FaultProxy(server.imap_port, [CutOn(b"FETCH")]) as proxy,
        resources.as_file(DATA / "demo-calendar.yaml") as cal,
    ):
        args = imap_args(server, password_env)
        args[args.index(str(server.imap_port))] = str(proxy.port)
        code, out, err = run_cli("scan", "--calendar", str(cal), *args, "--now", DEMO_NOW, "--format", "json")
    assert (code, out) == (3, "")
    assert "keeps failing" in err and "no report was made" in err
    assert "Traceback" not in err
    assert proxy.connections == 4  # the first try and three reconnects


@pytest.mark.imap
def test_dropped_scans_leave_the_mailbox_as_it_was(
    server: Server, account: Account, imap_source: ImapFactory
) -> None:
    from faultproxy import CutOn, FaultProxy

    seed(
        server,
        account,
        {
            "Sent": [Mail(m.raw, m.internaldate, flags=()) for m in demo_mail()],
            "Drafts": [draft_to_everyone()],
        },
    )
    before = snapshot(server, account)
    calendar = load_calendar(Path(str(DATA / "demo-calendar.yaml")))
    with FaultProxy(server.imap_port, [CutOn(b"FETCH", 2), CutOn(b"FETCH", 1)]) as proxy:
        source = imap_source(proxy.port, account, batch_size=3, retries=1, backoff=0.01)
        with source, pytest.raises(ConnectError, match="keeps failing"):
            scan(calendar, source, now=datetime(2026, 11, 10, 17, 0, tzinfo=UTC))
    assert snapshot(server, account) == before


@pytest.mark.imap
@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ("search-bad", "refused SEARCH"),
        ("fetch-no", "refused FETCH"),
        ("fetch-bad", "refused FETCH"),
        ("greeting", "keeps failing (connecting: socket error: EOF)"),
        ("stall", "127.0.0.1:{port} timed out after 2 s (FETCH)"),
        ("drip", "127.0.0.1:{port} timed out after 2 s (EXAMINE 'Sent')"),
    ],
)
def test_server_faults_exit_3_with_a_plain_message(
    server: Server, password_env: Account, run_cli: RunCli, rule: str, fragment: str
) -> None:
    import time

    from faultproxy import CloseOnConnect, CutOn, FaultProxy

    seed(server, password_env, {"Sent": demo_mail()})
    rules = {
        "search-bad": CutOn(b"SEARCH", action="bad"),
        "fetch-no": CutOn(b"FETCH", action="no"),
        "fetch-bad": CutOn(b"FETCH", action="bad"),
        "greeting": CloseOnConnect(),
        "stall": CutOn(b"FETCH", action="stall"),
        "drip": CutOn(b"EXAMINE", action="drip"),
    }
    with (
        FaultProxy(server.imap_port, [rules[rule]]) as proxy,
        resources.as_file(DATA / "demo-calendar.yaml") as cal,
    ):
        args = imap_args(server, password_env, "--timeout", "2")
        args[args.index(str(server.imap_port))] = str(proxy.port)
        started = time.monotonic()
        code, out, err = run_cli("scan", "--calendar", str(cal), *args, "--now", DEMO_NOW)
        elapsed = time.monotonic() - started
    assert (code, out) == (3, ""), err
    assert fragment.format(port=proxy.port) in err
    assert "Traceback" not in err
    assert elapsed < 15  # a stalled server costs about --timeout, not forever
    if rule in ("stall", "drip"):
        assert len(err.strip().splitlines()) == 1 and proxy.connections == 1  # a timeout is not retried


@pytest.mark.imap
def test_dovecot_special_use_and_a_real_gmail_hierarchy(
    dovecot: object, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, imap_source: ImapFactory
) -> None:
    from dovecot import Dovecot

    assert isinstance(dovecot, Dovecot)
    account = dovecot.account()
    monkeypatch.setenv("TEST_IMAP_PASSWORD", account.password)
    seed_gmail_shaped(dovecot, account)
    with imap_source(dovecot.imap_port, account) as source:
        listing = {folder.name: folder for folder in source.list_folders()}
        assert "SPECIAL-USE" in source.capabilities
    assert listing["[Gmail]/Sent Mail"].delimiter == "/"
    assert "\\sent" in listing["[Gmail]/Sent Mail"].flags  # found by its flag, as on real Gmail
    assert "\\all" in listing["[Gmail]/All Mail"].flags
    assert "[Gmail]" in listing  # a real parent folder
    code, out, _ = run_cli("folders", *imap_args(dovecot, account))  # type: ignore[arg-type]
    assert code == 0
    assert [line.split()[1] for line in out.splitlines() if line.startswith("*")] == ["[Gmail]/Sent"]


# -- issue 9: real-world headers, --me, and the library without `with` ---------------------


@pytest.mark.imap
def test_real_world_headers_find_every_recipient_over_imap(
    server: Server, account: Account, imap_source: ImapFactory
) -> None:
    from helpers import HEADER_CASES, header_case_calendar

    when = datetime(2026, 11, 2, 18, 0, tzinfo=UTC)
    seed(server, account, {"Sent": [Mail(raw, when) for _name, raw, _recipient in HEADER_CASES]})
    calendar = parse_calendar(header_case_calendar(HEADER_CASES))
    source = imap_source(server.imap_port, account)
    report = scan(calendar, source, now=datetime(2026, 11, 10, tzinfo=UTC))  # no `with`: scan opens it
    assert not source.is_open  # ... and closes it again
    assert {f.person.email: f.status.value for f in report.followups} == {
        recipient: "sent" for _name, _raw, recipient in HEADER_CASES
    }


@pytest.mark.imap
def test_me_with_imap_is_refused_with_a_reason(
    server: Server, password_env: Account, run_cli: RunCli
) -> None:
    code, out, err = scan_demo(run_cli, *imap_args(server, password_env), "--me", "me@example.com")
    assert code == 2 and out == ""
    assert "--me is for --mbox and --maildir" in err


@pytest.mark.imap
def test_a_message_with_an_old_internaldate_is_found_by_its_date_header(
    server: Server, account: Account, imap_source: ImapFactory
) -> None:
    # SEARCH SINCE compares INTERNALDATE; an import can leave it at 1970 while the Date is recent.
    raw = raw_message(to="ada@acme.example", date="Tue, 3 Nov 2026 09:00:00 +0000")
    seed(server, account, {"Sent": [Mail(raw, datetime(1970, 1, 2, tzinfo=UTC))]})
    calendar = parse_calendar(
        "version: 1\ntimezone: UTC\nevents:\n"
        "  - {title: Onsite, kind: interview, start: 2026-11-02 10:00, people: [ada@acme.example]}\n"
    )
    source = imap_source(server.imap_port, account)
    report = scan(calendar, source, now=datetime(2026, 11, 10, tzinfo=UTC))
    assert [f.status.value for f in report.followups] == ["sent"]


@pytest.mark.imap
def test_a_connection_lost_during_login_is_retried_not_a_wrong_password(
    server: Server, password_env: Account, run_cli: RunCli
) -> None:
    from faultproxy import CutOn, FaultProxy

    seed(server, password_env, {"Sent": demo_mail()})
    expected = mbox_report(run_cli)
    for rules, code_wanted in (([CutOn(b"LOGIN"), None], 1), ([CutOn(b"LOGIN")], 3)):
        with FaultProxy(server.imap_port, rules) as proxy:  # type: ignore[arg-type]
            args = imap_args(server, password_env)
            args[args.index(str(server.imap_port))] = str(proxy.port)
            code, out, err = scan_demo(run_cli, *args, "--format", "json")
        assert code == code_wanted, err
        assert "refused the login" not in err and "Traceback" not in err
        if code == 1:
            assert json.loads(out)["followups"] == expected["followups"]
            assert proxy.connections == 2
        else:
            assert out == ""
            assert "keeps failing (LOGIN: socket error: EOF); gave up after 3 retries" in err
            assert proxy.connections == 4


@pytest.mark.imap
def test_a_stalled_server_is_an_imap_timeout_error_within_the_timeout(
    server: Server, account: Account, imap_source: ImapFactory
) -> None:
    import time

    from faultproxy import CutOn, FaultProxy
    from thankyou_scan import ImapTimeoutError

    seed(server, account, {"Sent": demo_mail()})
    calendar = load_calendar(Path(str(DATA / "demo-calendar.yaml")))
    with FaultProxy(server.imap_port, [CutOn(b"SEARCH", action="stall")]) as proxy:
        source = imap_source(proxy.port, account, timeout=1, backoff=0.01)
        started = time.monotonic()
        with source, pytest.raises(ImapTimeoutError, match=r"timed out after 1 s \(SEARCH\)"):
            scan(calendar, source, now=datetime(2026, 11, 10, 17, 0, tzinfo=UTC))
        assert time.monotonic() - started < 1 + 4  # the step's bound, plus the steps before it
    assert proxy.connections == 1


@pytest.mark.imap
def test_a_non_ascii_password_logs_in_to_dovecot(
    dovecot: object, run_cli: RunCli, imap_source: ImapFactory
) -> None:
    from dovecot import Dovecot

    assert isinstance(dovecot, Dovecot)
    account = dovecot.utf8_account
    with imap_source(dovecot.imap_port, account) as source:
        assert any(folder.name == "INBOX" for folder in source.list_folders())
    with pytest.raises(AuthenticationError) as caught:
        imap_source(dovecot.imap_port, account, password=account.password.replace("€", "¥")).open()
    assert "wörd" not in str(caught.value)


# -- the Source contract, on each server --------------------------------------------------


@pytest.mark.imap
class TestImapSource(SourceTests):
    kind = "imap"
    folder = "Sent"

    @pytest.fixture
    def make_source(self, server: Server, imap_source: ImapFactory) -> Iterator[MakeSource]:
        seeded: dict[tuple[Mail, ...], Account] = {}  # the same mail twice: one mailbox, two sources
        with ExitStack() as opened:

            def make(mail: list[Mail]) -> Source:
                account = seeded.get(tuple(mail))
                if account is None:
                    account = seeded[tuple(mail)] = server.account()
                    seed(server, account, {"Sent": mail})
                source: ImapSource = opened.enter_context(imap_source(server.imap_port, account))
                return source

            yield make
