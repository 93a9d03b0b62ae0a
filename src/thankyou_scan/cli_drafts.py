"""``thankyou-scan drafts``: a draft of every owed note, in the Drafts folder or as ``.eml`` files (docs/drafts.md).

The scan runs as ``scan`` would (same calendar, source and ``--now`` flags); then each
owed follow-up with an address gets a draft rendered from its kind's template. Every
template is read and compiled, and every draft rendered, before anything is written,
so a template error (exit 2) leaves the mailbox as it was. Drafts go to the first
chosen account's Drafts folder (``--account`` picks it; without it, the config's first
account), or to ``--eml-dir``. Nothing is ever sent.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
from collections.abc import Callable
from contextlib import ExitStack, suppress
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from .cli_accounts import account_from_flags, chosen_accounts, imap_source, scan_calendar, the_config
from .cli_values import parse_now
from .config import Config
from .errors import MailboxError, NotPrivateError, UsageError
from .paths import create_temporary, expand_user, open_private_folder
from .pipeline import scan
from .render import visible
from .report import FollowUp, Report, Status
from .sources.base import Source
from .sources.imap import ImapSource
from .sources.mailbox import MaildirSource, MboxSource

if TYPE_CHECKING:
    from .draft_templates import DraftTemplate
    from .drafts import Draft
    from .sources.imap_drafts import DraftsMailbox

__all__ = ["add_drafts_parser", "run_drafts"]

log = logging.getLogger("thankyou_scan")


def add_drafts_parser(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> argparse.ArgumentParser:
    """The ``drafts`` subcommand's own options; cli.py adds the config, IMAP and logging ones it shares."""
    drafts = commands.add_parser(
        "drafts",
        help="put a draft of every owed note in your Drafts folder (never sends)",
        description="Scan as `scan` does, then put a personal draft of each owed note (due and missing, "
        "by default) in the Drafts folder of your account — or write .eml files with --eml-dir. "
        "Running it again adds nothing. Nothing is ever sent.",
    )
    drafts.add_argument("--calendar", metavar="FILE", help="the YAML calendar (default: the config file's)")
    where = drafts.add_mutually_exclusive_group()
    where.add_argument(
        "--account",
        action="append",
        metavar="NAME",
        help="read this account of the config file (repeatable); drafts go to the first one "
        "(default: every account is read, drafts go to the config's first)",
    )
    where.add_argument("--imap-host", metavar="HOST", help="read the Sent folder of this IMAP server")
    where.add_argument("--mbox", metavar="FILE", help="read an mbox file (drafts need --eml-dir)")
    where.add_argument("--maildir", metavar="DIR", help="read a Maildir folder (drafts need --eml-dir)")
    drafts.add_argument(
        "--me",
        action="append",
        default=[],
        metavar="ADDR",
        help="your address (mbox/Maildir; the first is From)",
    )
    drafts.add_argument(
        "--now", metavar="ISO8601", help="the time to report as of (default: the current time)"
    )
    drafts.add_argument(
        "--status",
        default="due,missing",
        metavar="LIST",
        help="which follow-ups get drafts (default: due,missing; also upcoming)",
    )
    drafts.add_argument("--template", metavar="FILE", help="one template for every kind (default: per kind)")
    drafts.add_argument(
        "--drafts-folder", metavar="NAME", help="the folder for drafts (default: found by \\Drafts)"
    )
    drafts.add_argument("--eml-dir", metavar="DIR", help="write .eml files here instead of to a mailbox")
    drafts.add_argument(
        "--dry-run", action="store_true", help="print the drafts it would make; write nothing"
    )
    drafts.add_argument(
        "--force",
        action="store_true",
        help="recreate a draft you deleted but that is still there, flagged deleted (or an existing .eml)",
    )
    drafts.add_argument("--check-deliverability", action="store_true", help="check address domains in DNS")
    return drafts


# The drafts modules load only when `drafts` runs: a scan starts without them.
Templates = Callable[[str], "DraftTemplate"]


def _templates(args: argparse.Namespace, config: Config | None) -> Templates:
    """The template for each kind: ``--template``, else the config's for that kind, else the packaged one
    for that kind, else the config's ``default``, else the packaged default. All read and compiled now.
    """
    from .draft_templates import DEFAULT_KINDS, default_template, load_template

    if args.template:
        single = load_template(args.template)
        return lambda kind: single
    configured = {
        kind: load_template(path) for kind, path in (config.drafts_templates if config else {}).items()
    }
    packaged: dict[str, DraftTemplate] = {}

    def choose(kind: str) -> DraftTemplate:
        if kind in configured:
            return configured[kind]
        if kind not in DEFAULT_KINDS and "default" in configured:
            return configured["default"]
        name = kind if kind in DEFAULT_KINDS else "default"
        if name not in packaged:
            packaged[name] = default_template(name)
        return packaged[name]

    return choose


def run_drafts(args: argparse.Namespace) -> int:
    """Run ``thankyou-scan drafts``: scan, render every draft, then write them; the exit code."""
    from .drafts import parse_statuses
    from .sources.imap_drafts import DraftsMailbox

    now = parse_now(args.now) if args.now is not None else datetime.now(timezone.utc)
    statuses = parse_statuses(args.status)
    if args.eml_dir is not None and (not args.eml_dir.strip() or "\x00" in args.eml_dir):
        raise UsageError(f"--eml-dir {args.eml_dir!r} is not a folder name")
    config = the_config(args)
    templates = _templates(args, config)
    calendar = scan_calendar(args, config)
    for warning in calendar.warnings:
        log.warning("%s", warning)
    file_source = args.mbox or args.maildir
    if file_source:
        if args.eml_dir is None and not args.dry_run:
            raise UsageError(
                "drafts from --mbox or --maildir have no mailbox to go to — give --eml-dir DIR (or --dry-run)"
            )
        me = [*args.me, *calendar.me]
        if not me:
            raise UsageError("give --me ADDR (or `me:` in the calendar): your address is the drafts' From")
        source: Source = MboxSource(args.mbox, me=me) if args.mbox else MaildirSource(args.maildir, me=me)
        try:
            report = scan(calendar, source, now=now)
        except MailboxError as exc:
            raise MailboxError(
                f"{exc} (given with {'--mbox' if args.mbox else '--maildir'})", path=exc.path
            ) from exc
        return _make(report, args, statuses, templates, sender=me[0], mailbox=None, my_name=_my_name(config))
    if args.me:
        raise UsageError("--me is for --mbox and --maildir; with IMAP, drafts are From the account's user")
    if args.imap_host:
        account = account_from_flags(args)
        sources = {account.name: imap_source(account, args, progress=None, from_flags=True)}
    else:
        accounts = chosen_accounts(args, config)
        if not accounts:
            where = (
                f"add 'accounts:' to {config.path}" if config else "create a config with: thankyou-scan init"
            )
            raise UsageError(
                f"no mailbox for drafts — give --account NAME, --imap-host or --mbox, or {where}"
            )
        sources = {
            account.name: imap_source(account, args, progress=None, from_flags=False) for account in accounts
        }
    first_name, first = next(iter(sources.items()))
    sender = first.user if "@" in first.user else next(iter(calendar.me), "")
    if "@" not in sender:
        raise UsageError(
            f"the login {first.user!r} is not an email address, and the calendar has no `me:` — add your "
            "address to `me:`: it is the drafts' From"
        )
    with ExitStack() as stack:
        stack.enter_context(first)  # one connection for the scan and the drafts
        report = scan(calendar, sources if len(sources) > 1 else first, now=now)
        mailbox = None
        if args.eml_dir is None:
            folder = args.drafts_folder or (config.drafts_folder if config else None)
            mailbox = DraftsMailbox(first, folder)
            if len(sources) > 1:
                log.info("drafts go to account %s", first_name)
        return _make(
            report,
            args,
            statuses,
            templates,
            sender=sender,
            mailbox=mailbox,
            thread_source=first,
            my_name=_my_name(config),
        )


def _my_name(config: Config | None) -> str:
    """The user's name for the sign-off and the From line: the config's ``name:``, else none."""
    if config is None or not config.name:
        log.info("no 'name:' in the config: drafts are signed without a name")
        return ""
    return config.name


def _make(
    report: Report,
    args: argparse.Namespace,
    statuses: tuple[Status, ...],
    templates: Templates,
    *,
    sender: str,
    mailbox: DraftsMailbox | None,
    thread_source: ImapSource | None = None,
    my_name: str = "",
) -> int:
    """Render every draft first (a template error writes nothing), then write each one that is not there yet."""
    from .drafts import Draft, build_message, draft_key, owed, template_fields, thread_for
    from .sources.imap_drafts import DraftsMailbox

    with_address, without = owed(report, statuses)
    drafts = []
    for followup in with_address:
        text = templates(followup.event.kind).render(
            template_fields(followup, my_name=my_name, my_email=sender)
        )
        key = draft_key(followup.event.id, followup.person.email or "")
        drafts.append(Draft(followup, key, text.subject, text.body))
    threads = DraftsMailbox(thread_source) if thread_source is not None else None
    folder = None if args.eml_dir is None else _eml_folder(args.eml_dir, create=not args.dry_run)
    try:
        for draft in drafts:
            if threads is not None:
                blocks = threads.mail_from(draft.address)
                draft = dataclasses.replace(draft, thread=thread_for(draft.followup.event.title, blocks))
            raw = build_message(draft, sender=sender, now=datetime.now(timezone.utc), sender_name=my_name)
            _say(_outcome(draft, raw, args, mailbox, folder), draft.followup, draft)
    finally:
        if folder is not None:
            os.close(folder)
    for followup in without:
        _say("no draft: no address", followup, None)
    return 0


def _outcome(
    draft: Draft, raw: bytes, args: argparse.Namespace, mailbox: DraftsMailbox | None, folder: int | None
) -> str:
    """Write one draft (unless it is there, or this is a dry run) and say what happened."""
    if folder is not None or (args.eml_dir is not None and args.dry_run):
        return _write_eml(folder, draft.key, raw, force=args.force, dry_run=args.dry_run)
    if mailbox is None:
        return "would create"  # a dry run of an mbox or Maildir without --eml-dir
    there = mailbox.has(draft.key, deleted_too=not args.force)
    if args.dry_run:
        return f"exists in {mailbox.folder}" if there else f"would create in {mailbox.folder}"
    if there or not mailbox.add(draft.key, raw, datetime.now(timezone.utc), deleted_too=not args.force):
        return f"exists in {mailbox.folder}"
    return f"created in {mailbox.folder}"


def _eml_folder(path: str, *, create: bool) -> int | None:
    try:
        return open_private_folder(expand_user(path, "--eml-dir"), create=create)
    except FileNotFoundError:
        if not create:
            return None  # a dry run creates nothing: every draft would be new
        raise UsageError(f"--eml-dir {path}: cannot create the folder") from None
    except NotPrivateError as exc:
        raise UsageError(f"--eml-dir {path}: {exc.strerror or exc} — use a folder of your own") from None
    except OSError as exc:
        raise UsageError(f"--eml-dir {path}: {exc.strerror or exc}") from None


def _write_eml(folder: int | None, key: str, raw: bytes, *, force: bool, dry_run: bool) -> str:
    """``KEY.eml`` in the folder (0600, through a new temporary file renamed into place); an existing one kept."""
    name = f"{key}.eml"
    exists = False
    if folder is not None:
        try:
            os.stat(name, dir_fd=folder, follow_symlinks=False)
            exists = True
        except FileNotFoundError:
            pass
    if exists and not force:
        return f"exists: {name}"
    if dry_run or folder is None:
        return f"would write {name}"
    try:
        descriptor, temporary = create_temporary(folder, name)
    except OSError as exc:
        raise UsageError(f"--eml-dir: cannot write {name}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(raw)
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException as exc:
        with suppress(OSError):
            os.unlink(temporary, dir_fd=folder)
        if isinstance(exc, OSError):
            # A full disk or a read-only folder: not standard output's failure, nor an internal error.
            raise UsageError(f"--eml-dir: cannot write {name}: {exc.strerror or exc}") from None
        raise
    return f"wrote {name}"


def _say(outcome: str, followup: FollowUp, draft: Draft | None) -> None:
    person = visible(str(followup.person))
    reply = ""
    if draft is not None and draft.thread is not None:
        reply = f", a reply to {visible(draft.thread.subject)!r}"
    print(f"{outcome}: {person} — {visible(followup.event.title)} ({followup.status.value}{reply})")
