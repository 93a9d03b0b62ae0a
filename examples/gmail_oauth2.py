"""The Gmail OAuth2 sign-in, written against the library (thankyou_scan.oauth2).

Users sign in with the CLI, which does the same for every account of the config file
(docs/daily-use.md):

    thankyou-scan auth gmail                 # or: --headless, --port N, --revoke

This script shows the library calls underneath, for a program of your own:

    python examples/gmail_oauth2.py --client-secret client_secret.json --user you@gmail.com
    python examples/gmail_oauth2.py ... --headless       # no browser here: paste the redirect back
    python examples/gmail_oauth2.py ... --print-token    # a fresh access token (refreshed when needed)

Tokens go where `thankyou-scan auth` keeps them: the system keyring with the `keyring`
extra, else ~/.config/thankyou-scan/gmail-oauth2-<address>.json (mode 0600).
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
    authorize_pasted,
    default_token_store,
    load_client_secret,
)

HINT = "run examples/gmail_oauth2.py again without --print-token"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--client-secret", required=True, metavar="FILE", help="the OAuth client JSON")
    parser.add_argument("--user", required=True, metavar="ADDRESS", help="your Gmail address")
    parser.add_argument("--token-file", metavar="FILE", help="store the token in this file (mode 0600)")
    parser.add_argument("--print-token", action="store_true", help="print a valid access token and exit")
    parser.add_argument("--no-browser", action="store_true", help="only print the consent URL")
    parser.add_argument("--headless", action="store_true", help="paste the redirected address back")
    args = parser.parse_args(argv)

    store: TokenStore = (
        FileTokenStore(args.token_file, hint=HINT)
        if args.token_file
        else default_token_store(args.user, hint=HINT)
    )
    try:
        client = load_client_secret(args.client_secret)
        if args.print_token:
            print(GmailOAuth2(client, store, hint=HINT).access_token())
            return 0
        if args.headless:
            record = authorize_pasted(client, user=args.user)
        else:
            record = authorize(
                client,
                user=args.user,
                open_browser=(lambda url: None) if args.no_browser else webbrowser.open,
            )
        store.save(record)
    except OAuth2Error as error:
        print(f"gmail_oauth2: {error}", file=sys.stderr)
        return error.exit_code
    print(f"Done: the refresh token is stored in {store!r}. Scans will refresh access tokens by themselves.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
