"""Human output laid out for a width: paragraphs and aligned tables that wrap, with colour if asked.

The one module that uses rich, imported inside the functions only: loading the package,
or writing JSON, CSV or Markdown, never loads it. Everything put in a table or a
paragraph is a ``rich.text.Text``, never a markup string, so text from mail or a calendar
(``[red]x[/red]``, ``[link=...]``) is shown as written; controls were already made
visible by the caller (``visible()``).

Widths are counted in terminal cells, as a terminal shows them and as ``rich.cells.cell_len``
counts: a CJK character or an emoji takes two, a combining mark none.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["STATUS_STYLES", "Grid", "Paragraph", "Row", "cells", "layout", "natural_width"]

STATUS_STYLES = {"missing": "red", "due": "yellow", "late": "magenta", "sent": "green"}
"""The colour of each status; the status word is always written too (colour is never all it says)."""


@dataclass(frozen=True, slots=True)
class Paragraph:
    """Text wrapped at the width, its continuation lines indented by ``hanging``."""

    text: str = ""
    style: str = ""
    hanging: int = 2


@dataclass(frozen=True, slots=True)
class Row:
    """One row of a grid; ``styles`` (one per cell, "" for none) colour cells."""

    cells: tuple[str, ...]
    styles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Grid:
    """Rows in aligned columns, indented; a cell holding a newline takes two lines."""

    rows: tuple[Row, ...]
    indent: int = 2
    gap: int = 2


Block = Paragraph | Grid

# A line's trailing blanks, before any escape sequences that end it.
_TRAILING_BLANKS = re.compile(r"[ ]+((?:\x1b\[[0-9;]*m)*)$", re.MULTILINE)
_UNLIMITED = 1_000_000


def cells(text: str) -> int:
    """How many terminal cells the widest line of ``text`` takes."""
    from rich.cells import cell_len

    return max((cell_len(line) for line in text.split("\n")), default=0)


def natural_width(grids: Sequence[Grid]) -> int:
    """The width ``grids`` take, their columns aligned, when nothing in them is wrapped."""
    widths = _column_widths(grids, lambda text: cells(text))
    if not widths:
        return 0
    return max(grid.indent for grid in grids) + sum(widths) + grids[0].gap * (len(widths) - 1)


def _column_widths(grids: Sequence[Grid], measure: Callable[[str], int]) -> list[int]:
    columns = max((len(row.cells) for grid in grids for row in grid.rows), default=0)
    return [
        max((measure(row.cells[i]) for grid in grids for row in grid.rows if i < len(row.cells)), default=0)
        for i in range(columns)
    ]


def _longest_word(text: str) -> int:
    return max((cells(word) for word in text.split()), default=0)


def _fit(grids: Sequence[Grid], width: int | None) -> list[int]:
    """Column widths for ``grids`` in ``width`` cells: the widest column gives way first, whole words last."""
    widths = _column_widths(grids, cells)
    if width is None or not widths:
        return widths
    indent = max(grid.indent for grid in grids)
    room = max(width - indent - grids[0].gap * (len(widths) - 1), len(widths))
    floors = [
        min(natural, word) for natural, word in zip(widths, _column_widths(grids, _longest_word), strict=True)
    ]
    for floor in (floors, [1] * len(widths)):
        while sum(widths) > room:
            candidates = [i for i, current in enumerate(widths) if current > floor[i]]
            if not candidates:
                break
            widest = max(candidates, key=lambda i: widths[i])
            widths[widest] -= 1
    return widths


def layout(blocks: Sequence[Block], *, width: int | None = None, color: bool = False) -> str:
    """``blocks`` as text no wider than ``width`` cells (None: as wide as they are), ANSI colours if ``color``."""
    from rich.console import Console

    console = Console(
        file=io.StringIO(),
        width=width or _UNLIMITED,
        color_system="standard" if color else None,
        force_terminal=color,
        force_interactive=False,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
        legacy_windows=False,
        _environ={},  # COLUMNS, NO_COLOR, FORCE_COLOR: the caller decided
    )
    grids = [block for block in blocks if isinstance(block, Grid)]
    widths = _fit(grids, width)  # one set of widths: every grid's columns line up
    for block in blocks:
        if isinstance(block, Paragraph):
            _paragraph(console, block, width)
        else:
            _grid(console, block, widths)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    return _TRAILING_BLANKS.sub(r"\1", str(text))


def _paragraph(console: Console, paragraph: Paragraph, width: int | None) -> None:
    from rich.text import Text

    text = Text(paragraph.text, style=paragraph.style)
    if width is None:
        console.print(text)
        return
    hanging = min(paragraph.hanging, max(width // 4, 0))
    lines = text.wrap(console, max(width - hanging, 1), overflow="fold")
    for number, line in enumerate(lines):
        if number:
            line = Text(" " * hanging) + line
        console.print(line, overflow="fold")


def _grid(console: Console, grid: Grid, widths: Sequence[int]) -> None:
    from rich.padding import Padding
    from rich.table import Table
    from rich.text import Text

    columns = len(widths)
    if not grid.rows:
        return
    table = Table.grid(padding=(0, grid.gap, 0, 0), pad_edge=False)
    for column_width in widths:
        table.add_column(width=max(column_width, 1), overflow="fold")
    for row in grid.rows:
        styles = [*row.styles, *[""] * (columns - len(row.styles))]
        texts = [Text(cell, style=style) for cell, style in zip(row.cells, styles, strict=False)]
        texts += [Text("")] * (columns - len(texts))
        table.add_row(*texts)
    console.print(Padding(table, (0, 0, 0, grid.indent), expand=False))
