"""The ``thankyou-scan`` command line: scan, demo, check, folders, completion.

Exit codes (docs/report.md): 0 nothing missing or late, 1 something missing or
late, 2 usage or calendar error, 3 connection, login or mailbox error. Our errors
become one line on stderr; a traceback reaching a user is a bug.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path

from . import __version__
from .calendar import Calendar, load_calendar
from .cli_accounts import (
    account_from_flags,
    chosen_accounts,
    imap_source,
    load_calendar_file,
    scan_calendar,
    the_config,
)
from .cli_auth import add_auth_parser, run_auth
from .cli_completion import SHELLS, completion_script
from .cli_drafts import add_drafts_parser, run_drafts
from .cli_import import add_import_parser, run_import
from .cli_init import add_init_parser, run_init
from .cli_parser import CommandParser, add_color_option, add_view_options, parse_arguments
from .cli_stderr import OUTPUT_ERRORS, PROG, internal_error, library_logs, setup_logging, silence_stdout
from .cli_terminal import fit_line, output_width, progress, stderr_width, use_color
from .cli_values import check_values, parse_now
from .config import find_config
from .errors import FolderNotFoundError, MailboxError, ThankyouScanError, UsageError
from .message import normalize_address
from .pipeline import scan
from .render import (
    FORMATS,
    render,
    render_check,
    render_check_json,
    render_folders,
    render_folders_json,
    render_text,
    visible,
)
from .report import Report
from .sources.base import Source
from .sources.mailbox import MaildirSource, MboxSource

__all__ = ["main"]

DEMO_NOW = datetime(2026, 11, 10, 17, 0, tzinfo=timezone.utc)

log = logging.getLogger("thankyou_scan")


def _config_option(parser: argparse.ArgumentParser, default: object = argparse.SUPPRESS) -> None:
    # SUPPRESS on the subcommands: their default must not overwrite a --config given before them.
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=default,
        help="the config file (default: $THANKYOU_SCAN_CONFIG, else ~/.config/thankyou-scan/config.yaml)",
    )


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="log each step to stderr")
    parser.add_argument("-q", "--quiet", action="store_true", help="print errors only, no warnings")
    add_color_option(parser)


def _output_options(parser: argparse.ArgumentParser, *, now_default: str) -> None:
    parser.add_argument("--now", metavar="ISO8601", help=f"the time to report as of (default: {now_default})")
    parser.add_argument(
        "--format", choices=tuple(FORMATS), default="text", help="report format (default: text)"
    )
    parser.add_argument("--output", metavar="FILE", help="write the report to FILE instead of stdout")
    add_view_options(parser)


def _imap_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("IMAP")
    group.add_argument(
        "--imap-port", type=int, metavar="N", help="port (default: 993 with ssl, 143 with starttls)"
    )
    group.add_argument("--user", metavar="ADDR", help="login name, usually your email address")
    secret = group.add_mutually_exclusive_group()
    secret.add_argument(
        "--password-env", metavar="VAR", help="read the password from environment variable VAR"
    )
    secret.add_argument("--password-command", metavar="CMD", help="run CMD (no shell) and use its first line")
    secret.add_argument(
        "--oauth2-token-env", metavar="VAR", help="XOAUTH2 access token from environment variable VAR"
    )
    group.add_argument("--security", choices=("ssl", "starttls", "plain"), help="default: ssl")
    group.add_argument("--tls-ca", metavar="FILE", help="trust this CA certificate (PEM) as well")
    group.add_argument(
        "--insecure-skip-verify", action="store_true", help="do not verify the server's certificate (unsafe)"
    )
    group.add_argument("--timeout", type=float, metavar="SECONDS", help="network timeout (default: 30)")
    group.add_argument(
        "--folder", action="append", default=[], metavar="NAME", help="read this folder (repeatable)"
    )


def _add_scan_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``scan``: the calendar, where the mail is (an account, a server, a file), IMAP and cache options."""
    scan_parser = commands.add_parser(
        "scan",
        help="scan sent mail against a calendar (the default command, with a config file)",
        description="Scan sent mail against a calendar. With a config file, every option is optional: "
        "the configured calendar and accounts are used, and flags override them.",
    )
    _config_option(scan_parser)
    scan_parser.add_argument(
        "--calendar", metavar="FILE", help="the YAML calendar (default: the config file's 'calendar:')"
    )
    where = scan_parser.add_mutually_exclusive_group()
    where.add_argument(
        "--account",
        action="append",
        metavar="NAME",
        help="read this account of the config file (repeatable; default: every account)",
    )
    where.add_argument("--imap-host", metavar="HOST", help="read the Sent folder of this IMAP server")
    where.add_argument("--mbox", metavar="FILE", help="read an mbox file (e.g. from Google Takeout)")
    where.add_argument("--maildir", metavar="DIR", help="read a Maildir folder")
    scan_parser.add_argument(
        "--me", action="append", default=[], metavar="ADDR", help="one of your own addresses (repeatable)"
    )
    _imap_options(scan_parser)
    cache = scan_parser.add_mutually_exclusive_group()
    cache.add_argument(
        "--cache", metavar="DIR", help="where to keep the IMAP header cache (default: the user cache folder)"
    )
    cache.add_argument(
        "--no-cache", action="store_true", help="fetch everything; neither read nor write the cache"
    )
    scan_parser.add_argument(
        "--check-deliverability", action="store_true", help="check address domains in DNS"
    )
    _output_options(scan_parser, now_default="the current time")
    _common(scan_parser)


def build_parser() -> CommandParser:
    """The argument parser for every subcommand."""
    parser = CommandParser(
        prog=PROG, description="Which follow-up notes do you owe? Reads sent mail and a YAML calendar."
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    _config_option(parser, default=None)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    _add_scan_parser(commands)

    demo = commands.add_parser("demo", help="scan the bundled example calendar and mail (no network)")
    _output_options(demo, now_default=DEMO_NOW.isoformat())
    _common(demo)

    check = commands.add_parser("check", help="validate a calendar and list its events and deadlines")
    check.add_argument(
        "file", metavar="FILE", nargs="?", help="the YAML calendar (default: the config file's 'calendar:')"
    )
    _config_option(check)
    check.add_argument("--check-deliverability", action="store_true", help="check address domains in DNS")
    check.add_argument(
        "--format", choices=("text", "json"), default="text", help="listing format (default: text)"
    )
    _common(check)

    _common(add_init_parser(commands))

    drafts = add_drafts_parser(commands)
    _config_option(drafts)
    _imap_options(drafts)
    _common(drafts)

    folders = commands.add_parser("folders", help="list IMAP folders and the one a scan would read")
    server = folders.add_mutually_exclusive_group(required=True)
    server.add_argument("--imap-host", metavar="HOST", help="the IMAP server")
    server.add_argument("--account", metavar="NAME", help="an account of the config file")
    _config_option(folders)
    _imap_options(folders)
    folders.add_argument(
        "--format", choices=("text", "json"), default="text", help="listing format (default: text)"
    )
    _common(folders)

    completion = commands.add_parser("completion", help="print the shell completion script (bash, zsh, fish)")
    completion.add_argument("shell", choices=SHELLS, help="the shell")
    _common(completion)
    _common(add_auth_parser(commands))
    add_import_parser(commands)
    return parser


def _emit(text: str, output: str | None) -> None:
    """Write the report to stdout, or to ``output`` through a new temporary file (0600) renamed into place."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target = Path(output)
    temporary = None
    try:
        # mkstemp: O_EXCL|O_NOFOLLOW and a random name, so a planted link is never written through.
        descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, target)
    except BaseException as exc:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        if isinstance(exc, OSError):
            raise UsageError(f"cannot write the report to {output}: {exc.strerror or exc}") from exc
        raise


def _warn_calendar(calendar: Calendar) -> None:
    for warning in calendar.warnings:
        log.warning("%s", warning)


PLACEHOLDER_ME = "you@gmail.com"
"""The address examples/calendar.yaml ships in ``me:``, to be replaced by the user's own."""


def _warn_placeholder_me(calendar: Calendar) -> None:
    if any(normalize_address(address) == PLACEHOLDER_ME for address in calendar.me):
        log.warning(
            "%s: `me:` still holds the example address %s — put your own address(es) there, or only "
            "mail From %s counts as sent in an mbox or Maildir",
            calendar.path,
            PLACEHOLDER_ME,
            PLACEHOLDER_ME,
        )


def _report(report: Report, args: argparse.Namespace) -> int:
    """Emit the report as the flags ask (statuses, order, format, width, colour); the exit code of what is shown."""
    shown = report.select([status for names in args.status for status in names], args.sort)
    if args.format == "text":
        text = render_text(shown, width=output_width(args.output), color=use_color(args.color, args.output))
    else:
        text = render(shown, args.format)
    _emit(text, args.output)
    return shown.exit_code


def _cmd_scan(args: argparse.Namespace) -> int:
    now = parse_now(args.now) if args.now is not None else datetime.now(timezone.utc)
    file_source = args.mbox or args.maildir
    config = the_config(args)
    accounts = [] if file_source or args.imap_host else chosen_accounts(args, config)
    if not (file_source or args.imap_host or accounts):
        where = f"add 'accounts:' to {config.path}" if config else "create a config with: thankyou-scan init"
        raise UsageError(f"no mail to read — give --imap-host, --mbox or --maildir, or {where}")
    calendar = scan_calendar(args, config, now=now)
    _warn_calendar(calendar)
    if file_source:
        _warn_placeholder_me(calendar)
        me = [*calendar.me, *args.me]
        if args.mbox:
            source: Source = MboxSource(args.mbox, me=me, progress=progress(Path(args.mbox).name, "bytes"))
        else:
            source = MaildirSource(args.maildir, me=me, progress=progress(Path(args.maildir).name))
        try:
            report = scan(calendar, source, now=now)
        except MailboxError as exc:
            flag = "--mbox" if args.mbox else "--maildir"
            raise MailboxError(f"{exc} (given with {flag})", path=exc.path) from exc
        return _report(report, args)
    if args.me:
        raise UsageError(
            "--me is for --mbox and --maildir, where it tells your mail from the rest; an IMAP "
            "scan reads only the Sent folder, which holds nothing but your sent mail — drop --me"
        )
    if args.imap_host:
        account = account_from_flags(args)
        with imap_source(account, args, progress=progress(account.imap_host), from_flags=True) as imap:
            report = scan(calendar, imap, now=now)
        return _report(report, args)
    sources = {
        account.name: imap_source(account, args, progress=progress(account.imap_host), from_flags=False)
        for account in accounts
    }
    report = scan(calendar, sources, now=now)
    return _report(report, args)


def _cmd_demo(args: argparse.Namespace) -> int:
    now = parse_now(args.now) if args.now is not None else DEMO_NOW
    data = resources.files("thankyou_scan") / "data"
    with ExitStack() as stack:
        calendar_path = stack.enter_context(resources.as_file(data / "demo-calendar.yaml"))
        mbox_path = stack.enter_context(resources.as_file(data / "demo-sent.mbox"))
        calendar = load_calendar(calendar_path)
        report = scan(calendar, MboxSource(mbox_path, me=calendar.me), now=now)
    _report(report, args)
    if args.format == "text" and args.output is None:
        turn = (
            "Your turn: thankyou-scan scan --calendar my-calendar.yaml --mbox "
            "'All mail Including Spam and Trash.mbox' --me you@gmail.com  (see docs/takeout.md)"
        )
        sys.stdout.write("\n" + fit_line(turn, output_width(None)) + "\n")
    return 0  # the demo shows a report; its missing notes are not the user's


def _cmd_check(args: argparse.Namespace) -> int:
    if args.file is not None:
        calendar = load_calendar_file(args.file, check_deliverability=args.check_deliverability)
    else:
        args.calendar = None
        calendar = scan_calendar(args, the_config(args))
    _warn_calendar(calendar)
    _warn_placeholder_me(calendar)
    if args.format == "json":
        print(render_check_json(calendar), end="")
    else:
        print(render_check(calendar, width=output_width(None), color=use_color(args.color, None)), end="")
    return 0


def _cmd_folders(args: argparse.Namespace) -> int:
    if args.imap_host:
        account = account_from_flags(args)
    else:
        args.account = [args.account]
        (account,) = chosen_accounts(args, the_config(args))
    with imap_source(account, args, progress=None, from_flags=bool(args.imap_host)) as imap:
        folders = imap.list_folders()
        capabilities = imap.capabilities
        try:
            chosen = {folder.name for folder in imap.sent_folders()}
        except FolderNotFoundError as exc:
            chosen, missing = set(), str(exc)
        else:
            missing = ""
    gmail = "X-GM-EXT-1" in capabilities
    if args.format == "json":
        print(render_folders_json(account.imap_host, folders, chosen, gmail=gmail), end="")
    else:
        width, color = output_width(None), use_color(args.color, None)
        print(
            render_folders(account.imap_host, folders, chosen, gmail=gmail, width=width, color=color), end=""
        )
    if missing:
        print(fit_line(f"no folder would be scanned: {visible(missing)}", stderr_width()), file=sys.stderr)
        return 3
    return 0


FLAGS = {
    "security": "--security",
    "port": "--imap-port",
    "tls_ca": "--tls-ca FILE",
    "verify": "--insecure-skip-verify",
    "timeout": "--timeout SECONDS",
    "folders": "--folder NAME",
    "drafts_folder": "--drafts-folder NAME",
}
"""The flag for each library parameter an error message may ask to change (ThankyouScanError.options)."""


def _cmd_completion(args: argparse.Namespace) -> int:
    sys.stdout.write(completion_script(build_parser(), args.shell))
    return 0


def _cmd_auth(args: argparse.Namespace) -> int:
    config = the_config(args)
    if config is None:
        raise UsageError(
            f"auth {args.account}: no config file — create one with: thankyou-scan init (or give --config FILE)"
        )
    return run_auth(args, config.account(args.account))


_COMMANDS = {
    "scan": _cmd_scan,
    "demo": _cmd_demo,
    "check": _cmd_check,
    "folders": _cmd_folders,
    "init": run_init,
    "completion": _cmd_completion,
    "auth": _cmd_auth,
    "import": run_import,
    "drafts": run_drafts,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: sys.argv[1:]) and return the exit code."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if _no_command(argv) and not {"-h", "--help", "--version"} & set(argv):
            # No command: `scan` when there is a config file (`thankyou-scan --format json` too).
            if _has_config(argv):
                argv.insert(0, "scan")
            elif not argv:
                return _no_arguments(parser)
        args = parse_arguments(parser, argv)
    except SystemExit as exc:  # argparse has printed usage or help
        return int(exc.code or 0)
    if args.command is None:  # options but no command, and no config file
        return _no_arguments(parser)
    setup_logging(args)
    if sys.stdout is None and getattr(args, "output", None) is None:
        print(f"{PROG}: error: standard output is closed — give --output FILE", file=sys.stderr)
        return 2
    try:
        check_values(args)
        with library_logs(args.verbose):
            code = _COMMANDS[args.command](args)
        if sys.stdout is not None:
            sys.stdout.flush()  # a full disk shows here, not as Python's complaint at exit
        return code
    except ThankyouScanError as exc:
        # One line per problem (a calendar error has several); whatever they quote is made visible.
        lines = str(exc).split("\n")
        flags = [FLAGS[option] for option in exc.options if option in FLAGS]
        if flags:
            lines[-1] += f" (on the command line: {', '.join(flags)})"
        for line in lines:
            print(fit_line(f"{PROG}: error: {visible(line)}", stderr_width()), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); don't let Python complain at exit.
        silence_stdout()
        return 1
    except OSError as exc:
        if exc.errno not in OUTPUT_ERRORS:
            return internal_error(exc)
        # Writing standard output failed (a full disk, /dev/full): say so; the report is not complete.
        silence_stdout()
        print(f"{PROG}: error: cannot write to standard output: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        return internal_error(exc)


def _no_command(argv: list[str]) -> bool:
    """True when ``argv`` names no command: only the command's own options may come before one.

    ``--config FILE`` is the one option taking a value there, so an option value that is
    also a command's name (``--account demo``, ``--output check``) is not taken for it.
    """
    index = 0
    while index < len(argv):
        word = argv[index]
        if word == "--config":
            index += 2
        elif word.startswith("--config="):
            index += 1
        else:
            return word.startswith("-")
    return True


def _has_config(argv: list[str]) -> bool:
    """Is there a config file to scan with? One naming an unknown ``~user`` counts: the scan says what is wrong."""
    try:
        return find_config(_config_flag(argv)) is not None
    except ThankyouScanError:
        return True


def _config_flag(argv: list[str]) -> str | None:
    """The value of a ``--config`` among ``argv``, before the parser has run."""
    for index, word in enumerate(argv):
        if word == "--config" and index + 1 < len(argv):
            return argv[index + 1]
        if word.startswith("--config="):
            return word.partition("=")[2]
    return None


def _no_arguments(parser: argparse.ArgumentParser) -> int:
    """No command and no config file: the help, and the way to a config (exit 2, a usage error, as before)."""
    parser.print_help()
    print(f"\nTo run `{PROG}` alone every morning, create a config file first: {PROG} init")
    return 2
