"""Give thankyou-scan read access to your Gmail with OAuth2 (instead of an app password).

Once, after creating a "Desktop app" OAuth client in Google Cloud Console (docs/gmail.md):

    python examples/gmail_oauth2.py --client-secret client_secret.json --user you@gmail.com

This opens Google's consent page for the scope https://mail.google.com/ (IMAP needs
it), then stores the refresh token in the system keyring when the `keyring` extra is
installed, else in ~/.config/thankyou-scan/gmail-oauth2-<address>.json (mode 0600).
Scans then refresh access tokens by themselves (examples/gmail_scan.py). For the CLI:

    export GMAIL_TOKEN=$(python examples/gmail_oauth2.py --client-secret client_secret.json --user you@gmail.com --print-token)
    thankyou-scan scan --calendar calendar.yaml --imap-host imap.gmail.com --user you@gmail.com --oauth2-token-env GMAIL_TOKEN
"""

from __future__ import annotations

import argparse
import sys
import webbrowser

from thankyou_scan.oauth2 import (
    FileTokenStore,
    GmailOAuth2,
    OAuth2Error,
    TokenStore,
    authorize,
    default_token_store,
    load_client_secret,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--client-secret", required=True, metavar="FILE", help="the OAuth client JSON")
    parser.add_argument("--user", required=True, metavar="ADDRESS", help="your Gmail address")
    parser.add_argument("--token-file", metavar="FILE", help="store the token in this file (mode 0600)")
    parser.add_argument("--print-token", action="store_true", help="print a valid access token and exit")
    parser.add_argument("--no-browser", action="store_true", help="only print the consent URL")
    args = parser.parse_args(argv)

    store: TokenStore = FileTokenStore(args.token_file) if args.token_file else default_token_store(args.user)
    try:
        client = load_client_secret(args.client_secret)
        if args.print_token:
            print(GmailOAuth2(client, store).access_token())
            return 0
        opener = (lambda url: None) if args.no_browser else webbrowser.open
        store.save(authorize(client, user=args.user, open_browser=opener))
    except OAuth2Error as error:
        print(f"gmail_oauth2: {error}", file=sys.stderr)
        return error.exit_code
    print(f"Done: the refresh token is stored in {store!r}. Scans will refresh access tokens by themselves.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
