"""OAuth2 for IMAP's XOAUTH2: sign-in, refresh and token storage for Gmail and Microsoft 365 / Outlook.com.

    account = Account(name="gmail", imap_host="imap.gmail.com", user="you@gmail.com", oauth2="gmail")
    sign_in(account)                         # once: the consent page (Gmail) or a device code (Microsoft)
    token = oauth2_access_token(account)     # every scan: refreshed and stored when needed
    sign_out(account)                        # forget the tokens (and revoke them at Google)

Gmail without accounts, as the library has always offered it:

    client = load_client_secret("client_secret.json")       # from Google Cloud Console
    store = FileTokenStore.for_user("you@gmail.com")         # ~/.config/thankyou-scan/..., mode 0600
    store.save(authorize(client, user="you@gmail.com"))      # once: opens the consent page
    token = GmailOAuth2(client, store).access_token()        # every scan: refreshed when needed

Modules: ``google`` (installed-app consent with PKCE, loopback or pasted redirect),
``microsoft`` (device authorization grant, RFC 8628), ``tokens`` (the record and the
refresh both share), ``store`` (keyring or private file), ``accounts`` (the above, by
account). They import no IMAP code.

Standard library only, not google-auth-oauthlib or msal: each flow is two or three
small form POSTs, and every one goes through ``token_endpoint.post_form``, which
already enforces what those libraries would have to be configured for (https, or http
only to a checked loopback address; no proxy, no redirect; the whole exchange bounded
in time and size; the endpoint's words scrubbed of secrets). msal also refuses
non-https authorities, so the device flow could not be tested end to end against a
fake endpoint on loopback, and both libraries bring dependency trees (requests,
cryptography, PyJWT, google-auth) into a tool that reads your mail. docs/security.md
has the comparison.
"""

from __future__ import annotations

from ..errors import OAuth2Error
from .accounts import (
    GMAIL_CLIENT_FILE,
    SignOut,
    gmail_client_file,
    oauth2_access_token,
    sign_in,
    sign_out,
    token_store,
)
from .google import (
    GMAIL_SCOPE,
    ClientSecret,
    GmailOAuth2,
    authorize,
    authorize_pasted,
    load_client_secret,
    revoke_at_google,
)
from .microsoft import DEFAULT_AUTHORITY, MICROSOFT_SCOPE, MicrosoftClient, MicrosoftOAuth2, authorize_device
from .store import FileTokenStore, KeyringTokenStore, TokenStore, default_token_store
from .tokens import EXPIRY_MARGIN

__all__ = [
    "DEFAULT_AUTHORITY",
    "EXPIRY_MARGIN",
    "GMAIL_CLIENT_FILE",
    "GMAIL_SCOPE",
    "MICROSOFT_SCOPE",
    "ClientSecret",
    "FileTokenStore",
    "GmailOAuth2",
    "KeyringTokenStore",
    "MicrosoftClient",
    "MicrosoftOAuth2",
    "OAuth2Error",
    "SignOut",
    "TokenStore",
    "authorize",
    "authorize_device",
    "authorize_pasted",
    "default_token_store",
    "gmail_client_file",
    "load_client_secret",
    "oauth2_access_token",
    "revoke_at_google",
    "sign_in",
    "sign_out",
    "token_store",
]
