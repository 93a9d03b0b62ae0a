"""From the command line and the config file to a calendar and the IMAP sources of a scan.

Flags override the file: ``--calendar`` replaces the configured calendars, a source flag
(``--imap-host``, ``--mbox``, ``--maildir``) replaces the accounts, and the IMAP flags
(``--imap-port``, ``--security``, ``--folder``...) override each chosen account's keys.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from .calendar import Calendar, load_calendar, merge_calendars
from .cli_auth import account_secret
from .cli_secrets import read_secret
from .config import Account, Config, find_config, load_config
from .errors import CalendarError, CalendarProblem, UsageError
from .invitations import is_ics_path
from .paths import cache_dir
from .sources.cache import HeaderCache
from .sources.imap import ImapSource

__all__ = [
    "DEFAULT_SECURITY",
    "DEFAULT_TIMEOUT",
    "SECRET_FLAGS",
    "account_from_flags",
    "account_secrets",
    "chosen_accounts",
    "imap_settings",
    "imap_source",
    "load_calendar_file",
    "scan_calendar",
    "the_config",
]

log = logging.getLogger("thankyou_scan")

SECRET_FLAGS = ("password_env", "password_command", "oauth2_token_env")
"""The flags that say where the secret comes from; one given on the command line replaces the account's."""

NARROW_ENV = "THANKYOU_SCAN_NARROW"
"""0: read every message in the window; 1: ask any server for the calendar's people's only; unset: Gmail only."""
DEFAULT_SECURITY = "ssl"
DEFAULT_TIMEOUT = 30.0


def the_config(args: argparse.Namespace) -> Config | None:
    """The config file's contents: ``--config``, ``$THANKYOU_SCAN_CONFIG``, or the default place if it exists.

    Raises:
        ConfigError: the file named is missing or wrong (exit 2, with file and line).
    """
    path = find_config(getattr(args, "config", None))
    if path is None:
        return None
    config = load_config(path)
    log.info("config: %s", path)
    return config


def load_calendar_file(
    path: str, *, check_deliverability: bool = False, me: Iterable[str] = (), now: datetime | None = None
) -> Calendar:
    """A YAML calendar, or an .ics file read as one (its invitations' events)."""
    if is_ics_path(path):
        from .invitations.load import load_ics_calendar

        return load_ics_calendar(path, me=me, now=now, check_deliverability=check_deliverability)
    return load_calendar(path, check_deliverability=check_deliverability)


def scan_calendar(
    args: argparse.Namespace, config: Config | None, *, now: datetime | None = None
) -> Calendar:
    """The calendar a scan reads: ``--calendar``, else the config's calendars (YAML or .ics), as one.

    The config's ``me`` is added to the calendars' own; with ``--me``, it also keeps the
    user out of the people of an .ics file's invitations.

    Raises:
        CalendarError: every file's problems, or an event id used in two files.
        UsageError: no calendar is given or configured.
    """
    paths = [args.calendar] if getattr(args, "calendar", None) else list(config.calendars if config else ())
    if not paths:
        where = f"put 'calendar:' in {config.path}" if config else "create a config with: thankyou-scan init"
        raise UsageError(f"no calendar to read — give --calendar FILE, or {where}")
    me = [*(config.me if config else ()), *(getattr(args, "me", None) or ())]
    calendars: list[Calendar] = []
    problems: list[CalendarProblem] = []
    for path in paths:
        try:
            calendars.append(
                load_calendar_file(str(path), check_deliverability=args.check_deliverability, me=me, now=now)
            )
        except CalendarError as exc:
            problems.extend(exc.problems)
    if problems:
        raise CalendarError(problems)
    return merge_calendars(calendars, me=config.me if config else ())


def chosen_accounts(args: argparse.Namespace, config: Config | None) -> list[Account]:
    """The accounts a scan reads: ``--account NAME`` (repeatable), else every account of the config."""
    names: list[str] = getattr(args, "account", None) or []
    if config is None:
        if names:
            raise UsageError(
                f"--account {names[0]}: no config file — create one with: thankyou-scan init (or give --config FILE)"
            )
        return []
    accounts = [config.account(name) for name in dict.fromkeys(names)] if names else list(config.accounts)
    return [_with_flags(account, args) for account in accounts]


def account_from_flags(args: argparse.Namespace) -> Account:
    """The account the IMAP flags describe (``--imap-host`` and friends), for runs without a config."""
    if not args.user:
        raise UsageError("--user is needed with --imap-host (usually your email address)")
    return _with_flags(Account(name=args.imap_host, imap_host=args.imap_host, user=args.user), args)


def _with_flags(account: Account, args: argparse.Namespace) -> Account:
    """``account`` with every IMAP flag given on the command line put over the file's values."""
    changes: dict[str, object] = {}
    for flag, key in (
        ("user", "user"),
        ("imap_port", "imap_port"),
        ("security", "security"),
        ("tls_ca", "tls_ca"),
        ("timeout", "timeout"),
    ):
        value = getattr(args, flag, None)
        if value is not None:
            changes[key] = value
    if getattr(args, "folder", None):
        changes["folders"] = tuple(args.folder)
    if getattr(args, "insecure_skip_verify", False):
        changes["verify"] = False
    return dataclasses.replace(account, **changes)  # type: ignore[arg-type]


def account_secrets(
    account: Account, args: argparse.Namespace, *, from_flags: bool
) -> tuple[str | None, str | None]:
    """(password, token) for ``account``: from a secret flag when one is given (or the account is the flags'), else the account's way."""
    if not account.verify and account.tls_ca:
        raise UsageError("--tls-ca and --insecure-skip-verify contradict each other — give one")
    if from_flags or any(getattr(args, flag, None) for flag in SECRET_FLAGS):
        return read_secret(args)
    return account_secret(account)


def imap_settings(account: Account, args: argparse.Namespace, *, from_flags: bool) -> dict[str, Any]:
    """What an IMAP login needs for ``account`` (host, user, port, security, TLS, folders, secret).

    The keyword arguments of :class:`ImapSource` and of the invitations' reader alike; the
    secret is read now, from a flag or the account's way.
    """
    password, token = account_secrets(account, args, from_flags=from_flags)
    return {
        "host": account.imap_host,
        "user": account.user,
        "port": account.imap_port,
        "security": account.security or DEFAULT_SECURITY,
        "tls_ca": account.tls_ca,
        "verify": account.verify,
        "timeout": account.timeout if account.timeout is not None else DEFAULT_TIMEOUT,
        "folders": list(account.folders),
        "password": password,
        "oauth2_token": token,
    }


def imap_source(
    account: Account,
    args: argparse.Namespace,
    *,
    progress: Callable[[int, int], None] | None,
    from_flags: bool,
) -> ImapSource:
    """An (unopened) :class:`ImapSource` for ``account``: :func:`imap_settings`, progress and the cache."""
    return ImapSource(
        **imap_settings(account, args, from_flags=from_flags),
        progress=progress,
        cache=None if getattr(args, "no_cache", True) else HeaderCache(args.cache or cache_dir()),
        # For benchmarks and odd servers: THANKYOU_SCAN_NARROW=0 never, =1 on any server.
        narrow={"0": False, "1": True}.get(os.environ.get(NARROW_ENV, "")),
    )
