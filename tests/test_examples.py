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
