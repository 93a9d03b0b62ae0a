"""Where the CLI gets a password or a token: the environment, a command, or a prompt.

A ``--password-command`` runs without a shell and is bounded: 120 s, and at most
PASSWORD_COMMAND_LIMIT bytes of output, of which only the first line is used and none
is ever shown. Passwords are UTF-8, the same bytes on every machine.
"""

from __future__ import annotations

import argparse
import getpass
import os
import selectors
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence

from .errors import UsageError

__all__ = ["PASSWORD_COMMAND_LIMIT", "read_secret", "run_password_command"]


def read_secret(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """(password, OAuth2 token), one of them set: from the environment, a command, or a prompt."""
    if args.oauth2_token_env:
        return None, _from_env(args.oauth2_token_env, "--oauth2-token-env")
    if args.password_env:
        return _from_env(args.password_env, "--password-env"), None
    if args.password_command:
        return _from_command(args.password_command), None
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(f"IMAP password for {args.user} at {args.imap_host}: "), None
    raise UsageError(
        "no password given — use --password-env VAR, --password-command CMD or --oauth2-token-env VAR "
        "(or run in a terminal to be asked)"
    )


def _from_env(name: str, option: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise UsageError(f"{option} {name}: the environment variable {name} is not set or is empty")
    return value


PASSWORD_COMMAND_LIMIT = 64 * 1024
"""What a --password-command may print: more is refused without being kept."""


def _run_capped(argv: list[str], *, limit: int, timeout: float) -> tuple[int, bytes | None]:
    """Run ``argv`` and return its exit code and output; None as output when it printed more than ``limit``.

    Raises:
        subprocess.TimeoutExpired: it ran longer than ``timeout`` seconds (it is killed).
    """
    deadline = time.monotonic() + timeout
    with subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    ) as process:
        assert process.stdout is not None
        chunks: list[bytes] = []
        size = 0
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    process.kill()
                    raise subprocess.TimeoutExpired(argv, timeout)
                chunk = os.read(process.stdout.fileno(), 65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    process.kill()
                    return process.wait(), None
                chunks.append(chunk)
        try:
            return process.wait(max(deadline - time.monotonic(), 0.1)), b"".join(chunks)
        except subprocess.TimeoutExpired:
            process.kill()
            raise


def _from_command(command: str) -> str:
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"--password-command cannot be split into words: {exc}") from None
    if not argv:
        raise UsageError("--password-command is empty")
    return run_password_command(argv, "--password-command")


def run_password_command(argv: Sequence[str], label: str) -> str:
    """The first line of what ``argv`` prints (no shell, 120 s, PASSWORD_COMMAND_LIMIT), as UTF-8.

    ``label`` names where the command came from in messages (``--password-command``, or
    ``account 'work': password_command``). Its output is never shown, even on failure.
    """
    argv = list(argv)
    try:
        returncode, output = _run_capped(argv, limit=PASSWORD_COMMAND_LIMIT, timeout=120)
    except FileNotFoundError:
        raise UsageError(f"{label}: {argv[0]!r} was not found") from None
    except PermissionError:
        raise UsageError(f"{label}: {argv[0]!r} cannot be run (not executable, or a folder)") from None
    except ValueError:  # a NUL in a word: no program can be named so
        raise UsageError(f"{label}: a word of the command holds a NUL character") from None
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"{label} {argv[0]!r} failed: {type(exc).__name__}") from None
    if output is None:
        raise UsageError(
            f"{label} {argv[0]!r} printed more than {PASSWORD_COMMAND_LIMIT // 1024} KiB — "
            "a password is one line"
        )
    if returncode != 0:
        raise UsageError(f"{label} {argv[0]!r} failed with exit code {returncode}")
    first_line = output.split(b"\n", 1)[0].removesuffix(b"\r")
    try:
        password = first_line.decode("utf-8")  # not the locale's encoding: the same bytes everywhere
    except UnicodeDecodeError:
        # The decoder's message would show a byte of the password and where it is.
        raise UsageError(
            f"{label} {argv[0]!r} printed a first line that is not UTF-8 text — passwords are read as UTF-8"
        ) from None
    if not password:
        raise UsageError(f"{label} {argv[0]!r} printed nothing on its first line")
    return password
