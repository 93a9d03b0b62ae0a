"""The CLI through main(argv), and once through the installed console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from helpers import raw_message, write_mbox
from thankyou_scan.cli import main

CALENDAR = textwrap.dedent(
    """\
    version: 1
    timezone: Europe/Berlin
    events:
      - id: onsite
        title: Onsite
        kind: interview
        start: 2026-11-02 10:00
        people: [Ada <ada@acme.example>, Grace <grace@acme.example>]
    """
)


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text(CALENDAR)
    mbox = write_mbox(
        tmp_path / "Sent.mbox",
        [
            (
                "Mon Nov 02 15:00:00 +0000 2026",
                raw_message(to="ada@acme.example", date="Mon, 2 Nov 2026 16:00:00 +0100"),
            )
        ],
    )
    return calendar, mbox


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_scan_mbox_json(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    calendar, mbox = files
    code, out, err = run(
        capsys,
        "scan",
        "--calendar",
        str(calendar),
        "--mbox",
        str(mbox),
        "--now",
        "2026-11-10T00:00:00Z",
        "--format",
        "json",
    )
    data = json.loads(out)
    assert code == 1  # Grace is missing
    assert [f["status"] for f in data["followups"]] == ["sent", "missing"]
    assert data["source"] == {
        "kind": "mbox",
        "folder": "Sent.mbox",
        "messages_scanned": 1,
        "messages_skipped": 0,
    }
    assert err == ""


def test_exit_zero_when_nothing_is_missing_or_late(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    calendar, mbox = files
    code, out, _ = run(
        capsys, "scan", "--calendar", str(calendar), "--mbox", str(mbox), "--now", "2026-11-03T12:00:00+01:00"
    )
    assert code == 0
    assert "DUE (1)" in out and "SENT (1)" in out


def test_output_file_and_csv(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar, mbox = files
    target = tmp_path / "report.csv"
    code, out, _ = run(
        capsys,
        "scan",
        "--calendar",
        str(calendar),
        "--mbox",
        str(mbox),
        "--now",
        "2026-11-10T00:00:00Z",
        "--format",
        "csv",
        "--output",
        str(target),
    )
    assert code == 1 and out == ""
    assert target.read_text().splitlines()[0].startswith("event_id,event_title,kind")
    assert not list(tmp_path.glob(".*.tmp"))


def test_output_never_writes_through_a_planted_link(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar, mbox = files
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / ".report.txt.tmp").symlink_to(victim)  # the temporary name --output used to take
    target = tmp_path / "report.txt"
    code, _, _ = run(
        capsys, "scan", "--calendar", str(calendar), "--mbox", str(mbox), "--now", "2026-11-10T00:00:00Z",
        "--format", "json", "--output", str(target),
    )  # fmt: skip
    assert code == 1
    assert victim.read_text() == "precious"
    assert json.loads(target.read_text())["followups"]
    assert not target.is_symlink()


def test_output_that_cannot_be_written_leaves_no_temporary_file(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar, mbox = files
    folder = tmp_path / "a-folder"
    folder.mkdir()
    code, out, err = run(
        capsys, "scan", "--calendar", str(calendar), "--mbox", str(mbox), "--now", "2026-11-10T00:00:00Z",
        "--output", str(folder),
    )  # fmt: skip
    assert code == 2 and out == ""
    assert f"cannot write the report to {folder}" in err
    assert not list(tmp_path.glob(".*"))


def test_maildir(files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    calendar, _ = files
    for sub in ("cur", "new", "tmp"):
        (tmp_path / "md" / sub).mkdir(parents=True)
    (tmp_path / "md" / "cur" / "1.M1.h:2,S").write_bytes(
        raw_message(to="grace@acme.example", date="Tue, 3 Nov 2026 09:00:00 +0100")
    )
    code, out, _ = run(
        capsys,
        "scan",
        "--calendar",
        str(calendar),
        "--maildir",
        str(tmp_path / "md"),
        "--now",
        "2026-11-10T00:00:00Z",
        "--format",
        "json",
    )
    assert [f["status"] for f in json.loads(out)["followups"]] == ["missing", "sent"]
    assert code == 1


def test_calendar_error_exit_2_with_line_and_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text(CALENDAR.replace("kind: interview", "knid: interview"))
    code, out, err = run(capsys, "scan", "--calendar", str(calendar), "--mbox", str(tmp_path / "x.mbox"))
    assert code == 2
    assert out == ""
    assert f"{calendar}:6: event 'Onsite': unknown key 'knid' in an event — did you mean 'kind'?" in err
    assert "Traceback" not in err


def test_mailbox_error_exit_3(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    calendar, _ = files
    code, out, err = run(
        capsys, "scan", "--calendar", str(calendar), "--mbox", str(tmp_path / "missing.mbox")
    )
    assert (code, out) == (3, "")
    assert err.startswith("thankyou-scan: error: ") and "no such file" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("now", "fragment"),
    [("yesterday", "is not an ISO 8601 time"), ("2026-11-10T12:00", "has no offset")],
)
def test_bad_now_is_a_usage_error(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], now: str, fragment: str
) -> None:
    calendar, mbox = files
    code, out, err = run(capsys, "scan", "--calendar", str(calendar), "--mbox", str(mbox), "--now", now)
    assert (code, out) == (2, "")
    assert fragment in err


@pytest.mark.parametrize(
    ("extra", "env", "fragment"),
    [
        (
            ["--security", "plain", "--user", "me@example.com", "--password-env", "PW"],
            {"PW": "x"},
            "refusing an unencrypted connection to imap.example.com",
        ),
        (["--password-env", "PW"], {"PW": "x"}, "--user is needed"),
        (["--user", "me@example.com", "--password-env", "NOPE_NOT_SET"], {}, "NOPE_NOT_SET is not set"),
        (["--user", "me@example.com", "--password-command", "false"], {}, "failed with exit code 1"),
        (["--user", "me@example.com", "--password-command", "/no/such/binary"], {}, "was not found"),
        (["--user", "me@example.com"], {}, "no password given"),
        (
            [
                "--user",
                "me@example.com",
                "--password-env",
                "PW",
                "--tls-ca",
                "x.pem",
                "--insecure-skip-verify",
            ],
            {"PW": "x"},
            "contradict",
        ),
    ],
)
def test_imap_option_mistakes_exit_2_before_any_connection(
    files: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    env: dict[str, str],
    fragment: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr("sys.stdin", None)
    calendar, _ = files
    # imap.example.com does not exist: an attempt to connect would fail with exit 3, not 2
    code, out, err = run(
        capsys, "scan", "--calendar", str(calendar), "--imap-host", "imap.example.com", *extra
    )
    assert (code, out) == (2, "")
    assert fragment in err


def test_scan_help_lists_every_contract_option(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "scan", "--help")
    assert code == 0
    for option in (
        "--calendar", "--imap-host", "--mbox", "--maildir", "--imap-port", "--user", "--password-env",
        "--password-command", "--oauth2-token-env", "--security", "--tls-ca", "--insecure-skip-verify",
        "--timeout", "--folder", "--me", "--now", "--format", "--output", "--cache", "--no-cache",
        "--check-deliverability",
    ):  # fmt: skip
        assert option in out, option


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "scan", "--mbox", "x")[0] == 2  # no --calendar
    assert run(capsys, "scan", "--calendar", "c", "--mbox", "x", "--maildir", "y")[0] == 2
    assert run(capsys, "frobnicate")[0] == 2
    assert run(capsys)[0] == 2


def test_check_lists_events_and_deadlines(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    calendar, _ = files
    code, out, _ = run(capsys, "check", str(calendar))
    assert code == 0
    assert "OK — 1 events, 2 people, times in Europe/Berlin" in out
    assert "Mon 02 Nov 2026 10:00 CET" in out and "note due by Wed 04 Nov 2026 11:00 CET" in out


def test_check_reports_every_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    calendar = tmp_path / "calendar.yaml"
    calendar.write_text(
        CALENDAR.replace("Europe/Berlin", "Europe/Berln").replace("ada@acme.example", "ada@acme")
    )
    code, out, err = run(capsys, "check", str(calendar))
    assert (code, out) == (2, "")
    assert f"{calendar}:2: unknown time zone 'Europe/Berln'" in err
    assert f"{calendar}:8: event 'Onsite': 'ada@acme' is not a usable email address" in err


def test_demo_is_deterministic_and_says_what_next(capsys: pytest.CaptureFixture[str]) -> None:
    code, first, _ = run(capsys, "demo")
    assert code == 0
    assert first == run(capsys, "demo")[1]
    assert "MISSING (2)" in first and "DUE (1)" in first and "SKIPPED (2)" in first
    assert first.rstrip().splitlines()[-1].startswith("Your turn: thankyou-scan scan --calendar")
    data = json.loads(run(capsys, "demo", "--format", "json")[1])
    assert data["summary"] == {"sent": 7, "late": 1, "missing": 2, "due": 1, "upcoming": 1, "skipped": 2}
    by_person = {(f["event"]["id"], f["person"]["name"]): f for f in data["followups"]}
    assert by_person[("acme-onsite", "Bob Recruiter")]["message"]["matched_by"] == "domain"
    late = by_person[("video-interview-initech-2026-11-04", "Michael Bolton")]
    assert (
        late["status"] == "late" and late["message"]["date"] == "2026-11-07T02:05:00+00:00"
    )  # From_ line fallback


def test_console_script_and_module_are_installed(tmp_path: Path) -> None:
    script = shutil.which("thankyou-scan", path=os.path.dirname(sys.executable))
    assert script, "the thankyou-scan console script is not installed next to this Python"
    result = subprocess.run([script, "demo", "--format", "csv"], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("event_id,event_title,kind,")
    module = subprocess.run(
        [sys.executable, "-m", "thankyou_scan", "--version"], capture_output=True, text=True, check=False
    )
    assert module.returncode == 0 and module.stdout.startswith("thankyou-scan ")
