"""thankyou-scan: which follow-up notes do you owe?

Reads your sent mail and a YAML calendar of interviews, meetings and networking
events, and reports for every person whether the note went out on time.

    >>> import thankyou_scan
    >>> calendar = thankyou_scan.load_calendar("calendar.yaml")      # doctest: +SKIP
    >>> source = thankyou_scan.MboxSource("Sent.mbox")               # doctest: +SKIP
    >>> report = thankyou_scan.scan(calendar, source, now=now)       # doctest: +SKIP
    >>> print(thankyou_scan.render(report, "text"))                  # doctest: +SKIP
"""

from .calendar import Calendar, Event, Person, Policy, load_calendar, parse_calendar
from .config import Account, Config, load_config
from .errors import (
    AuthenticationError,
    CalendarError,
    CalendarProblem,
    ConfigError,
    ConnectError,
    FolderNotFoundError,
    ImapError,
    ImapTimeoutError,
    InvalidResponseError,
    MailboxError,
    MessageError,
    OAuth2Error,
    ServerError,
    SourceError,
    ThankyouScanError,
    TlsError,
    UsageError,
)
from .matching import match
from .message import SentMessage, normalize_address
from .pipeline import scan
from .render import render  # the function: it takes the name of the render package
from .report import FollowUp, Report, SourceSummary, Status
from .sources import Folder, ImapSource, MaildirSource, MboxSource, Source, StaticSource

__version__ = "0.1.0"  # the one place the version lives (pyproject reads it)

__all__ = [
    "Account",
    "AuthenticationError",
    "Calendar",
    "CalendarError",
    "CalendarProblem",
    "Config",
    "ConfigError",
    "ConnectError",
    "Event",
    "Folder",
    "FolderNotFoundError",
    "FollowUp",
    "ImapError",
    "ImapSource",
    "ImapTimeoutError",
    "InvalidResponseError",
    "MailboxError",
    "MaildirSource",
    "MboxSource",
    "MessageError",
    "OAuth2Error",
    "Person",
    "Policy",
    "Report",
    "SentMessage",
    "ServerError",
    "Source",
    "SourceError",
    "SourceSummary",
    "StaticSource",
    "Status",
    "ThankyouScanError",
    "TlsError",
    "UsageError",
    "__version__",
    "load_calendar",
    "load_config",
    "match",
    "normalize_address",
    "parse_calendar",
    "render",
    "scan",
]
