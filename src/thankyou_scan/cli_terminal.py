"""The terminal the CLI writes to: how wide, whether in colour, progress lines, long stderr lines wrapped.

Width: a terminal's own width (``shutil.get_terminal_size``, which honours ``COLUMNS``)
when standard output is a terminal, or whenever ``COLUMNS`` is set; otherwise (a pipe,
a file, ``--output``) no limit: one line per follow-up, as the library's ``render()``
writes it. Colour (``--color``): ``always``, ``never``, or ``auto``: only when standard
output is a terminal, the report is not going to ``--output``, and ``NO_COLOR`` is
unset or empty. An explicit ``--color always`` wins over ``NO_COLOR``.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable
from typing import TextIO

from .render.common import visible

__all__ = ["COLOR_CHOICES", "fit_line", "output_width", "progress", "stderr_width", "use_color"]

COLOR_CHOICES = ("auto", "always", "never")
_MIN_WIDTH = 20


def _isatty(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (ValueError, OSError):  # closed or detached
        return False


def _width_for(stream: TextIO | None) -> int | None:
    if os.environ.get("COLUMNS", "").strip() or _isatty(stream):
        return max(shutil.get_terminal_size().columns, _MIN_WIDTH)
    return None


def output_width(output: str | None) -> int | None:
    """The width of the report: the terminal's (or ``COLUMNS``), or None (no limit) for a pipe or a file."""
    if output is not None:
        return max(shutil.get_terminal_size().columns, _MIN_WIDTH) if os.environ.get("COLUMNS") else None
    return _width_for(sys.stdout)


def stderr_width() -> int | None:
    """The width warnings and errors are wrapped at: as ``output_width``, for standard error."""
    return _width_for(sys.stderr)


def use_color(choice: str, output: str | None) -> bool:
    """Whether to write ANSI colours, by ``--color`` (docstring of this module)."""
    if choice == "always":
        return True
    if choice == "never" or output is not None or os.environ.get("NO_COLOR"):
        return False
    return _isatty(sys.stdout)


def fit_line(line: str, width: int | None) -> str:
    """``line`` wrapped at ``width`` cells, continuation lines indented (None: as it is)."""
    if width is None or len(line) * 2 <= width:  # no character takes more than two cells
        return line
    from .render.terminal import Paragraph, layout

    return layout([Paragraph(line, hanging=4)], width=width).rstrip("\n")


def progress(what: str, unit: str = "messages") -> Callable[[int, int], None] | None:
    """A progress line on standard error, rewritten in place, on a terminal only (None elsewhere).

    ``unit`` "messages" counts them; "bytes" shows megabytes read of the total. At most
    ten updates a second, and always the last one.
    """
    if not _isatty(sys.stderr):
        return None
    shown = 0.0

    def show(done: int, total: int) -> None:
        nonlocal shown
        finished = done >= total
        now = time.monotonic()
        if not finished and now - shown < 0.1:
            return
        shown = now
        if unit == "bytes":
            amount = f"{done / 1e6:,.1f} of {total / 1e6:,.1f} MB"
        else:
            amount = f"{done:,}/{total:,} {'message' if total == 1 else 'messages'}"
        line = f"thankyou-scan: read {amount} from {visible(what)}"
        width = shutil.get_terminal_size().columns
        if len(line) >= width:  # a line longer than the terminal would not be rewritten in place
            line = line[: max(width - 2, 1)] + "…"
        print(f"\r\x1b[K{line}", end="\n" if finished else "", file=sys.stderr, flush=True)

    return show
