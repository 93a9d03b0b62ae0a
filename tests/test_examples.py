"""The bundled examples work as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from thankyou_scan import load_calendar

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "thankyou_scan" / "data"


def test_calendar_template_is_valid() -> None:
    calendar = load_calendar(ROOT / "examples" / "calendar.yaml")
    assert len(calendar.events) == 5
    assert calendar.warnings == ()


def test_personal_script_lists_who_is_owed_a_note() -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "personal_script.py"),
            str(DATA / "demo-calendar.yaml"),
            str(DATA / "demo-sent.mbox"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert any("Samir Nagheenanajar" in line and "overdue" in line for line in lines)
    assert not any("Priya Raman" in line for line in lines)  # her note went out


def test_personal_script_reports_a_bad_calendar(tmp_path: Path) -> None:
    bad = tmp_path / "cal.yaml"
    bad.write_text("events: [{title: x}]\n")
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "personal_script.py"),
            str(bad),
            str(DATA / "demo-sent.mbox"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "cal.yaml:1: event 'x': no 'kind'" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_readme_snippet_copied_verbatim_gives_the_right_report(tmp_path: Path) -> None:
    # A user's own Sent mbox (no labels) that also holds mail they did not write: the
    # snippet must use the calendar's `me:` and the current time, with nothing added.
    import re

    from helpers import raw_message, write_mbox

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    snippet = re.search(r"```python\n(.*?)```", readme, re.DOTALL)
    assert snippet is not None
    (tmp_path / "my-calendar.yaml").write_text(
        "version: 1\ntimezone: UTC\nme: [me@example.com]\nevents:\n"
        "  - {title: Onsite, kind: interview, start: 2020-11-02 10:00, people: [Ada <ada@acme.example>]}\n"
        "  - {title: Call, kind: meeting, start: 2020-11-05 10:00, people: [bo@acme.example]}\n"
    )
    write_mbox(
        tmp_path / "Sent.mbox",
        [
            ("Tue Nov 03 09:00:00 +0000 2020", raw_message(to="ada@acme.example", sender="me@example.com",
                                                            date="Tue, 3 Nov 2020 09:00:00 +0000")),
            ("Fri Nov 06 09:00:00 +0000 2020", raw_message(to="bo@acme.example", sender="ada@acme.example",
                                                            date="Fri, 6 Nov 2020 09:00:00 +0000")),
        ],
    )  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", snippet.group(1)], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines() == [
        "sent Ada <ada@acme.example> Onsite",
        "missing bo@acme.example Call",
    ]
