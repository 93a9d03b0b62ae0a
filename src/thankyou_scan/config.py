"""The config file: the calendar(s) and the accounts, so that ``thankyou-scan`` alone runs the scan.

``~/.config/thankyou-scan/config.yaml`` (the platform's config folder), or
``$THANKYOU_SCAN_CONFIG``, or ``--config FILE``; the format is in docs/daily-use.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["OAUTH2_PROVIDERS", "Account", "Config"]

OAUTH2_PROVIDERS = ("gmail", "microsoft")


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
    calendars: tuple[Path, ...] = ()
    me: tuple[str, ...] = ()
    accounts: tuple[Account, ...] = field(default=())
