"""Renderers: a Report as text, JSON, CSV, Markdown or HTML, and the ``check`` listing of a calendar.

Each format is one module with one ``render_<format>(report) -> str``; ``FORMATS`` maps the
``--format`` names to them. Renderers read the model (``thankyou_scan.report``) and never
change it; nothing outside ``cli.py`` and the public ``render()`` imports them.

``thankyou_scan.render`` (the package's attribute) is the ``render()`` function, as it was
before this package existed; import modules from here with ``from thankyou_scan.render import ...``.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import UsageError
from ..report import Report
from .check import check_dict, render_check, render_check_json
from .common import plural, visible, when, when_event
from .csv import render_csv
from .folders import folders_dict, render_folders, render_folders_json
from .html import render_html
from .json import render_json
from .markdown import render_markdown
from .text import render_text

__all__ = [
    "FORMATS",
    "check_dict",
    "folders_dict",
    "plural",
    "render",
    "render_check",
    "render_check_json",
    "render_csv",
    "render_folders",
    "render_folders_json",
    "render_html",
    "render_json",
    "render_markdown",
    "render_text",
    "visible",
    "when",
    "when_event",
]

FORMATS: dict[str, Callable[[Report], str]] = {
    "text": render_text,
    "json": render_json,
    "csv": render_csv,
    "markdown": render_markdown,
    "html": render_html,
}


def render(report: Report, format: str = "text", *, width: int | None = None) -> str:
    """Render a report as "text", "json", "csv", "markdown" or "html".

    ``width`` (text only): at most this many terminal cells a line; None, the default: one
    line per follow-up, however long. The text is plain: no colour.
    """
    try:
        renderer = FORMATS[format]
    except KeyError:
        raise UsageError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}") from None
    if format == "text":
        return render_text(report, width=width)
    return renderer(report)
