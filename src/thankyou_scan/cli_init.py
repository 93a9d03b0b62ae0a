"""``thankyou-scan init``: the first-run dialogue that writes the config file (and a calendar to start from).

Every question has a flag, so it runs unattended too (``--no-input``, or no terminal:
a missing answer is then an error naming its flag). Nothing is overwritten: an
existing config only with ``--force``, an existing calendar never.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from .cli_values import check_host
from .config import CONFIG_ENV, default_config_path, parse_config
from .errors import NotPrivateError, UsageError
from .paths import create_temporary, expand_user, open_private_folder

__all__ = ["PROVIDERS", "add_init_parser", "run_init"]


@dataclass(frozen=True, slots=True)
class Provider:
    """A mail provider's IMAP settings and the sign-in it wants."""

    label: str
    host: str | None
    auth: str
    """The suggested way to the secret: oauth2, keyring, password-command or password-env."""
    oauth2: str | None = None
    note: str = ""


PROVIDERS = {
    "gmail": Provider(
        "Gmail or Google Workspace",
        "imap.gmail.com",
        "oauth2",
        "gmail",
        "Google wants OAuth2 (or an app password: myaccount.google.com/apppasswords, with 2-step verification)",
    ),
    "outlook": Provider(
        "Outlook.com or Microsoft 365",
        "outlook.office365.com",
        "oauth2",
        "microsoft",
        "Microsoft refuses passwords over IMAP: OAuth2 with your app registration's client ID",
    ),
    "fastmail": Provider(
        "Fastmail", "imap.fastmail.com", "keyring", note="use an app password (Settings → Privacy & Security)"
    ),
    "icloud": Provider(
        "iCloud Mail", "imap.mail.me.com", "keyring", note="use an app-specific password (account.apple.com)"
    ),
    "yahoo": Provider(
        "Yahoo Mail", "imap.mail.yahoo.com", "keyring", note="use an app password (Account security)"
    ),
    "imap": Provider("another IMAP server", None, "password-command"),
}

AUTH_WAYS = ("oauth2", "keyring", "password-command", "password-env")
DEFAULT_CALENDAR = Path("~") / "job-search" / "calendar.yaml"


def add_init_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """The ``init`` subcommand's options (each question of the dialogue has one)."""
    init = commands.add_parser(
        "init",
        help="write a config file (and a calendar to start from): asks, or takes flags",
        description="Write the config file so that `thankyou-scan` alone runs your scan. Asks what it "
        "needs on a terminal; every answer can be given as a flag instead.",
    )
    init.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help="where to write it")
    init.add_argument(
        "--provider", choices=tuple(PROVIDERS), help="your mail provider (presets host and sign-in)"
    )
    init.add_argument("--user", metavar="ADDR", help="your email address (the IMAP login)")
    init.add_argument(
        "--account-name", metavar="NAME", help="a short name for the account (default: the provider)"
    )
    init.add_argument("--imap-host", metavar="HOST", help="the IMAP server (preset for known providers)")
    init.add_argument("--imap-port", type=int, metavar="N", help="default: 993 with ssl, 143 with starttls")
    init.add_argument("--security", choices=("ssl", "starttls", "plain"), help="default: ssl")
    init.add_argument("--auth", choices=AUTH_WAYS, help="how the password or token is found")
    init.add_argument("--password-command", metavar="CMD", help="with --auth password-command: the command")
    init.add_argument("--password-env", metavar="VAR", help="with --auth password-env: the variable")
    init.add_argument("--oauth2-client-id", metavar="ID", help="Microsoft: your app registration's client ID")
    init.add_argument("--calendar", metavar="FILE", help=f"the calendar (default: {DEFAULT_CALENDAR})")
    init.add_argument("--no-input", action="store_true", help="never ask: a missing answer is an error")
    init.add_argument("--force", action="store_true", help="replace an existing config file")
    return init


def run_init(args: argparse.Namespace) -> int:
    """Ask (or read from flags), write the config and, when missing, a calendar from the template."""
    ask = _Asker(interactive=not args.no_input and sys.stdin is not None and sys.stdin.isatty())
    target = expand_user(
        getattr(args, "config", None) or os.environ.get(CONFIG_ENV) or default_config_path(), "--config"
    )
    if target.exists() and not args.force:
        raise UsageError(f"{target} exists — edit it, or give --force to write a new one")
    provider_name = args.provider or ask.choice("Mail provider", tuple(PROVIDERS), None, "--provider")
    provider = PROVIDERS[provider_name]
    if provider.note:
        print(f"{provider.label}: {provider.note}", file=sys.stderr)
    user = args.user or ask.text("Your email address (the IMAP login)", None, "--user")
    if "@" not in user or not user.isprintable() or any(c.isspace() for c in user):
        raise UsageError(f"--user {user!r} is not an email address — write it like you@gmail.com")
    host = args.imap_host or provider.host or ask.text("IMAP server", None, "--imap-host")
    check_host(host)
    security = args.security or (
        "ssl" if provider.host else ask.choice("Security", ("ssl", "starttls"), "ssl", "--security")
    )
    auth = args.auth or ask.choice("Sign-in", AUTH_WAYS, provider.auth, "--auth")
    account: dict[str, object] = {
        "name": args.account_name or provider_name,
        "imap_host": host,
        "imap_port": args.imap_port or (993 if security == "ssl" else 143),
        "security": security,
        "user": user,
    }
    account.update(_secret(auth, provider, args, ask, user))
    calendar = expand_user(
        args.calendar or ask.text("Your calendar file", str(DEFAULT_CALENDAR), "--calendar"), "--calendar"
    )
    text = _config_text(calendar.absolute(), user, account)
    parse_config(text, target)  # what is written must read back: a bad answer fails here, before any write
    # The calendar first: a calendar folder that cannot be made must not leave a config behind
    # that a second `init` would refuse to replace.
    wrote_calendar = _write_calendar(calendar, user)
    _write_new(target, text, replace=args.force)
    print(f"wrote {target}")
    print(f"wrote {calendar} — put your events in it" if wrote_calendar else f"kept {calendar} as it is")
    print("next:")
    if auth == "oauth2":
        print("  # sign in once:")
        print(f"  thankyou-scan auth {account['name']}")
    elif auth == "keyring":
        print("  # store the password in the keyring (pipx inject thankyou-scan keyring):")
        # Quoted: the line is there to be pasted into a shell, and an address may hold `$(...)` or `;`.
        print(f"  keyring set thankyou-scan {shlex.quote(user)}")
    print("  thankyou-scan check   # your events and their deadlines")
    print("  thankyou-scan         # the report, every morning")
    return 0


def _secret(
    auth: str, provider: Provider, args: argparse.Namespace, ask: _Asker, user: str
) -> dict[str, object]:
    if auth == "oauth2":
        oauth2 = provider.oauth2
        if oauth2 is None:
            raise UsageError("--auth oauth2 works with --provider gmail or --provider outlook")
        if oauth2 == "microsoft":
            client_id = args.oauth2_client_id or ask.text(
                "Application (client) ID of your app registration", None, "--oauth2-client-id"
            )
            return {"oauth2": oauth2, "oauth2_client_id": client_id}
        return {"oauth2": oauth2}
    if auth == "keyring":
        return {"keyring": True}
    if auth == "password-env":
        return {"password_env": args.password_env or ask.text("Environment variable", None, "--password-env")}
    command = args.password_command or ask.text(
        "Command that prints the password (no shell)", f"pass show mail/{user}", "--password-command"
    )
    try:
        words = shlex.split(command)
    except ValueError as exc:
        raise UsageError(f"--password-command cannot be split into words: {exc}") from None
    if not words:
        raise UsageError("--password-command is empty")
    return {"password_command": words}


def _config_text(calendar: Path, user: str, account: dict[str, object]) -> str:
    """The config as YAML; every value JSON-quoted (JSON is YAML), so nothing typed can add a key."""
    lines = [
        "# thankyou-scan config: `thankyou-scan` alone scans these accounts against the calendar.",
        "# Every key: docs/daily-use.md. Flags given on the command line override these.",
        "version: 1",
        f"calendar: {json.dumps(str(calendar))}",
        f"me: [{json.dumps(user)}]",
        "accounts:",
    ]
    first = True
    for key, value in account.items():
        lines.append(f"  {'- ' if first else '  '}{key}: {json.dumps(value)}")
        first = False
    return "\n".join(lines) + "\n"


def _write_new(target: Path, text: str, *, replace: bool) -> None:
    """Write ``text`` to ``target`` (0600) through a temporary file; never over an existing file unless ``replace``."""
    try:
        folder = open_private_folder(target.parent, create=True)
    except NotPrivateError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror}") from None
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    try:
        descriptor, temporary = create_temporary(folder, target.name)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text)
            if replace:
                os.replace(temporary, target.name, src_dir_fd=folder, dst_dir_fd=folder)
            else:
                os.link(temporary, target.name, src_dir_fd=folder, dst_dir_fd=folder, follow_symlinks=False)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary, dir_fd=folder)
    except FileExistsError:
        raise UsageError(f"{target} exists — edit it, or give --force to write a new one") from None
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    finally:
        os.close(folder)


def _write_calendar(path: Path, user: str) -> bool:
    """The template calendar at ``path`` with ``user`` as ``me``, unless a file is there (it is kept)."""
    if os.path.lexists(path):
        return False
    template = (resources.files("thankyou_scan") / "data" / "calendar-template.yaml").read_text("utf-8")
    text = template.replace("  - you@gmail.com\n", f"  - {json.dumps(user)}\n", 1)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        return False
    except OSError as exc:
        raise UsageError(f"cannot write the calendar {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise UsageError(f"cannot write the calendar {path}: {exc.strerror or exc}") from None
    return True


class _Asker:
    """Questions on the terminal, or, without one, an error naming the flag that answers them."""

    def __init__(self, *, interactive: bool) -> None:
        self.interactive = interactive

    def text(self, question: str, default: str | None, flag: str) -> str:
        if not self.interactive:
            if default is not None:
                return default
            raise UsageError(f"init needs {flag} (no terminal to ask on)")
        while True:
            shown = f" [{default}]" if default else ""
            try:
                answer = input(f"{question}{shown}: ").strip()
            except EOFError:
                raise UsageError(f"init needs {flag} (no answer was typed)") from None
            if answer or default:
                return answer or str(default)

    def choice(self, question: str, choices: tuple[str, ...], default: str | None, flag: str) -> str:
        if not self.interactive:
            if default is None:
                raise UsageError(f"init needs {flag} (no terminal to ask on): one of {', '.join(choices)}")
            return default
        while True:
            answer = self.text(f"{question} ({', '.join(choices)})", default, flag)
            if answer in choices:
                return answer
            print(f"  one of: {', '.join(choices)}", file=sys.stderr)
