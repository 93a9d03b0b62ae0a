"""The ``folders`` listing: an IMAP server's folders, their special-use flags, and the one a scan reads."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Protocol

from .common import plural, visible
from .terminal import Grid, Paragraph, Row, layout, natural_width

__all__ = ["ListedFolder", "folders_dict", "render_folders", "render_folders_json"]


class ListedFolder(Protocol):
    """A folder as LIST shows it (``sources.imap.Folder`` is one)."""

    @property
    def name(self) -> str:
        """The folder's name as the server spells it."""

    @property
    def flags(self) -> tuple[str, ...]:
        """The folder's flags from LIST, lower-case (``\\sent``...)."""


def _special(folder: ListedFolder) -> list[str]:
    return [flag for flag in folder.flags if flag.startswith("\\")]


def render_folders(
    host: str,
    folders: Sequence[ListedFolder],
    chosen: Collection[str],
    *,
    gmail: bool = False,
    width: int | None = None,
    color: bool = False,
) -> str:
    """A heading, then one row per folder: a mark for the folders a scan reads, the name, its flags."""
    extensions = " (Gmail extensions: X-GM-EXT-1)" if gmail else ""
    heading = Paragraph(f"{visible(host)}: {plural(len(folders), 'folder')}{extensions}", style="bold")
    rows = []
    for folder in folders:
        scanned = folder.name in chosen
        flags = " ".join(visible(flag) for flag in _special(folder)) or "-"
        note = "<- a scan reads this folder" if scanned else ""
        style = "green" if scanned else ""
        rows.append(
            Row((f"{'*' if scanned else ' '} {visible(folder.name)}", flags, note), (style, "", style))
        )
    # The note follows the flags, or (narrow) goes under them.
    grid = Grid(
        tuple(Row((r.cells[0], f"{r.cells[1]}  {r.cells[2]}".rstrip()), r.styles[:1]) for r in rows), 0
    )
    if width is not None and natural_width([grid]) > width:
        narrow = (Row((r.cells[0], f"{r.cells[1]}\n{r.cells[2]}".strip()), r.styles[:1]) for r in rows)
        grid = Grid(tuple(narrow), indent=0)
    return layout([heading, grid], width=width, color=color)


def folders_dict(
    host: str, folders: Sequence[ListedFolder], chosen: Collection[str], *, gmail: bool = False
) -> dict[str, Any]:
    """The ``folders`` listing as JSON data (docs/imap.md)."""
    return {
        "version": 1,
        "host": host,
        "gmail": gmail,
        "folders": [
            {"name": folder.name, "flags": _special(folder), "scanned": folder.name in chosen}
            for folder in folders
        ],
        "scanned": [folder.name for folder in folders if folder.name in chosen],
    }


def render_folders_json(
    host: str, folders: Sequence[ListedFolder], chosen: Collection[str], *, gmail: bool = False
) -> str:
    """The ``folders`` listing as JSON, indented, ending with a newline."""
    from .json import dumps

    return dumps(folders_dict(host, folders, chosen, gmail=gmail))
