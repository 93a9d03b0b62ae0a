"""What the command line says on stderr besides the report: log lines, libraries' logs, internal errors.

Every line starts ``thankyou-scan:``, shows control characters as escapes and fits the
terminal; a traceback never reaches a user (``internal_error``).
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from .cli_terminal import fit_line, stderr_width
from .render import visible

__all__ = [
    "EXIT_INTERNAL",
    "OUTPUT_ERRORS",
    "PROG",
    "LogFormatter",
    "internal_error",
    "library_logs",
    "setup_logging",
    "silence_stdout",
]

PROG = "thankyou-scan"
EXIT_INTERNAL = 70
"""The exit code of an internal error (EX_SOFTWARE): a bug, reported as one line."""

log = logging.getLogger("thankyou_scan")


class LogFormatter(logging.Formatter):
    """One line per record: ``thankyou-scan: warning: …``, control characters made visible, wrapped to stderr."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line (another library's records name it)."""
        source = "" if record.name.startswith("thankyou_scan") else f"{record.name}: "
        return fit_line(
            f"{PROG}: {source}{record.levelname.lower()}: {visible(record.getMessage())}", stderr_width()
        )


def setup_logging(args: argparse.Namespace) -> None:
    """Our own records to stderr at the level ``-q``/``-v`` ask for."""
    level = logging.ERROR if args.quiet else logging.INFO if args.verbose else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogFormatter())
    log.handlers[:] = [handler]
    log.setLevel(level)
    log.propagate = False


# The libraries that log on their own; unconfigured, Python would print their records raw
# (mail-parser quotes header text, escape sequences included) on stderr.
_LIBRARY_LOGGERS = ("imapclient", "mailparser")


@contextmanager
def library_logs(verbose: bool) -> Iterator[None]:
    """Route the libraries' records through our formatter while a command runs, then restore.

    Their records say nothing a user can act on (what matters becomes our own warning or
    error), so they are shown with -v only. Restored afterwards: a program or test that
    calls main() keeps its own logging.
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LogFormatter())
    saved = []
    for name in _LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        saved.append((library, library.handlers[:], library.level, library.propagate))
        library.handlers[:] = [handler]
        library.setLevel(logging.INFO if verbose else logging.CRITICAL + 1)
        library.propagate = False
    try:
        yield
    finally:
        for library, handlers, level, propagate in saved:
            library.handlers[:] = handlers
            library.setLevel(level)
            library.propagate = propagate


OUTPUT_ERRORS = frozenset({errno.ENOSPC, errno.EIO, errno.EBADF, errno.EFBIG, errno.EDQUOT})
"""What writing to standard output can fail with (besides a broken pipe)."""


def silence_stdout() -> None:
    """Point standard output at /dev/null, so Python's flush at exit has nothing to complain about."""
    if sys.stdout is None:
        return
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    with contextlib.suppress(OSError, ValueError):
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives until exit


def internal_error(exc: BaseException) -> int:
    """Report an exception we did not expect as a bug, in one line (exit 70); the traceback with THANKYOU_SCAN_DEBUG=1."""
    if os.environ.get("THANKYOU_SCAN_DEBUG"):
        raise exc
    print(
        f"{PROG}: internal error: {type(exc).__name__}: {visible(str(exc))} — this is a bug; please report it "
        "(set THANKYOU_SCAN_DEBUG=1 to see the traceback)",
        file=sys.stderr,
    )
    return EXIT_INTERNAL
