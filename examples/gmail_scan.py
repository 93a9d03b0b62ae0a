"""Which follow-up notes do you owe? Checks your Gmail Sent folder against a calendar.

    export GMAIL_ADDRESS=you@gmail.com
    export GMAIL_APP_PASSWORD='abcd efgh ijkl mnop'      # an app password: docs/gmail.md
    python examples/gmail_scan.py calendar.yaml          # add --json for the JSON report

Or, with OAuth2 instead of an app password (once: `thankyou-scan auth`, or
python examples/gmail_oauth2.py ...):

    export GMAIL_CLIENT_SECRET=client_secret.json
    python examples/gmail_scan.py calendar.yaml

Read-only: it reads message headers of your Sent folder and changes nothing.
Exit codes as the CLI's: 0 all good, 1 a note is missing or late, 2 a calendar or
usage error, 3 a connection or login error. --host, --port and --security are for
testing against a local server, not for Gmail.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timezone

import thankyou_scan
from thankyou_scan.oauth2 import FileTokenStore, GmailOAuth2, default_token_store, load_client_secret


def credentials(address: str) -> dict[str, str]:
    """An app password if one is set, else an OAuth2 access token from the stored refresh token."""
    app_password = os.environ.get("GMAIL_APP_PASSWORD")
    if app_password:
        return {"password": app_password.replace(" ", "")}  # Google shows it in groups of four
    client_secret = os.environ.get("GMAIL_CLIENT_SECRET")
    if client_secret:
        token_file = os.environ.get("GMAIL_TOKEN_FILE")
        store = FileTokenStore(token_file) if token_file else default_token_store(address)
        oauth = GmailOAuth2(load_client_secret(client_secret), store)
        return {"oauth2_token": oauth.access_token()}
    raise thankyou_scan.UsageError(
        "set GMAIL_APP_PASSWORD to an app password, or GMAIL_CLIENT_SECRET after signing in (docs/gmail.md)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("calendar", help="your calendar YAML file")
    parser.add_argument("--json", action="store_true", help="print the JSON report")
    parser.add_argument("--host", default="imap.gmail.com", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=993, help=argparse.SUPPRESS)
    parser.add_argument(
        "--security", default="ssl", choices=("ssl", "starttls", "plain"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)

    try:
        address = os.environ.get("GMAIL_ADDRESS")
        if not address:
            raise thankyou_scan.UsageError("set GMAIL_ADDRESS to your Gmail address")
        calendar = thankyou_scan.load_calendar(args.calendar)
        # The Sent folder is found by its \Sent flag, whatever the account's language.
        with thankyou_scan.ImapSource(
            args.host, port=args.port, security=args.security, user=address, **credentials(address)
        ) as source:
            report = thankyou_scan.scan(calendar, source, now=datetime.now(timezone.utc))
    except thankyou_scan.ThankyouScanError as error:
        print(f"gmail_scan: {error}", file=sys.stderr)
        return error.exit_code

    print(thankyou_scan.render(report, "json" if args.json else "text"), end="")
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
