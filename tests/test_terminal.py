"""The terminal report: widths, colour, --status/--sort, check/folders JSON, completion, did-you-mean."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from helpers import RunCli, raw_message, write_mbox
from test_cli import HostileImapServer
from thankyou_scan import MaildirSource, MboxSource, render
from thankyou_scan.calendar_data import Event, Person
from thankyou_scan.message import SentMessage
from thankyou_scan.render.text import render_text
from thankyou_scan.report import FollowUp, Report, SourceSummary, Status

UTC = timezone.utc
DATA = resources.files("thankyou_scan") / "data"
ESCAPE = re.compile(r"\x1b\[([0-9;]*)m")


def widest(text: str) -> int:
    return max((cell_len(line) for line in text.splitlines()), default=0)


def demo_scan_args() -> list[str]:
    """The demo as a `scan` (which, unlike `demo`, exits 1 when a note is missing or late)."""
    return [
        "scan", "--calendar", str(DATA / "demo-calendar.yaml"), "--mbox", str(DATA / "demo-sent.mbox"),
        "--now", "2026-11-10T17:00:00+00:00",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "argv",
    [
        ["demo"],
        ["demo", "--sort", "deadline"],
        ["check", str(DATA / "demo-calendar.yaml")],
        ["scan", "--calendar", "missing.yaml", "--mbox", "x" * 150],
        ["demo", "--status", "mising"],
        ["frobnicate"],
    ],
)
def test_at_80_columns_no_human_line_is_longer(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    _, out, err = run_cli(*argv)
    assert widest(out) <= 80, out
    assert widest(err) <= 80, err
    assert out or err


def test_a_wide_terminal_uses_the_room(run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    narrow = run_cli("demo")[1]
    monkeypatch.setenv("COLUMNS", "200")
    wide = run_cli("demo")[1]
    assert 80 < widest(wide) <= 200
    assert len(wide.splitlines()) < len(narrow.splitlines())
    assert "Wed 04 Nov 2026 14:00 EST" in wide  # full dates when there is room
    assert "Wed 04 Nov 14:00 EST" in narrow  # the year of the report left out when there is not


def test_a_pipe_gets_one_line_per_followup_like_the_library(run_cli: RunCli) -> None:
    out = run_cli("demo", "--color", "auto")[1]
    assert "Video interview, Initech    Wed 04 Nov 2026 14:00 EST  Samir Nagheenanajar" in out
    assert out.count("\n  ") == 14  # one line for each of the 14 follow-ups


@pytest.mark.parametrize(
    ("status", "code"), [("MISSING", "1;31"), ("DUE", "1;33"), ("LATE", "1;35"), ("SENT", "1;32")]
)
def test_color_always_colours_each_status_and_keeps_the_word(run_cli: RunCli, status: str, code: str) -> None:
    out = run_cli("demo", "--color", "always")[1]
    assert f"\x1b[{code}m{status} (" in out


def test_no_escape_with_no_color_or_a_pipe(run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    for argv in (["demo"], ["demo", "--color", "auto"], ["check", str(DATA / "demo-calendar.yaml")]):
        assert "\x1b" not in run_cli(*argv)[1]
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b" not in run_cli("demo", "--color", "auto")[1]
    assert "\x1b" not in run_cli("demo", "--color", "never")[1]
    assert "\x1b[1;31m" in run_cli("demo", "--color", "always")[1]  # an explicit flag wins


def test_auto_colours_a_terminal_unless_no_color(run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert "\x1b[1;31m" in run_cli("demo")[1]
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b" not in run_cli("demo")[1]


def hostile_report(title: str, name: str) -> Report:
    start = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    event = Event(
        id="e", title=title, kind="interview", start=start, end=start + timedelta(hours=1), timezone="UTC"
    )
    person = Person(name=name, email="ada@acme.example")
    message = SentMessage(date=start + timedelta(hours=3), recipients=(), subject=f"Re: {title}")
    followups = (
        FollowUp(event, person, Status.MISSING, start + timedelta(days=1)),
        FollowUp(event, Person(name=name), Status.SENT, start + timedelta(days=1), message=message),
    )
    return Report(start + timedelta(days=3), SourceSummary("static", title, 1), followups)


def test_rich_markup_in_titles_and_names_is_shown_as_written() -> None:
    report = hostile_report("[red]x[/red] [link=https://evil.example]y[/link]", "[bold]Ada[/bold] :smile:")
    for color in (False, True):
        text = render_text(report, width=200, color=color)
        plain = ESCAPE.sub("", text)
        assert "[red]x[/red]" in plain and "[link=https://evil.example]y[/link]" in plain
        assert "[bold]Ada[/bold] :smile:" in plain
        assert "\x1b]8" not in text  # no hyperlink written
        assert set(ESCAPE.findall(text)) <= {"", "0", "1", "1;31", "1;32", "31", "32"}


def test_the_library_text_is_plain_and_unlimited_by_default() -> None:
    report = hostile_report("T" * 150, "Ada")
    assert render(report, "text") == render_text(report)
    assert "\x1b" not in render(report, "text")
    assert widest(render(report, "text")) > 150
    assert widest(render(report, "text", width=60)) <= 60


TEXT = st.lists(
    st.one_of(
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
        st.sampled_from(["世界", "👩‍👩‍👧", "e\u0301", "\x1b[31m", "[red]", "[/]", "\u202e", " ", "\t", "\n"]),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(title=TEXT, name=TEXT, width=st.integers(40, 200))
def test_no_rendered_line_is_wider_than_the_width(title: str, name: str, width: int) -> None:
    text = render_text(hostile_report(title, name), width=width, color=True)
    assert widest(ESCAPE.sub("", text)) <= width


def test_status_filters_every_format(run_cli: RunCli) -> None:
    argv = [*demo_scan_args(), "--status", "missing,due"]
    code, out, _ = run_cli(*argv)
    assert "MISSING (2)" in out and "DUE (1)" in out and "SENT (" not in out and "LATE (" not in out
    assert "Showing missing, due: 3 of 14 follow-ups" in out
    assert code == 1
    data = json.loads(run_cli(*argv, "--format", "json")[1])
    assert [f["status"] for f in data["followups"]] == ["missing", "missing", "due"]
    assert data["summary"]["sent"] == 7  # the summary counts the whole scan
    assert data["filter"] == {"status": ["missing", "due"], "sort": "event"}
    rows = run_cli(*argv, "--format", "csv")[1].splitlines()[1:]
    assert len(rows) == 3 and all(",missing," in row or ",due," in row for row in rows)
    table = [
        line for line in run_cli(*argv, "--format", "markdown")[1].splitlines() if line.startswith("| **")
    ]
    assert len(table) == 3


def test_status_is_repeatable_and_the_exit_code_follows_what_is_shown(run_cli: RunCli) -> None:
    code, out, _ = run_cli(*demo_scan_args(), "--status", "sent", "--status", "upcoming", "--format", "json")
    assert code == 0
    assert {f["status"] for f in json.loads(out)["followups"]} == {"sent", "upcoming"}


def test_unknown_status_exits_2_with_did_you_mean(run_cli: RunCli) -> None:
    code, out, err = run_cli("demo", "--status", "missing,lat")
    assert code == 2 and not out
    assert "unknown status 'lat' — did you mean 'late'?" in err
    assert "usage: thankyou-scan demo" in err


def test_sort_by_deadline(run_cli: RunCli) -> None:
    data = json.loads(run_cli(*demo_scan_args(), "--sort", "deadline", "--format", "json")[1])
    deadlines = [f["deadline"] for f in data["followups"]]
    dated = [d for d in deadlines if d is not None]
    assert dated == sorted(dated) and deadlines[len(dated) :] == [None] * (len(deadlines) - len(dated))
    assert data["filter"]["sort"] == "deadline"


def test_check_lists_by_start_and_speaks_json(run_cli: RunCli, tmp_path: Path) -> None:
    calendar = tmp_path / "c.yaml"
    calendar.write_text(
        "timezone: UTC\nevents:\n"
        "  - {title: Later, kind: meeting, start: 2026-11-05 10:00, people: [a@x.example]}\n"
        "  - {title: Earlier, kind: meeting, start: 2026-11-01 10:00, cancelled: true, people: [b@x.example]}\n"
    )
    code, out, _ = run_cli("check", str(calendar))
    assert code == 0 and "2 events, 2 people" in out
    assert out.index("Earlier") < out.index("Later")
    code, out, _ = run_cli("check", str(calendar), "--format", "json")
    data = json.loads(out)
    assert set(data) == {"version", "calendar", "timezone", "events", "warnings"}
    assert [event["title"] for event in data["events"]] == ["Earlier", "Later"]
    assert set(data["events"][0]) == {
        "id", "title", "kind", "start", "end", "all_day", "timezone", "deadline", "skipped", "people",
    }  # fmt: skip
    assert data["events"][0]["skipped"] == "cancelled" and data["events"][1]["skipped"] is None
    assert data["events"][1]["people"] == [{"name": "", "email": "a@x.example"}]


def test_check_says_1_event_and_1_person(run_cli: RunCli, tmp_path: Path) -> None:
    calendar = tmp_path / "c.yaml"
    calendar.write_text(
        "timezone: UTC\nevents:\n  - {title: One, kind: meeting, start: 2026-11-05 10:00, people: [a@x.example]}\n"
    )
    assert "OK — 1 event, 1 person," in run_cli("check", str(calendar))[1]


def run_folders(run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, *extra: str) -> tuple[int, str, str]:
    monkeypatch.setenv("PW", "x")
    server = HostileImapServer()
    try:
        return run_cli(
            "folders", "--imap-host", "127.0.0.1", "--imap-port", str(server.port), "--security", "plain",
            "--user", "u@example.com", "--password-env", "PW", "--timeout", "10", *extra,
        )  # fmt: skip
    finally:
        server.close()


def test_folders_json(run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = run_folders(run_cli, monkeypatch, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"version", "host", "gmail", "folders", "scanned"}
    assert data["folders"][0] == {"name": "INBOX", "flags": ["\\hasnochildren"], "scanned": False}
    assert data["scanned"] == [HostileImapServer.FOLDER.decode("latin-1")]
    assert "\x1b" not in out  # JSON escapes it


def test_folders_fit_80_columns(run_cli: RunCli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    code, out, _ = run_folders(run_cli, monkeypatch)
    assert code == 0 and "127.0.0.1: 2 folders" in out
    assert widest(out) <= 40


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_name_the_subcommands(run_cli: RunCli, shell: str) -> None:
    code, out, _ = run_cli("completion", shell)
    assert code == 0
    for word in ("scan", "demo", "check", "folders", "--calendar", "--status"):
        assert word in out


def test_a_mistyped_command_gets_a_did_you_mean(run_cli: RunCli) -> None:
    code, out, err = run_cli("scna")
    assert code == 2 and not out
    assert "unknown command 'scna' — did you mean 'scan'?" in err


def test_an_unknown_option_shows_the_subcommands_usage(run_cli: RunCli) -> None:
    code, _, err = run_cli("scan", "--calendar", "c.yaml", "--mbox", "m", "--bogus")
    assert code == 2
    assert "usage: thankyou-scan scan" in err and "--calendar FILE" in err
    assert "thankyou-scan scan: error: unrecognized arguments: --bogus" in err


def test_mbox_and_maildir_report_progress(tmp_path: Path) -> None:
    raw = raw_message(to="ada@acme.example")
    mbox = write_mbox(tmp_path / "Sent.mbox", [("Mon Nov 02 15:00:00 +0000 2026", raw)] * 3)
    calls: list[tuple[int, int]] = []
    list(MboxSource(mbox, progress=lambda done, total: calls.append((done, total))).sent_messages())
    size = mbox.stat().st_size
    assert len(calls) == 3 and calls[-1] == (size, size)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    for number in range(2):
        (maildir / "cur" / f"{number}.eml").write_bytes(raw)
    calls.clear()
    list(MaildirSource(maildir, progress=lambda done, total: calls.append((done, total))).sent_messages())
    assert calls == [(1, 2), (2, 2)]


COMMANDS = ("scan", "demo", "check", "folders", "init", "auth", "import", "drafts", "completion")


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_and_usage_errors_fit_80_columns(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    code, out, _ = run_cli(*filter(None, [command, "--help"]))
    assert code == 0 and "usage: thankyou-scan" in out
    assert max(len(line) for line in out.splitlines()) <= 80, out
    if command:
        code, _, err = run_cli(command, "--no-such-option")
        assert code == 2 and "usage: thankyou-scan" in err
        assert max(len(line) for line in err.splitlines()) <= 80, err


def test_a_long_usage_group_is_broken_before_a_bar() -> None:
    from thankyou_scan.cli_parser import fit_usage

    line = "usage: x [--account NAME | --imap-host HOST | --mbox FILE | --maildir DIR | --ics FILE]"
    lines = fit_usage(line, 40).split("\n")
    assert all(len(piece) <= 40 for piece in lines), lines
    assert " ".join(piece.strip() for piece in lines) == line  # nothing lost or reordered
    assert all(piece.startswith("  | ") for piece in lines[1:]), lines  # broken before a bar
