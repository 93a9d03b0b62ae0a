"""The config file: the calendar(s) and the accounts, so that ``thankyou-scan`` alone runs the scan.

``~/.config/thankyou-scan/config.yaml`` (the platform's config folder), or
``$THANKYOU_SCAN_CONFIG``, or a path given by the caller; the format is in
docs/daily-use.md. Read like a calendar: the safe loader, every problem with its line,
all of them at once. The file can make the tool run a command (``password_command``),
so one that another user owns or may write to is refused, and a password written in
it is refused with the four ways to give one instead.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CalendarError, CalendarProblem, ConfigError, UsageError
from .paths import config_dir, expand_user, open_regular_file
from .yamlnodes import compose, did_you_mean

__all__ = [
    "CONFIG_ENV",
    "OAUTH2_PROVIDERS",
    "SECRET_WAYS",
    "Account",
    "Config",
    "default_config_path",
    "find_config",
    "load_config",
    "parse_config",
]

CONFIG_ENV = "THANKYOU_SCAN_CONFIG"
"""The environment variable naming the config file (instead of the platform's default place)."""

OAUTH2_PROVIDERS = ("gmail", "microsoft")

SECRET_WAYS = ("password_command", "password_env", "keyring", "oauth2")
"""The keys that say where an account's secret comes from: exactly one per account."""

MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Account:
    """One IMAP account of the config file; the keys mirror the scan's flags.

    Exactly one way to the secret is set: ``password_command`` (an argv list, run
    without a shell), ``password_env`` (an environment variable), ``keyring`` (the
    system keyring, service ``thankyou-scan``, username ``user``), or ``oauth2``
    (``"gmail"`` or ``"microsoft"``: tokens from ``thankyou-scan auth NAME``).
    """

    name: str
    imap_host: str
    user: str
    imap_port: int | None = None
    security: str = "ssl"
    folders: tuple[str, ...] = ()
    tls_ca: str | None = None
    verify: bool = True
    timeout: float = 30.0
    password_command: tuple[str, ...] = ()
    password_env: str | None = None
    keyring: bool = False
    oauth2: str | None = None
    oauth2_client_file: str | None = None
    """Gmail: the "Desktop app" client JSON from Google Cloud Console (default: ``gmail-client.json``
    in the config folder)."""
    oauth2_client_id: str | None = None
    """Microsoft: the application (client) ID of the app registration (a public client)."""
    oauth2_authority: str | None = None
    """Microsoft: ``https://login.microsoftonline.com/<tenant>`` (default tenant: ``common``)."""
    line: int | None = None
    """Where the account starts in the config file, for messages."""


@dataclass(frozen=True, slots=True)
class Config:
    """A config file read and checked: its calendars, extra ``me`` addresses and accounts."""

    path: Path
    name: str = ""
    """The user's own name: the sign-off and the From line of drafts."""
    calendars: tuple[Path, ...] = ()
    me: tuple[str, ...] = ()
    accounts: tuple[Account, ...] = ()
    drafts_templates: dict[str, Path] = field(default_factory=dict)
    drafts_folder: str | None = None

    def account(self, name: str) -> Account:
        """The account called ``name``.

        Raises:
            ConfigError: no account has that name (the message lists those that exist).
        """
        for account in self.accounts:
            if account.name == name:
                return account
        names = [account.name for account in self.accounts]
        cased = [other for other in names if other.lower() == name.lower()]
        hint = (
            (f"did you mean {cased[0]!r}? (names are case-sensitive)" if cased else "")
            or did_you_mean(name, names)
            or (f"the accounts are: {', '.join(names)}" if names else "the file has no 'accounts:'")
        )
        raise ConfigError([CalendarProblem(str(self.path), None, None, f"no account {name!r} — {hint}")])


def default_config_path() -> Path:
    """``config.yaml`` in the platform's config folder (``~/.config/thankyou-scan`` on Linux)."""
    return config_dir() / "config.yaml"


def find_config(explicit: str | Path | None = None) -> Path | None:
    """The config file to use: ``explicit``, else ``$THANKYOU_SCAN_CONFIG``, else the default place if it exists.

    An explicit path or the variable is returned even when the file is missing (loading
    it then says so); the default place only when something is there.

    Raises:
        UsageError: the path starts with ``~user`` of a user this machine does not have.
    """
    if explicit is not None:
        return expand_user(explicit, "the config file")
    named = os.environ.get(CONFIG_ENV, "").strip()
    if named:
        return expand_user(named, f"${CONFIG_ENV}")
    path = default_config_path()
    return path if os.path.lexists(path) else None


def load_config(path: str | Path) -> Config:
    """Read and check a config file.

    Raises:
        ConfigError: the file is missing, unsafe or wrong; every problem is listed with its line.
    """
    return parse_config(_read(Path(path), str(path)), path)


def parse_config(text: str, path: str | Path) -> Config:
    """Check config YAML given as text; ``path`` names it in messages and anchors relative paths.

    Raises:
        ConfigError: every problem, with its line.
    """
    name = str(path)
    try:
        root = compose(text, name)
        if root is None:
            raise _error(name, None, "is empty — start it with 'version: 1' (see docs/daily-use.md)")
        try:
            folder = expand_user(path, "the config file").parent
        except UsageError:
            folder = Path(path).parent
        from .config_reader import ConfigReader  # the reading rules; config.py is what callers use

        return ConfigReader(name, folder).read(root)
    except CalendarError as exc:  # the YAML layer speaks of calendars' problems; they are ours here
        raise ConfigError(exc.problems) from None


def _error(path: str, line: int | None, message: str) -> ConfigError:
    return ConfigError([CalendarProblem(path, line, None, message)])


def _read(path: Path, name: str) -> str:
    try:
        handle = open_regular_file(path)
    except FileNotFoundError as exc:
        raise _error(name, None, "no such file — create it with: thankyou-scan init") from exc
    except IsADirectoryError as exc:
        raise _error(name, None, "is a directory — give the config's YAML file") from exc
    except OSError as exc:
        raise _error(name, None, f"cannot be read ({exc.strerror or exc})") from exc
    if handle is None:
        raise _error(name, None, "is not a regular file (a FIFO or a device?)")
    with handle:
        info = os.fstat(handle.fileno())
        _check_trusted(info, name)
        data = handle.read(MAX_CONFIG_BYTES + 1)
    if len(data) > MAX_CONFIG_BYTES:
        raise _error(name, None, "is larger than 1 MB — is this really the config file?")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _error(
            name, line, f"byte 0x{data[exc.start]:02x} is not UTF-8 — save the file as UTF-8"
        ) from exc


def _check_trusted(info: os.stat_result, name: str) -> None:
    """Refuse a config that someone else could have written: it can name a command to run."""
    if not hasattr(os, "getuid"):
        return  # Windows: ownership is the folder's ACL's business
    if info.st_uid not in (os.getuid(), 0):
        raise _error(name, None, "belongs to another user, and it can name commands to run — refused")
    if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise _error(
            name,
            None,
            "others may write to it, and it can name commands to run — refused; fix with: chmod go-w " + name,
        )
