"""The render package: the `check` listing, the wording it shares with the report, who imports whom."""

from __future__ import annotations

import ast
import textwrap
from datetime import datetime, timezone
from pathlib import Path

import pytest

import thankyou_scan
from thankyou_scan import StaticSource, UsageError, parse_calendar, scan
from thankyou_scan.render import FORMATS, render, render_check, render_text

UTC = timezone.utc
SRC = Path(thankyou_scan.__file__).parent

CALENDAR = parse_calendar(
    textwrap.dedent(
        """\
        timezone: Europe/Berlin
        events:
          - {title: Onsite, kind: interview, start: 2026-11-02 10:00, people: [Ada <ada@acme.example>, b@x.example]}
          - {title: Fair, kind: networking, start: 2026-11-07, people: [c@x.example]}
          - {title: Lunch, kind: meeting, start: 2026-11-03 12:00, follow_up: false, people: [d@x.example]}
          - {title: "Panel\\x1b[2J", kind: interview, start: 2026-11-04 09:00, cancelled: true, people: [e@x.example]}
        """
    ),
    path="cal.yaml",
)


def test_check_lists_every_event_by_start_in_aligned_columns() -> None:
    assert render_check(CALENDAR) == (
        "cal.yaml: OK — 4 events, 5 people, times in Europe/Berlin\n"
        "  Mon 02 Nov 2026 10:00 CET  interview   Onsite        2 people  note due by Wed 04 Nov 2026 11:00 CET\n"
        "  Tue 03 Nov 2026 12:00 CET  meeting     Lunch         1 person  no note expected\n"
        "  Wed 04 Nov 2026 09:00 CET  interview   Panel\\x1b[2J  1 person  cancelled\n"
        "  Sat 07 Nov 2026 (all day)  networking  Fair          1 person  note due by Tue 10 Nov 2026 00:00 CET\n"
    )


@pytest.mark.parametrize("title", ["Lunch", "Panel\x1b[2J"])
def test_check_and_the_report_say_the_same_of_a_skipped_event(title: str) -> None:
    report = scan(CALENDAR, StaticSource([]), now=datetime(2026, 11, 5, tzinfo=UTC))
    (skipped,) = [f for f in report.followups if f.event.title == title]
    reason = "cancelled" if skipped.event.cancelled else "no note expected"
    row = next(line for line in render_text(report).splitlines() if "x.example" in line and reason in line)
    assert row.endswith(reason)
    assert any(line.endswith(reason) for line in render_check(CALENDAR).splitlines())


def test_the_package_attribute_is_the_render_function() -> None:
    report = scan(CALENDAR, StaticSource([]), now=datetime(2026, 11, 5, tzinfo=UTC))
    assert thankyou_scan.render is render
    assert set(FORMATS) == {"text", "json", "csv", "markdown", "html"}
    assert all(thankyou_scan.render(report, name) == FORMATS[name](report) for name in FORMATS)
    with pytest.raises(
        UsageError, match="unknown format 'pdf'; choose one of text, json, csv, markdown, html"
    ):
        render(report, "pdf")


def imports(module: Path) -> set[str]:
    """The thankyou_scan modules ``module`` imports, as dotted names relative to the package."""
    package = module.relative_to(SRC).parent.parts  # () for a top-level module
    found = set()
    for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) + 1 - node.level]
            found.add(".".join([*base, *([node.module] if node.module else [])]))
    return found


@pytest.mark.parametrize("module", ["matching.py", "report.py", "pipeline.py"])
def test_the_model_and_matching_never_import_a_renderer(module: str) -> None:
    assert not any(name.startswith("render") for name in imports(SRC / module)), imports(SRC / module)


def test_renderers_read_only_the_model_and_the_calendar() -> None:
    for module in (SRC / "render").glob("*.py"):
        outside = {name for name in imports(module) if not name.startswith("render")}
        assert outside <= {"report", "calendar", "errors"}, (module.name, outside)
