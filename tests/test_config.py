"""The config file (docs/daily-use.md): reading it, its refusals, and `thankyou-scan` alone with it —
one account and two (GreenMail and Dovecot) making one report."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

import pytest

from dovecot import Dovecot
from greenmail import Account as ServerAccount
from greenmail import GreenMail, Mail, demo_mail, seed
from helpers import RunCli, raw_message
from thankyou_scan.config import Account, ConfigError, find_config, load_config
from thankyou_scan.errors import ConfigError as ErrorsConfigError

UTC = timezone.utc
DATA = resources.files("thankyou_scan") / "data"
DEMO_NOW = "2026-11-10T17:00:00Z"


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def problems(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


# -- reading the file ---------------------------------------------------------------


def test_a_full_config_is_read_with_paths_relative_to_it(tmp_path: Path) -> None:
    config = write(
        tmp_path / "config.yaml",
        """\
version: 1
calendar: [jobs.yaml, ~/other.yaml]
me: you@gmail.com
accounts:
  - name: gmail
    imap_host: imap.gmail.com
    user: you@gmail.com
    oauth2: gmail
  - name: work
    imap_host: mail.example.com
    imap_port: 143
    security: starttls
    user: you@company.example
    folder: [Sent, Archive/Sent]
    timeout: 10
    password_command: [pass, show, mail/work]
drafts:
  templates: {interview: thanks.txt}
""",
    )
    loaded = load_config(config)
    assert loaded.calendars == (tmp_path / "jobs.yaml", Path.home() / "other.yaml")
    assert loaded.me == ("you@gmail.com",)
    gmail, work = loaded.accounts
    assert gmail == Account(
        name="gmail", imap_host="imap.gmail.com", user="you@gmail.com", oauth2="gmail", line=5
    )
    assert work.password_command == ("pass", "show", "mail/work")
    assert (work.imap_port, work.security, work.folders, work.timeout) == (
        143,
        "starttls",
        ("Sent", "Archive/Sent"),
        10.0,
    )
    assert loaded.drafts_templates == {"interview": tmp_path / "thanks.txt"}
    assert loaded.account("work") is work
    with pytest.raises(ConfigError, match="no account 'wrok' — did you mean 'work'"):
        loaded.account("wrok")


def test_a_password_in_the_file_is_refused_without_repeating_it(tmp_path: Path) -> None:
    config = write(
        tmp_path / "c.yaml",
        "version: 1\naccounts:\n  - name: gmail\n    imap_host: imap.gmail.com\n    user: u@gmail.com\n"
        "    password: Hunter2-secret\n",
    )
    message = problems(config)
    assert f"{config}:6:" in message
    assert "password_command" in message and "keyring" in message and "oauth2" in message
    assert "Hunter2" not in message


@pytest.mark.parametrize(
    ("account", "expected"),
    [
        ("    password_command: pass show mail/x\n", "must be a list of words, run without a shell"),
        ("    password_env: X\n    keyring: true\n", "give one of password_env, keyring, not several"),
        ("", "needs one way to its password"),
        ("    oauth2: google\n", "oauth2 'google' is not known"),
        ("    oauth2: microsoft\n", "needs 'oauth2_client_id:'"),
        (
            "    password_env: X\n    securty: ssl\n",
            "unknown key 'securty' in an account — did you mean 'security'?",
        ),
        ("    password_env: X\n    imap_port: 99999\n", "'imap_port' must be a port number"),
        ("    password_env: X\n    security: tls\n", "security 'tls' is not known"),
        ("    password_env: 'not a var'\n", "must name an environment variable"),
    ],
)
def test_account_mistakes_name_the_line_and_the_fix(tmp_path: Path, account: str, expected: str) -> None:
    config = write(
        tmp_path / "c.yaml",
        f"version: 1\naccounts:\n  - name: a\n    imap_host: h.example\n    user: u@example.com\n{account}",
    )
    message = problems(config)
    assert expected in message
    assert f"{config}:" in message


def test_yaml_errors_and_duplicate_names_have_lines(tmp_path: Path) -> None:
    broken = write(tmp_path / "broken.yaml", "version: 1\naccounts: [\n")
    assert f"{broken}:" in problems(broken)
    twice = write(
        tmp_path / "twice.yaml",
        "accounts:\n"
        "  - {name: a, imap_host: h, user: u@x.example, password_env: X}\n"
        "  - {name: a, imap_host: h, user: u@x.example, password_env: X}\n",
    )
    assert f"{twice}:3: account 'a': a second account is called 'a'" in problems(twice)
    assert "!!python" in problems(write(tmp_path / "tag.yaml", "calendar: !!python/name:os.system x\n"))


def test_a_config_others_could_write_is_refused(tmp_path: Path) -> None:
    config = write(tmp_path / "c.yaml", "version: 1\n", mode=0o622)
    assert "others may write to it" in problems(config)
    assert issubclass(ConfigError, ErrorsConfigError)


def test_where_the_config_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("THANKYOU_SCAN_CONFIG", raising=False)
    assert find_config() is None  # nothing at the default place
    default = Path(os.environ["XDG_CONFIG_HOME"]) / "thankyou-scan" / "config.yaml"
    default.parent.mkdir(parents=True)
    write(default, "version: 1\n")
    assert find_config() == default
    monkeypatch.setenv("THANKYOU_SCAN_CONFIG", str(tmp_path / "env.yaml"))
    assert find_config() == tmp_path / "env.yaml"  # even before it exists: loading it says so
    assert find_config(tmp_path / "flag.yaml") == tmp_path / "flag.yaml"


# -- the command line without a server -------------------------------------------------


def test_no_arguments_without_a_config_print_the_help(run_cli: RunCli) -> None:
    code, out, _ = run_cli()
    assert code == 2
    assert "scan" in out and "check" in out and "thankyou-scan init" in out


def test_config_errors_exit_2_with_file_and_line(run_cli: RunCli, tmp_path: Path) -> None:
    config = write(tmp_path / "c.yaml", "version: 1\ncalender: x.yaml\n")
    code, out, err = run_cli("--config", str(config))
    assert code == 2 and out == ""
    assert f"{config}:2: unknown key 'calender' in the config — did you mean 'calendar'?" in err
    code, _, err = run_cli("scan", "--config", str(tmp_path / "missing.yaml"))
    assert code == 2 and "no such file — create it with: thankyou-scan init" in err


def test_a_config_without_accounts_says_how_to_read_mail(run_cli: RunCli, tmp_path: Path) -> None:
    with resources.as_file(DATA / "demo-calendar.yaml") as cal:
        config = write(tmp_path / "c.yaml", f"version: 1\ncalendar: {cal}\n")
        code, _, err = run_cli("--config", str(config))
        assert code == 2 and "no mail to read" in err and "add 'accounts:'" in err
        code, out, err = run_cli("--config", str(config), "check")  # an option before the command
        assert code == 0 and "OK" in out, err
        # Flags still work with a config: its calendar, the mbox of the command line.
        with resources.as_file(DATA / "demo-sent.mbox") as mbox:
            code, out, _ = run_cli("scan", "--config", str(config), "--mbox", str(mbox), "--now", DEMO_NOW)
    assert code == 1 and "Hooli" in out


def test_an_unknown_account_is_a_usage_error(run_cli: RunCli, tmp_path: Path) -> None:
    config = write(
        tmp_path / "c.yaml",
        "version: 1\ncalendar: cal.yaml\naccounts:\n  - {name: work, imap_host: h, user: u@x.example, password_env: X}\n",
    )
    code, _, err = run_cli("scan", "--config", str(config), "--account", "wrok")
    assert code == 2 and "did you mean 'work'" in err


# -- against GreenMail and Dovecot ------------------------------------------------------


def account_yaml(name: str, port: int, account: ServerAccount, secret_file: Path) -> str:
    secret_file.write_text(account.password + "\n")
    return (
        f"  - name: {name}\n    imap_host: 127.0.0.1\n    imap_port: {port}\n    security: plain\n"
        f"    user: {account.user}\n    password_command: [cat, {secret_file}]\n"
    )


@pytest.mark.imap
def test_thankyou_scan_alone_scans_the_configured_account(
    run_cli: RunCli, greenmail: GreenMail, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = greenmail.account()
    seed(greenmail, user, {"Sent": demo_mail()})
    with resources.as_file(DATA / "demo-calendar.yaml") as cal:
        config = write(
            Path(os.environ["XDG_CONFIG_HOME"]) / "config.yaml",
            f"version: 1\ncalendar: {cal}\naccounts:\n"
            + account_yaml("mine", greenmail.imap_port, user, tmp_path / "pw"),
        )
        monkeypatch.setenv("THANKYOU_SCAN_CONFIG", str(config))
        code, out, err = run_cli("--now", DEMO_NOW, "--format", "json")  # options alone: a scan
        with resources.as_file(DATA / "demo-sent.mbox") as mbox:
            _, expected, _ = run_cli(
                "scan", "--calendar", str(cal), "--mbox", str(mbox), "--now", DEMO_NOW, "--format", "json"
            )
        alone = run_cli()  # the morning command: no argument at all
        folders = run_cli("folders", "--account", "mine")
    assert code == 1, err
    report, wanted = json.loads(out), json.loads(expected)
    assert report["followups"] == wanted["followups"]
    assert report["source"]["kind"] == "imap" and report["source"]["account"] == "mine"
    assert [source["account"] for source in report["sources"]] == ["mine"]
    assert alone[0] == 1 and "Hooli" in alone[1]  # the text report, of the configured account
    assert folders[0] == 0 and "<- a scan reads this folder" in folders[1]
    assert user.password not in out + err + alone[1] + alone[2]


@pytest.mark.imap
def test_two_accounts_make_one_report_and_the_earliest_note_wins(
    run_cli: RunCli, greenmail: GreenMail, dovecot: Dovecot, tmp_path: Path
) -> None:
    mail = demo_mail()
    personal, work = greenmail.account(), dovecot.account()
    # Half the notes went out from each account: neither alone pays them all.
    seed(greenmail, personal, {"Sent": mail[::2]})
    seed(dovecot, work, {"Sent": mail[1::2]})
    # The Hooli note (missing in the demo) sent from both: from work a day late, from Gmail on
    # time — the earliest counts.
    late = Mail(
        raw_message(
            to="Gavin <gavin@hooli.example>", date="Sat, 7 Nov 2026 09:00:00 +0000", message_id="<dup-late@x>"
        ),
        datetime(2026, 11, 7, 9, tzinfo=UTC),
    )
    on_time = Mail(
        raw_message(
            to="gavin@hooli.example", date="Thu, 5 Nov 2026 20:00:00 +0000", message_id="<dup-early@x>"
        ),
        datetime(2026, 11, 5, 20, tzinfo=UTC),
    )
    seed(dovecot, work, {"Sent": [late]}, create=False)
    seed(greenmail, personal, {"Sent": [on_time]}, create=False)
    with resources.as_file(DATA / "demo-calendar.yaml") as cal:
        config = write(
            tmp_path / "config.yaml",
            f"version: 1\ncalendar: {cal}\naccounts:\n"
            + account_yaml("gmail", greenmail.imap_port, personal, tmp_path / "pw1")
            + account_yaml("work", dovecot.imap_port, work, tmp_path / "pw2"),
        )
        both = run_cli("--config", str(config), "scan", "--now", DEMO_NOW, "--format", "json")
        only_work = run_cli(
            "scan", "--config", str(config), "--account", "work", "--now", DEMO_NOW, "--format", "json"
        )
        with resources.as_file(DATA / "demo-sent.mbox") as mbox:
            _, expected, _ = run_cli(
                "scan", "--calendar", str(cal), "--mbox", str(mbox), "--now", DEMO_NOW, "--format", "json"
            )
    report = json.loads(both[1])
    wanted = json.loads(expected)
    assert [
        (f["event"]["id"], f["person"]["email"], f["status"])
        for f in report["followups"]
        if f["person"]["email"] != "gavin@hooli.example"
    ] == [
        (f["event"]["id"], f["person"]["email"], f["status"])
        for f in wanted["followups"]
        if f["person"]["email"] != "gavin@hooli.example"
    ]
    gavin = [f for f in report["followups"] if f["person"]["email"] == "gavin@hooli.example"]
    assert [(f["status"], f["message"]["message_id"]) for f in gavin] == [("sent", "<dup-early@x>")]
    assert [s["account"] for s in report["sources"]] == ["gmail", "work"]
    assert report["source"]["kind"] == "accounts" and report["source"]["folder"] is None
    assert report["source"]["messages_scanned"] == sum(s["messages_scanned"] for s in report["sources"])
    work_only = json.loads(only_work[1])
    assert [s["account"] for s in work_only["sources"]] == ["work"]
    assert work_only["summary"] != report["summary"]  # half the notes are in the other account


# -- init -------------------------------------------------------------------------------


def test_init_writes_a_config_that_reads_back_and_a_calendar_to_start_from(
    run_cli: RunCli, tmp_path: Path
) -> None:
    config, calendar = tmp_path / "conf" / "config.yaml", tmp_path / "jobs" / "calendar.yaml"
    code, out, err = run_cli(
        "init", "--config", str(config), "--provider", "fastmail", "--user", "me@fastmail.example",
        "--auth", "password-command", "--password-command", "pass show 'mail/fast mail' \"--x: y\"",
        "--calendar", str(calendar), "--no-input",
    )  # fmt: skip
    assert code == 0, err
    assert f"wrote {config}" in out and "thankyou-scan check" in out
    loaded = load_config(config)
    (account,) = loaded.accounts
    assert (account.name, account.imap_host, account.imap_port, account.security) == (
        "fastmail", "imap.fastmail.com", 993, "ssl",
    )  # fmt: skip
    assert account.password_command == ("pass", "show", "mail/fast mail", "--x: y")
    assert loaded.calendars == (calendar,) and loaded.me == ("me@fastmail.example",)
    assert (config.stat().st_mode & 0o777, config.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    # The calendar from the template, with the user's address, not the example's.
    code, out, err = run_cli("check", "--config", str(config))
    assert code == 0 and "OK" in out and "you@gmail.com" not in err
    assert "me@fastmail.example" in calendar.read_text()


def test_init_never_overwrites_without_force_and_keeps_a_calendar(run_cli: RunCli, tmp_path: Path) -> None:
    config, calendar = tmp_path / "config.yaml", tmp_path / "calendar.yaml"
    calendar.write_text("mine\n")
    args = [
        "init",
        "--config",
        str(config),
        "--provider",
        "gmail",
        "--user",
        "a@gmail.com",
        "--calendar",
        str(calendar),
    ]
    assert run_cli(*args, "--no-input")[0] == 0
    assert calendar.read_text() == "mine\n"  # an existing calendar is never replaced
    before = config.read_text()
    code, _, err = run_cli(*args[:-4], "--user", "b@gmail.com", "--calendar", str(calendar), "--no-input")
    assert code == 2 and "--force" in err and config.read_text() == before
    assert run_cli(*args[:-4], "--user", "b@gmail.com", "--calendar", str(calendar), "--force")[0] == 0
    assert load_config(config).accounts[0].user == "b@gmail.com"
    assert load_config(config).accounts[0].oauth2 == "gmail"


def test_init_without_a_terminal_names_the_missing_flag(run_cli: RunCli, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    code, _, err = run_cli("init", "--config", str(config), "--no-input")
    assert code == 2 and "init needs --provider" in err
    code, _, err = run_cli("init", "--config", str(config), "--provider", "imap", "--user", "a@b.example")
    assert code == 2 and "init needs --imap-host" in err
    assert not config.exists()


@pytest.mark.parametrize(
    "flags",
    [
        ["--user", "a@b.example\naccounts: []"],
        ["--user", "a@b.example", "--provider", "imap", "--imap-host", "h.example\nkeyring: true"],
        ["--user", "a@b.example", "--account-name", "x\n  - name: evil"],
    ],
)
def test_init_answers_cannot_add_keys(run_cli: RunCli, tmp_path: Path, flags: list[str]) -> None:
    config = write(tmp_path / "config.yaml", "version: 1\n")
    provider = [] if "--provider" in flags else ["--provider", "gmail"]
    code, _, err = run_cli(
        "init", "--config", str(config), *provider, *flags, "--calendar", str(tmp_path / "c.yaml"),
        "--no-input", "--force",
    )  # fmt: skip
    assert code == 2, err
    assert config.read_text() == "version: 1\n"  # refused before anything was written, even with --force


def test_init_asks_on_a_terminal(run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(
        ["outlook", "me@corp.example", "", "11111111-2222-3333-4444-555555555555", str(tmp_path / "cal.yaml")]
    )
    monkeypatch.setattr("sys.stdin.isatty", lambda: True, raising=False)
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    config = tmp_path / "config.yaml"
    code, out, err = run_cli("init", "--config", str(config))
    assert code == 0, err
    (account,) = load_config(config).accounts
    assert (account.oauth2, account.oauth2_client_id, account.imap_host) == (
        "microsoft", "11111111-2222-3333-4444-555555555555", "outlook.office365.com",
    )  # fmt: skip
    assert "thankyou-scan auth outlook" in out
