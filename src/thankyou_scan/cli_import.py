"""``thankyou-scan import``: calendar events from the invitations in your mail or .ics files.

Prints calendar-format YAML, or appends the new events to ``--calendar`` (docs/invitations.md).
The invitation code (and icalendar with it) is imported only when this command runs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator
from datetime import datetime, time, timedelta, timezone

from .cli_accounts import (
    account_from_flags,
    chosen_accounts,
    imap_settings,
    load_calendar_file,
    the_config,
)
from .cli_values import parse_now
from .config import Account, Config
from .errors import MailboxError, UsageError

__all__ = ["DEFAULT_SINCE", "add_import_parser", "run_import"]

log = logging.getLogger("thankyou_scan")

UTC = timezone.utc
DEFAULT_SINCE = timedelta(days=90)
"""Without --since, invitations for events from 90 days before now on are imported."""
AHEAD = timedelta(days=30)
"""Occurrences of recurring events are expanded up to 30 days after now."""


def add_import_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The ``import`` subcommand's flags."""
    from .cli import _common, _imap_options  # cli imports this module: only once both are loaded

    parser = commands.add_parser(
        "import", help="make calendar events from the invitations in your mail or .ics files"
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--account", metavar="NAME", help="read the invitations in INBOX of this account of the config file"
    )
    where.add_argument(
        "--imap-host", metavar="HOST", help="read the invitations in INBOX on this IMAP server"
    )
    where.add_argument("--mbox", metavar="FILE", help="read the invitations in an mbox file")
    where.add_argument("--maildir", metavar="DIR", help="read the invitations in a Maildir folder")
    where.add_argument("--ics", nargs="+", metavar="FILE", help="read .ics files (exports or invitations)")
    parser.add_argument(
        "--since",
        metavar="DATE",
        help="events from this date on (YYYY-MM-DD or ISO 8601; default: 90 days ago)",
    )
    parser.add_argument("--now", metavar="ISO8601", help="the time to count from (default: the current time)")
    parser.add_argument(
        "--me", action="append", default=[], metavar="ADDR", help="one of your own addresses (repeatable)"
    )
    parser.add_argument(
        "--calendar",
        metavar="FILE",
        help="print only the events whose id is not already in this calendar "
        "(default with a config file: its first YAML calendar)",
    )
    parser.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help="the config file")
    parser.add_argument(
        "--append", action="store_true", help="append the new events to --calendar instead of printing them"
    )
    _imap_options(parser)
    _common(parser)


def _since(text: str | None, now: datetime) -> datetime:
    if text is None:
        return now - DEFAULT_SINCE
    try:
        if len(text.strip()) == 10:
            return datetime.combine(datetime.fromisoformat(text.strip()).date(), time(), UTC)
        return parse_now(text)
    except (ValueError, UsageError):
        raise UsageError(f"--since {text[:40]!r} is not a date — write it like 2026-09-01") from None


def run_import(args: argparse.Namespace) -> int:
    """Run ``import``: read the invitations, print or append the events; the exit code."""
    from .invitations.ics import InvitationSet
    from .invitations.load import is_ics_path
    from .invitations.output import append_events, loadable, render_calendar
    from .invitations.rules import PeopleRules

    now = parse_now(args.now) if args.now is not None else datetime.now(UTC)
    since = _since(args.since, now)
    config = the_config(args)
    account = _account(args, config)
    if not args.calendar and config is not None:
        args.calendar = next((str(path) for path in config.calendars if not is_ics_path(str(path))), None)
    if args.append and not args.calendar:
        raise UsageError("--append needs --calendar FILE: the calendar to append to")
    me = {*args.me, *(config.me if config else ())}
    if account is not None:
        me.add(account.user)
    known: set[str] = set()
    if args.calendar:
        if args.append and is_ics_path(args.calendar):
            raise UsageError(
                f"--append writes YAML: {args.calendar} is an .ics file — give your YAML calendar"
            )
        calendar = load_calendar_file(args.calendar, me=me, now=now)
        known = {event.id for event in calendar.events}
        me.update(calendar.me)
    found = InvitationSet(rules=PeopleRules(me=frozenset(me)))
    for text, origin in _texts(args, account, since):
        found.add_text(text, origin)
    events = [
        event for event in found.events(since, now + AHEAD) if event.id is None or event.id not in known
    ]
    events = loadable(events)
    if found.skipped:
        log.warning(
            "%d invitation(s) could not be read and were skipped (see the warnings above)", found.skipped
        )
    if args.append:
        added = append_events(args.calendar, events)
        print(f"appended {added} event(s) to {args.calendar}", file=sys.stderr)
        return 0
    sys.stdout.write(render_calendar(events))
    log.info("%d event(s) from %d calendar part(s)", len(events), found.texts)
    return 0


def _account(args: argparse.Namespace, config: Config | None) -> Account | None:
    """The IMAP account to read: ``--account`` (from the config, flags over it) or the IMAP flags."""
    if args.account:
        args.account = [args.account]
        return chosen_accounts(args, config)[0]
    if args.imap_host:
        return account_from_flags(args)
    return None


def _texts(args: argparse.Namespace, account: Account | None, since: datetime) -> Iterator[tuple[str, str]]:
    if args.ics:
        yield from _ics_files(args.ics)
    elif args.mbox or args.maildir:
        yield from _mail(args)
    elif account is not None:
        yield from _imap(args, account, since)


def _ics_files(paths: list[str]) -> Iterator[tuple[str, str]]:
    from .invitations.load import read_ics_file

    texts = []
    for path in paths:  # every file checked before any is read: a wrong path is a usage error (exit 2)
        if not path.strip() or "\x00" in path:
            raise UsageError(f"--ics {path[:80]!r} is not a path — give an .ics file")
        try:
            texts.append((read_ics_file(path), path))
        except FileNotFoundError:
            raise UsageError(f"--ics {path}: no such file — check the path") from None
        except IsADirectoryError:
            raise UsageError(f"--ics {path}: is a directory — give .ics files") from None
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise UsageError(f"--ics {path}: {reason}") from None
    yield from texts


def _mail(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    from .invitations.mail import calendar_parts, maildir_messages, mbox_messages

    path = args.mbox or args.maildir
    messages = mbox_messages(path) if args.mbox else maildir_messages(path)
    try:
        for key, raw in messages:
            try:
                parts = calendar_parts(raw)
            except (ValueError, LookupError) as exc:
                log.warning("%s: %s: skipped: %s", path, key, exc)
                continue
            for number, text in enumerate(parts, 1):
                yield text, f"{path}: {key}" + (f" (calendar part {number})" if len(parts) > 1 else "")
    except MailboxError as exc:
        flag = "--mbox" if args.mbox else "--maildir"
        raise MailboxError(f"{exc} (given with {flag})", path=exc.path) from exc


def _imap(args: argparse.Namespace, account: Account, since: datetime) -> Iterator[tuple[str, str]]:
    from .invitations.imap import ImapInvitations

    with ImapInvitations(**imap_settings(account, args, from_flags=not args.account)) as imap:
        yield from imap.calendar_texts(since)
        log.info(
            "%s: %d message(s), %d calendar part(s), %d bytes fetched",
            account.imap_host,
            imap.messages_scanned,
            imap.parts_fetched,
            imap.bytes_fetched,
        )
