"""The HTML report (render/html.py): its contract read back with a parser, then the page in a real browser.

The pure tests parse the page with html.parser: one ``tr`` and one SVG mark per follow-up
shown, each with ``data-status``, counted against the JSON report; everything from mail
and calendars escaped; a CSP that forbids everything external; no URL to anywhere.
The browser tests (``slow``) open the same scenarios in Debian's headless Chromium
(tests/browser.py) and save screenshots to ``.cache/artifacts/html/`` (path printed).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from browser import watch
from thankyou_scan import MboxSource, Report, SentMessage, StaticSource, load_calendar, parse_calendar, scan
from thankyou_scan.cli import DEMO_NOW
from thankyou_scan.render import render
from thankyou_scan.render.html import GLYPHS, layout_timeline
from thankyou_scan.report import Status

UTC = timezone.utc
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / ".cache" / "artifacts" / "html"
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)

IMG = "<img src=x onerror=alert(1)>"
SCRIPT_NAME = "</svg><script>alert(2)</script>"
SUBJECT = "</title><script>alert(4)</script>"
TEMPLATE = "{{ 7*7 }}{% if true %}x{% endif %}"
LONG = "Unbroken" * 40


def demo() -> Report:
    data = resources.files("thankyou_scan") / "data"
    with (
        resources.as_file(data / "demo-calendar.yaml") as calendar_path,
        resources.as_file(data / "demo-sent.mbox") as mbox,
    ):
        calendar = load_calendar(calendar_path)
        return scan(calendar, MboxSource(mbox, me=calendar.me), now=DEMO_NOW)


def demo_missing_and_due() -> Report:
    return demo().select(statuses=("missing", "due"), sort="deadline")


def hostile() -> Report:
    """Titles, names, subjects, folder and account names an invitation or a message could carry."""
    calendar = parse_calendar(
        textwrap.dedent(
            f"""\
            timezone: UTC
            events:
              - title: {json.dumps(IMG)}
                kind: interview
                start: 2026-11-02 10:00
                people:
                  - {{name: {json.dumps(SCRIPT_NAME)}, email: victim@evil.example}}
                  - {{name: "javascript:alert(5)", email: j@evil.example}}
              - title: "\\"><svg onload=alert(3)>"
                kind: interview
                timezone: Asia/Kolkata
                start: 2026-11-05 10:00
                people: [x@evil.example]
              - title: {json.dumps(TEMPLATE + " " + LONG)}
                kind: interview
                start: 2026-11-09 10:00
                people: [{{name: {json.dumps(LONG)}, email: long@evil.example}}]
              - title: "<style>*{{display:none}}</style>"
                kind: meeting
                start: 2026-11-06 10:00
                cancelled: true
                people: ["Eve <eve@evil.example>"]
              - title: "http://evil.example/x.png"
                kind: interview
                start: 2026-11-20 10:00
                people: ["Mallory <m@evil.example>"]
            """
        ),
        path="hostile.yaml",
    )
    messages = [
        SentMessage(datetime(2026, 11, 2, 18, 0, tzinfo=UTC), ("victim@evil.example",), "Thanks", "<1@x>"),
        SentMessage(datetime(2026, 11, 9, 8, 0, tzinfo=UTC), ("x@evil.example",), SUBJECT, "<2@x>"),
    ]
    return scan(calendar, {"<i>work</i>": StaticSource(messages, folder="<b>Sent</b>&amp;")}, now=NOW)


def months() -> Report:
    """Five months, events in the machine's zone and two others: the axis ticks by the week."""
    calendar = parse_calendar(
        textwrap.dedent(
            """\
            events:
              - {title: First, kind: interview, start: 2026-07-01 09:00, people: [a@x.example]}
              - {title: Tokyo, kind: meeting, timezone: Asia/Tokyo, start: 2026-09-15 09:00, people: [b@x.example]}
              - {title: Auckland, kind: networking, timezone: Pacific/Auckland, start: 2026-11-08 18:00, people: [c@x.example]}
              - {title: Later, kind: interview, start: 2026-12-01 09:00, people: [d@x.example]}
            """
        ),
        path="months.yaml",
    )
    return scan(calendar, StaticSource([]), now=NOW)


def empty() -> Report:
    return scan(parse_calendar("events: []\n", path="empty.yaml"), StaticSource([]), now=NOW)


SCENARIOS: dict[str, Callable[[], Report]] = {
    "demo": demo,
    "demo-missing-due": demo_missing_and_due,
    "hostile": hostile,
    "months": months,
    "empty": empty,
}


@dataclass
class Page(HTMLParser):
    """What a page holds, as html.parser reads it: every start tag (and whether in the SVG), text, style."""

    tags: list[tuple[str, dict[str, str], bool]] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    style: str = ""
    svg_depth: int = 0
    in_style: bool = False

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}, self.svg_depth > 0))
        self.svg_depth += tag == "svg"
        self.in_style = tag == "style"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}, self.svg_depth > 0))

    def handle_endtag(self, tag: str) -> None:
        self.svg_depth -= tag == "svg"
        self.in_style = False

    def handle_data(self, data: str) -> None:
        if self.in_style:
            self.style += data
        else:
            self.text.append(data)

    def count(self, tag: str | None, *, in_svg: bool) -> Counter[str]:
        return Counter(
            attrs["data-status"]
            for name, attrs, svg in self.tags
            if "data-status" in attrs and svg is in_svg and (tag is None or name == tag)
        )


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def expected_counts(report: Report) -> Counter[str]:
    """What the JSON report says is shown: its follow-ups by status, which agree with its summary."""
    data = json.loads(render(report, "json"))
    shown = Counter(followup["status"] for followup in data["followups"])
    chosen = data.get("filter", {}).get("status", list(data["summary"]))
    assert shown == Counter(
        {name: count for name, count in data["summary"].items() if name in chosen and count}
    )
    return shown


@pytest.mark.parametrize("name", SCENARIOS)
def test_each_followup_is_one_row_and_one_mark_with_its_status(name: str) -> None:
    report = SCENARIOS[name]()
    page = parse(render(report, "html"))
    expected = expected_counts(report)
    assert page.count("tr", in_svg=False) == expected
    assert page.count("path", in_svg=True) == expected
    # Nothing else carries data-status: tools can count on it.
    assert sum(page.count(None, in_svg=False).values()) + sum(page.count(None, in_svg=True).values()) == (
        2 * len(report.followups)
    )


def test_the_summary_counts_the_whole_scan_even_when_some_statuses_are_shown() -> None:
    page = parse(render(demo_missing_and_due(), "html"))
    text = " ".join(" ".join(page.text).split())
    assert "● 7 sent ◆ 1 late ✕ 2 missing ▲ 1 due ○ 1 upcoming – 2 skipped" in text
    assert "Showing missing, due: 3 of 14 follow-ups. Each group sorted by deadline." in text


def test_mail_and_calendar_text_is_shown_as_text_never_as_markup() -> None:
    html = render(hostile(), "html")
    page = parse(html)
    text = "".join(page.text)
    for value in (
        IMG,
        SCRIPT_NAME,
        SUBJECT,
        TEMPLATE,
        '"><svg onload=alert(3)>',
        "<i>work</i>",
        "<b>Sent</b>&amp;",
    ):
        assert value in text, value
    assert "<style>*{display:none}</style>" in text
    allowed = (
        "html head meta title link style body header h1 h2 p main section ul li span b div svg defs "
        "clippath rect g line text path table thead tbody tr th td footer"
    ).split()
    assert {tag for tag, _, _ in page.tags} <= set(allowed)
    assert not [name for _, attrs, _ in page.tags for name in attrs if name.startswith("on")]
    assert "<script" not in html and "<img" not in html and "49x" not in text


def test_the_page_forbids_everything_external_and_allows_only_its_own_style() -> None:
    page = parse(render(demo(), "html"))
    (csp,) = [
        attrs["content"]
        for tag, attrs, _ in page.tags
        if attrs.get("http-equiv") == "Content-Security-Policy"
    ]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert "script-src" not in directives  # default-src 'none' forbids every script
    digest = base64.b64encode(hashlib.sha256(page.style.encode()).digest()).decode()
    assert directives["style-src"] == f"'sha256-{digest}'"  # the one inline style block, by its hash
    assert directives["img-src"] == "data:"
    assert page.tags[0][0] == "html" and [tag for tag, _, _ in page.tags].index("meta") < 3


@pytest.mark.parametrize("name", SCENARIOS)
def test_no_address_points_outside_the_page(name: str) -> None:
    page = parse(render(SCENARIOS[name](), "html"))
    for _, attrs, _ in page.tags:
        for attribute in ("src", "href", "xlink:href", "action", "srcset", "poster", "data"):
            value = attrs.get(attribute)
            if value is not None:
                assert value.startswith(("data:", "#")), (attribute, value)
        assert not any(re.search(r"(https?:|^//)", value) for value in attrs.values()), attrs
    assert "url(" not in page.style


def test_the_timeline_puts_misses_before_now_and_what_is_owed_after_it() -> None:
    timeline = layout_timeline(demo())
    assert timeline is not None
    marks = [line.mark for line in timeline.lines if line.mark is not None]
    assert {mark.status for mark in marks} == {status.value for status in Status}
    for mark in marks:
        if mark.status in ("missing", "late", "sent"):
            assert mark.x < timeline.now_x, mark
        if mark.status in ("due", "upcoming"):
            assert mark.x > timeline.now_x, mark
    events = [line for line in timeline.lines if line.is_event]
    assert len(events) == 10 and all(line.span is not None for line in events)
    assert (
        sum(line.window is not None for line in events) == 8
    )  # the cancelled and the no-note event have none
    assert timeline.zone == "America/New_York"
    assert [tick.month for tick in timeline.ticks if tick.month] == ["Oct 2026", "Nov 2026"]


def test_the_axis_days_start_at_midnight_in_the_events_zone() -> None:
    calendar = parse_calendar(
        "timezone: Pacific/Auckland\nevents:\n"
        "  - {title: Late dinner, kind: networking, start: 2026-11-08 23:00, people: [c@x.example]}\n",
        path="nz.yaml",
    )
    timeline = layout_timeline(scan(calendar, StaticSource([]), now=datetime(2026, 11, 8, 12, tzinfo=UTC)))
    assert timeline is not None and timeline.zone == "Pacific/Auckland"
    assert timeline.ticks[0].label.endswith(" 8") and timeline.ticks[0].month == "Nov 2026"
    (event,) = [line for line in timeline.lines if line.is_event]
    assert event.span is not None
    day = timeline.ticks[1].x - timeline.ticks[0].x
    assert event.span[0] == pytest.approx(timeline.ticks[0].x + day * 23 / 24, abs=0.2)


def test_marks_have_a_shape_for_each_status() -> None:
    timeline = layout_timeline(demo())
    assert timeline is not None
    shapes = {
        line.mark.status: re.sub(r"[-\d.]+", "#", line.mark.path) for line in timeline.lines if line.mark
    }
    assert len(set(shapes.values())) == len(Status) - 1  # sent and upcoming: one circle, filled or hollow
    assert set(GLYPHS.values()) == set("●◆✕▲○–")


def test_the_cli_writes_the_page_and_the_json_path_never_loads_jinja2(
    run_cli: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    target = tmp_path / "report.html"
    code, out, err = run_cli("demo", "--format", "html", "--output", str(target), "--status", "missing")
    assert (code, out, err) == (0, "", "")
    assert parse(target.read_text(encoding="utf-8")).count("tr", in_svg=False) == Counter(missing=2)
    probe = (
        "import sys; from thankyou_scan.cli import main; main(['demo', '--format', 'json']);"
        "print('jinja2' in sys.modules, file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stderr.strip() == "False"


# The browser: each scenario opened in headless Chromium at a desktop's and a phone's width.

COUNT = """() => {
  const count = (selector) => {
    const found = {};
    for (const element of document.querySelectorAll(selector)) {
      found[element.dataset.status] = (found[element.dataset.status] || 0) + 1;
    }
    return found;
  };
  return {
    rows: count("tr[data-status]"),
    marks: count("svg [data-status]"),
    tagged: document.querySelectorAll("[data-status]").length,
    scripts: document.querySelectorAll("script, img, iframe, object, embed").length,
    width: document.documentElement.scrollWidth,
    summary: getComputedStyle(document.querySelector(".summary")).display,
    background: getComputedStyle(document.body).backgroundColor,
  };
}"""


@pytest.mark.slow
@pytest.mark.parametrize("name", SCENARIOS)
def test_the_page_in_chromium(name: str, chromium: Any, tmp_path: Path) -> None:
    report = SCENARIOS[name]()
    document = tmp_path / f"{name}.html"
    document.write_text(render(report, "html"), encoding="utf-8")
    expected = expected_counts(report)
    for width, scheme in ((1280, "light"), (390, "light"), (1280, "dark")):
        page = chromium.new_page()
        seen = watch(page)
        page.set_viewport_size({"width": width, "height": 900})
        page.emulate_media(color_scheme=scheme)
        page.goto(document.as_uri())
        found = page.evaluate(COUNT)
        shot = ARTIFACTS / f"{name}-{width}{'-dark' if scheme == 'dark' else ''}.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shot), full_page=True)
        print(f"screenshot: {shot}")
        body = page.inner_text("body")
        page.close()
        assert seen.errors == [] and seen.dialogs == []
        assert set(seen.requests) <= {document.as_uri()}, seen.requests
        assert Counter(found["rows"]) == expected and Counter(found["marks"]) == expected
        assert found["tagged"] == 2 * len(report.followups) and found["scripts"] == 0
        assert found["summary"] == "flex"  # the style block ran: its CSP hash is right
        assert found["width"] <= width, f"the page scrolls sideways at {width} px: {found['width']}"
        assert found["background"] == ("rgb(13, 17, 23)" if scheme == "dark" else "rgb(255, 255, 255)")
        if name == "hostile":
            assert IMG in body and SCRIPT_NAME in body and "<i>work</i>" in body
    if name == "demo":  # on paper: black on white, the timeline scaled to the page
        page = chromium.new_page()
        page.goto(document.as_uri())
        page.emulate_media(media="print", color_scheme="dark")
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
        page.pdf(path=str(ARTIFACTS / "demo.pdf"))
        print(f"print: {ARTIFACTS / 'demo.pdf'}")
        page.close()
