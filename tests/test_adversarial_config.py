"""The config file, `init` and `drafts` attacked with hostile input: every refusal a clear line, exit 2 —
never an internal error, never a secret quoted back, never a value silently misread."""

from __future__ import annotations

import errno
import os
from importlib import resources
from pathlib import Path

import pytest

from helpers import RunCli
from thankyou_scan import cli_drafts
from thankyou_scan.config import ConfigError, load_config

DATA = resources.files("thankyou_scan") / "data"
DEMO_NOW = "2026-11-10T17:00:00Z"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


def demo_files(tmp_path: Path) -> tuple[Path, Path]:
    calendar = tmp_path / "calendar.yaml"
    calendar.write_bytes((DATA / "demo-calendar.yaml").read_bytes())
    mbox = tmp_path / "sent.mbox"
    mbox.write_bytes((DATA / "demo-sent.mbox").read_bytes())
    return calendar, mbox


def problems(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


ACCOUNT = "accounts:\n  - name: a\n    imap_host: imap.example.com\n    user: u@example.com\n"


# -- ~user of nobody ---------------------------------------------------------------------


def test_a_calendar_under_the_home_of_an_unknown_user_is_a_line_not_an_internal_error(
    tmp_path: Path, run_cli: RunCli
) -> None:
    config = write(tmp_path / "c.yaml", "version: 1\ncalendar: ~no-such-user-xyz/calendar.yaml\n")
    code, _, err = run_cli("--config", str(config), "--mbox", str(tmp_path / "x.mbox"))
    assert code == 2, err
    assert f"{config}:2: 'calendar'" in err and "no user 'no-such-user-xyz'" in err
    assert "internal error" not in err


@pytest.mark.parametrize("where", ["flag", "environment"])
def test_a_config_path_under_an_unknown_users_home_is_a_usage_error(
    where: str, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = "~no-such-user-xyz/config.yaml"
    if where == "flag":
        code, _, err = run_cli("--config", path)
    else:
        monkeypatch.setenv("THANKYOU_SCAN_CONFIG", path)
        code, _, err = run_cli()
    assert code == 2, err
    assert "no user 'no-such-user-xyz'" in err and "internal error" not in err


def test_an_empty_config_flag_is_refused_as_no_path(run_cli: RunCli) -> None:
    code, _, err = run_cli("scan", "--config", "", "--mbox", "x.mbox")
    assert code == 2
    assert "--config '' is not a path" in err


def test_init_with_a_calendar_under_an_unknown_users_home_writes_nothing(
    tmp_path: Path, run_cli: RunCli
) -> None:
    config = tmp_path / "config.yaml"
    code, _, err = run_cli(
        "init", "--no-input", "--provider", "fastmail", "--user", "me@example.com",
        "--calendar", "~no-such-user-xyz/calendar.yaml", "--config", str(config),
    )  # fmt: skip
    assert code == 2, err
    assert "no user 'no-such-user-xyz'" in err
    assert not config.exists()


def test_init_whose_calendar_folder_cannot_be_made_fails_cleanly_and_leaves_no_config(
    tmp_path: Path, run_cli: RunCli
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    config = tmp_path / "config.yaml"
    code, _, err = run_cli(
        "init", "--no-input", "--provider", "fastmail", "--user", "me@example.com",
        "--calendar", str(blocker / "sub" / "calendar.yaml"), "--config", str(config),
    )  # fmt: skip
    assert code == 2, err
    assert "cannot write the calendar" in err and "internal error" not in err
    assert not config.exists()  # a second `init` is not refused for a config it never finished


def test_init_prints_the_keyring_line_quoted_for_the_shell(tmp_path: Path, run_cli: RunCli) -> None:
    code, out, err = run_cli(
        "init", "--no-input", "--provider", "fastmail", "--user", "$(reboot)@example.com",
        "--calendar", str(tmp_path / "calendar.yaml"), "--config", str(tmp_path / "config.yaml"),
    )  # fmt: skip
    assert code == 0, err
    assert "keyring set thankyou-scan '$(reboot)@example.com'" in out


# -- control characters and hosts ----------------------------------------------------------


def test_a_nul_in_a_configured_path_is_a_line_not_an_internal_error(tmp_path: Path, run_cli: RunCli) -> None:
    config = write(tmp_path / "c.yaml", 'version: 1\ncalendar: "cal\\0endar.yaml"\n')
    code, _, err = run_cli("--config", str(config), "--mbox", str(tmp_path / "x.mbox"))
    assert code == 2, err
    assert f"{config}:2: 'calendar' holds a control character" in err


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('    folder: "Sent\\r\\nA1 DELETE INBOX"\n', "'folder' holds a control character"),
        ('    folder: ["Sent", "Arch\\x1bive"]\n', "'folder' holds a control character"),
        ('    oauth2_client_id: "abc\\ndef"\n    oauth2: microsoft\n', "'oauth2_client_id' holds a control"),
        ('drafts:\n  folder: "Dra\\u0085fts"\n', "'folder' holds a control character"),
    ],
)
def test_control_characters_in_config_texts_are_refused_with_their_line(
    tmp_path: Path, line: str, expected: str
) -> None:
    config = write(tmp_path / "c.yaml", f"version: 1\n{ACCOUNT}    password_env: X\n{line}")
    message = problems(config)
    assert expected in message
    assert f"{config}:" in message


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("imap.gmail.com:993", "a port goes to 'imap_port:'"),
        ("https://imap.gmail.com/", "a port goes to 'imap_port:'"),
        ("imap gmail com", "write it like imap.gmail.com"),
        ("you@imap.gmail.com", "write it like imap.gmail.com"),
    ],
)
def test_a_configured_imap_host_that_is_no_host_name_is_a_config_error_not_a_connection_error(
    tmp_path: Path, run_cli: RunCli, host: str, expected: str
) -> None:
    calendar, _ = demo_files(tmp_path)
    config = write(
        tmp_path / "c.yaml",
        f"version: 1\ncalendar: {calendar}\naccounts:\n  - name: a\n    imap_host: {host!r}\n"
        "    user: u@example.com\n    password_env: HOME\n",
    )
    code, _, err = run_cli("--config", str(config), "--no-cache")
    assert code == 2, err  # was exit 3, "cannot find the server", with no file or line
    assert f"{config}:5: account 'a': imap_host" in err and expected in err


def test_config_problems_name_the_account_not_an_event(tmp_path: Path) -> None:
    config = write(tmp_path / "c.yaml", f"version: 1\n{ACCOUNT}    password_env: X\n    timeout: 0\n")
    message = problems(config)
    assert "account 'a': 'timeout'" in message and "event" not in message


# -- secrets never quoted back --------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "    password_env: 'hunter2 secret!'\n",
        "    password_command: hunter2-secret\n",
        "    keyring: hunter2-secret\n",
        "    oauth2: ya29.a0hunter2-secret-token-value-long\n",
        "    imap_password: hunter2-secret\n",
        "    app_secret: hunter2-secret\n",
    ],
)
def test_a_password_written_in_the_wrong_key_is_never_quoted_back(
    tmp_path: Path, run_cli: RunCli, line: str
) -> None:
    config = write(tmp_path / "c.yaml", f"version: 1\n{ACCOUNT}{line}")
    code, out, err = run_cli("--config", str(config))
    assert code == 2, err
    assert "hunter2" not in out + err
    assert f"{config}:" in err


def test_a_short_unknown_oauth2_word_is_still_quoted_with_a_hint(tmp_path: Path) -> None:
    config = write(tmp_path / "c.yaml", f"version: 1\n{ACCOUNT}    oauth2: gmial\n")
    assert "oauth2 'gmial' is not known — did you mean 'gmail'?" in problems(config)


# -- account names -----------------------------------------------------------------------------


def test_two_accounts_whose_names_differ_only_in_case_are_refused(tmp_path: Path) -> None:
    config = write(
        tmp_path / "c.yaml",
        "accounts:\n"
        "  - {name: work, imap_host: h.example, user: u@x.example, password_env: X}\n"
        "  - {name: Work, imap_host: i.example, user: v@x.example, password_env: Y}\n",
    )
    assert f"{config}:3: account 'Work': a second account is called 'Work' (as 'work', but for case)" in (
        problems(config)
    )


def test_an_account_asked_for_in_the_wrong_case_gets_the_right_name(tmp_path: Path, run_cli: RunCli) -> None:
    config = write(tmp_path / "c.yaml", f"version: 1\n{ACCOUNT}    password_env: X\n")
    code, _, err = run_cli("scan", "--config", str(config), "--account", "A")
    assert code == 2
    assert "no account 'A' — did you mean 'a'?" in err


@pytest.mark.parametrize("command_name", ["demo", "check", "import"])
def test_an_account_named_like_a_command_can_be_chosen_without_the_scan_command(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, command_name: str
) -> None:
    calendar, _ = demo_files(tmp_path)
    config = write(
        tmp_path / "c.yaml",
        f"version: 1\ncalendar: {calendar}\naccounts:\n  - name: {command_name}\n"
        "    imap_host: 127.0.0.1\n    security: plain\n    imap_port: 1\n    user: u@example.com\n"
        "    password_env: THANKYOU_SCAN_TEST_UNSET\n",
    )
    monkeypatch.delenv("THANKYOU_SCAN_TEST_UNSET", raising=False)
    code, _, err = run_cli("--config", str(config), "--account", command_name)
    # The scan ran (and stopped at the account's unset variable), not the command of that name.
    assert code == 2, err
    assert f"account {command_name!r}: the environment variable THANKYOU_SCAN_TEST_UNSET" in err


def test_an_option_value_named_like_a_command_is_not_taken_for_it(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    calendar, mbox = demo_files(tmp_path)
    config = write(tmp_path / "c.yaml", f"version: 1\ncalendar: {calendar}\n")
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(
        "--config", str(config), "--mbox", str(mbox), "--me", "you@gmail.com", "--now", DEMO_NOW,
        "--output", "check",
    )  # fmt: skip
    assert code == 1, err
    assert (tmp_path / "check").read_text(encoding="utf-8").startswith("Follow-up notes")


# -- password_command ---------------------------------------------------------------------------


def test_a_password_command_that_is_not_executable_says_so(tmp_path: Path, run_cli: RunCli) -> None:
    script = tmp_path / "pw.sh"
    script.write_text("#!/bin/sh\necho hunter2\n")
    script.chmod(0o644)
    calendar, _ = demo_files(tmp_path)
    config = write(
        tmp_path / "c.yaml",
        f"version: 1\ncalendar: {calendar}\n{ACCOUNT}    password_command: [{script}]\n",
    )
    code, out, err = run_cli("--config", str(config), "--no-cache")
    assert code == 2, err
    assert "cannot be run (not executable, or a folder)" in err
    assert "hunter2" not in out + err


# -- drafts ------------------------------------------------------------------------------------


def test_an_eml_file_that_cannot_be_written_is_a_clear_error(
    tmp_path: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    calendar, mbox = demo_files(tmp_path)

    def read_only(folder: int, name: str) -> tuple[int, str]:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(cli_drafts, "create_temporary", read_only)
    code, _, err = run_cli(
        "drafts", "--calendar", str(calendar), "--mbox", str(mbox), "--me", "you@gmail.com",
        "--now", DEMO_NOW, "--eml-dir", str(tmp_path / "eml"),
    )  # fmt: skip
    assert code == 2, err
    assert "--eml-dir: cannot write" in err and "Read-only file system" in err
    assert "internal error" not in err and "standard output" not in err


def test_an_eml_dir_under_an_unknown_users_home_is_a_usage_error(tmp_path: Path, run_cli: RunCli) -> None:
    calendar, mbox = demo_files(tmp_path)
    code, _, err = run_cli(
        "drafts", "--calendar", str(calendar), "--mbox", str(mbox), "--me", "you@gmail.com",
        "--now", DEMO_NOW, "--eml-dir", "~no-such-user-xyz/drafts",
    )  # fmt: skip
    assert code == 2, err
    assert "no user 'no-such-user-xyz'" in err and "internal error" not in err


def test_a_template_under_an_unknown_users_home_is_a_template_error(tmp_path: Path, run_cli: RunCli) -> None:
    calendar, mbox = demo_files(tmp_path)
    code, _, err = run_cli(
        "drafts", "--calendar", str(calendar), "--mbox", str(mbox), "--me", "you@gmail.com",
        "--now", DEMO_NOW, "--dry-run", "--template", "~no-such-user-xyz/t.txt",
    )  # fmt: skip
    assert code == 2, err
    assert "no user 'no-such-user-xyz'" in err and "internal error" not in err
