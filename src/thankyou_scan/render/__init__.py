"""Renderers: a Report as text, JSON, CSV or Markdown, and the ``check`` listing of a calendar.

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
from .check import render_check
from .common import visible, when, when_event
from .csv import render_csv
from .json import render_json
from .markdown import render_markdown
from .text import render_text

__all__ = [
    "FORMATS",
    "render",
    "render_check",
    "render_csv",
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
}


def render(report: Report, format: str = "text") -> str:
    """Render a report as "text", "json", "csv" or "markdown"."""
    try:
        renderer = FORMATS[format]
    except KeyError:
        raise UsageError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}") from None
    return renderer(report)
