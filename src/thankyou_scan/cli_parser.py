"""What argparse does not do for us: did-you-mean, the subcommand's own usage on an error, ``--status``.

``CommandParser`` is the parser class of the command and its subcommands;
``parse_arguments`` is how ``main()`` parses (argparse's ``SystemExit`` on an error, exit 2).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .cli_terminal import COLOR_CHOICES, fit_line, stderr_width
from .report import SORTS, SUMMARY_ORDER

__all__ = [
    "CommandParser",
    "UsageFormatter",
    "add_color_option",
    "add_view_options",
    "fit_usage",
    "parse_arguments",
    "status_list",
]

STATUSES = tuple(status.value for status in SUMMARY_ORDER)


class UsageFormatter(argparse.HelpFormatter):
    """argparse's help, with usage lines that fit the width even inside ``[a | b | c]`` groups.

    argparse never breaks a mutually exclusive group, so a usage line could run past the
    terminal; here such a line is broken before a ``|``, ``[`` or ``(`` (else at a space).
    """

    def _format_usage(self, *args: Any, **kwargs: Any) -> str:
        text = super()._format_usage(*args, **kwargs)
        return "\n".join(fit_usage(line, self._width) for line in text.split("\n"))


def fit_usage(line: str, width: int) -> str:
    """``line`` broken into lines of at most ``width`` characters, continuations indented."""
    if len(line) <= width:
        return line
    indent = len(line) - len(line.lstrip())
    pieces = []
    while len(line) > width:
        window = line[: width + 1]
        cut = max(window.rfind(" | "), window.rfind(" ["), window.rfind(" ("))
        if cut <= indent + 2:
            cut = window.rfind(" ")
        if cut <= indent + 2:
            break  # one word longer than the width: leave it
        pieces.append(line[:cut].rstrip())
        line = " " * (indent + 2) + line[cut:].lstrip()
    pieces.append(line)
    return "\n".join(pieces)


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser that remembers its subcommands (``commands``), for did-you-mean."""

    commands: dict[str, argparse.ArgumentParser]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", UsageFormatter)
        super().__init__(*args, **kwargs)

    def add_subparsers(self, **kwargs: Any) -> Any:
        """The subcommands' action, remembering their parsers for did-you-mean and per-command usage."""
        action = super().add_subparsers(**kwargs)
        self.commands = action.choices
        return action

    def error(self, message: str) -> NoReturn:
        """The usage, then the error wrapped at the terminal's width; exit 2."""
        self.print_usage(sys.stderr)
        self.exit(2, fit_line(f"{self.prog}: error: {message}", stderr_width()) + "\n")

    def unknown_command(self, name: str) -> NoReturn:
        """Exit 2 with "unknown command 'scna' — did you mean 'scan'?" and the usage."""
        close = difflib.get_close_matches(name, list(self.commands), n=1)
        hint = f" — did you mean {close[0]!r}?" if close else f" (choose from {', '.join(self.commands)})"
        self.error(f"unknown command {name!r}{hint}")


def parse_arguments(parser: CommandParser, argv: Sequence[str]) -> argparse.Namespace:
    """``argv`` parsed; a mistyped subcommand gets a did-you-mean, an unknown option its subcommand's usage."""
    first = argv[0] if argv else ""
    if first and not first.startswith("-") and first not in parser.commands:
        parser.unknown_command(first)
    args, extras = parser.parse_known_args(argv)
    if extras:
        # argparse leaves these to the top-level parser, whose usage says nothing of the subcommand's options.
        command = parser.commands.get(getattr(args, "command", None) or "", parser)
        command.error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def status_list(text: str) -> list[str]:
    """``--status missing,due``: the statuses named, each checked, with a did-you-mean."""
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"no status given; choose from {', '.join(STATUSES)}")
    for name in names:
        if name not in STATUSES:
            close = difflib.get_close_matches(name, STATUSES, n=1)
            hint = f" — did you mean {close[0]!r}?" if close else ""
            raise argparse.ArgumentTypeError(
                f"unknown status {name!r}{hint} (choose from {', '.join(STATUSES)})"
            )
    return names


def add_view_options(parser: argparse.ArgumentParser) -> None:
    """``--status`` and ``--sort``: which follow-ups a report shows, in which order (every format)."""
    parser.add_argument(
        "--status",
        action="append",
        type=status_list,
        default=[],
        metavar="LIST",
        help=f"show only these statuses, comma-separated, repeatable ({','.join(STATUSES)})",
    )
    parser.add_argument(
        "--sort", choices=SORTS, default="event", help="order within each status: event start or deadline"
    )


def add_color_option(parser: argparse.ArgumentParser) -> None:
    """``--color auto|always|never`` (cli_terminal.use_color)."""
    parser.add_argument(
        "--color",
        choices=COLOR_CHOICES,
        default="auto",
        help="colour the output: auto (on a terminal, unless NO_COLOR is set), always, never",
    )
