"""The public surface: exactly what __all__ says, and every error a ThankyouScanError."""

from __future__ import annotations

import thankyou_scan

EXPECTED = {
    "Account", "AuthenticationError", "Calendar", "Config", "CalendarError", "CalendarProblem", "ConfigError", "ConnectError", "Event", "Folder",
    "FolderNotFoundError", "FollowUp", "ImapError", "ImapSource", "ImapTimeoutError", "InvalidResponseError", "MailboxError",
    "MaildirSource", "MboxSource", "MessageError", "OAuth2Error", "Person", "Policy", "Report",
    "SentMessage", "ServerError", "Source", "SourceError", "SourceSummary", "StaticSource", "Status",
    "ThankyouScanError", "TlsError", "UsageError", "__version__",
    "load_calendar", "load_config", "match", "normalize_address", "parse_calendar", "render", "scan",
}  # fmt: skip


def test_all_is_the_public_surface() -> None:
    assert set(thankyou_scan.__all__) == EXPECTED
    assert thankyou_scan.__all__ == sorted(thankyou_scan.__all__)
    public = {name for name in dir(thankyou_scan) if not name.startswith("_")} - {
        "calendar", "calendar_data", "calendar_events", "cli", "cli_values", "credentials", "errors", "matching", "message", "network", "oauth2", "paths", "pipeline",
        "report", "sources", "times", "token_endpoint", "yamlnodes", "cli_secrets", "cli_accounts", "cli_init", "config_reader", "cli_stderr",
        "config",
        "cli_completion", "cli_parser", "cli_terminal", "cli_auth", "cli_import", "invitations", "drafts", "cli_drafts", "draft_templates",
        "simple_headers",
    }  # fmt: skip
    assert public | {"__version__"} == EXPECTED


def test_errors_share_one_base() -> None:
    errors = [name for name in thankyou_scan.__all__ if name.endswith("Error")]
    assert len(errors) == 16
    for name in errors:
        assert issubclass(getattr(thankyou_scan, name), thankyou_scan.ThankyouScanError)


def test_version_is_the_installed_one() -> None:
    from importlib.metadata import version

    assert thankyou_scan.__version__ == version("thankyou-scan")


def test_oauth2_error_is_still_where_it_was() -> None:
    from thankyou_scan.oauth2 import OAuth2Error

    assert OAuth2Error is thankyou_scan.OAuth2Error
    assert OAuth2Error.exit_code == 3
