"""Microsoft 365 and Outlook.com: the device authorization grant (RFC 8628) for IMAP, and refresh.

The user is shown a short code and an address (microsoft.com/devicelogin), signs in
there on any device, and this process polls the token endpoint until they have. A
public client: the app registration has "Allow public client flows" on and no secret.
Microsoft sends a new refresh token with every refresh; the store keeps the newest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import OAuth2Error
from ..token_endpoint import call_endpoint, check_endpoint, post_form
from .tokens import RefreshingTokens, to_stderr, token_record

__all__ = [
    "DEFAULT_AUTHORITY",
    "DEVICE_CODE_GRANT",
    "MICROSOFT_SCOPE",
    "MicrosoftClient",
    "MicrosoftOAuth2",
    "authorize_device",
]

MICROSOFT_SCOPE = "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"
DEFAULT_AUTHORITY = "https://login.microsoftonline.com/common"
DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN = 5.0
"""RFC 8628 §3.5: after ``slow_down`` the interval grows by five seconds, for good."""
LONGEST_WAIT = 3600.0
"""A device code lives 15 minutes at Microsoft; an endpoint asking for longer is not believed."""


@dataclass(frozen=True, slots=True)
class MicrosoftClient:
    """An app registration: its application (client) ID and the authority (tenant) to sign in at."""

    client_id: str
    authority: str = DEFAULT_AUTHORITY
    scope: str = MICROSOFT_SCOPE

    def __post_init__(self) -> None:
        if not self.client_id.strip():
            raise OAuth2Error("no Microsoft application (client) ID is set — see docs/daily-use.md")
        check_endpoint(self.authority)

    @property
    def device_code_uri(self) -> str:
        """The device authorization endpoint of the authority."""
        return f"{self.authority.rstrip('/')}/oauth2/v2.0/devicecode"

    @property
    def token_uri(self) -> str:
        """The token endpoint of the authority."""
        return f"{self.authority.rstrip('/')}/oauth2/v2.0/token"


def _text(answer: dict[str, Any], *names: str) -> str:
    for name in names:
        value = answer.get(name)
        if isinstance(value, str) and value and value.isprintable():
            return value
    raise OAuth2Error(f"the device-code endpoint answered without a usable {names[0]}")


def _seconds(answer: dict[str, Any], name: str, default: float) -> float:
    value = answer.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= LONGEST_WAIT:
        raise OAuth2Error(f"the device-code endpoint answered a {name} that is not a number of seconds")
    return float(value)


def authorize_device(
    client: MicrosoftClient,
    *,
    show: Callable[[str], None] = to_stderr,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> dict[str, Any]:
    """Run the device-code sign-in; returns the token record to store.

    ``show`` is given the address and the code to enter there. The token endpoint is
    polled every ``interval`` seconds (five more after each ``slow_down``) until the user
    has signed in, declined, or the code expired. ``sleep`` defaults to ``time.sleep``.
    """
    wait = sleep or time.sleep
    answer = call_endpoint(
        client.device_code_uri, {"client_id": client.client_id, "scope": client.scope}, timeout=30
    )
    device_code = _text(answer, "device_code")
    user_code = _text(answer, "user_code")
    address = _text(answer, "verification_uri", "verification_url")
    lifetime = _seconds(answer, "expires_in", 900.0)
    interval = max(_seconds(answer, "interval", 5.0), 1.0)
    deadline = clock() + lifetime
    show(
        f"To sign in, open {address} in a browser on any device and enter the code {user_code}\n"
        f"(it is valid for {lifetime / 60:.0f} minutes; waiting for you to finish there)"
    )
    form = {"grant_type": DEVICE_CODE_GRANT, "client_id": client.client_id, "device_code": device_code}
    while True:
        wait(min(interval, max(deadline - clock(), 0.0)))
        if clock() >= deadline:
            raise OAuth2Error("the sign-in code expired before sign-in was finished — sign in again")
        try:
            tokens = post_form(client.token_uri, form, timeout=30)
        except OAuth2Error as exc:
            if exc.reason == "authorization_pending":
                continue
            if exc.reason == "slow_down":
                interval += SLOW_DOWN
                continue
            if exc.reason in ("expired_token", "code_expired"):
                raise OAuth2Error(
                    "the sign-in code expired before sign-in was finished — sign in again", reason=exc.reason
                ) from None
            if exc.reason in ("access_denied", "authorization_declined"):
                raise OAuth2Error(
                    "sign-in was declined (access was not granted) — sign in again and accept, or ask "
                    "your administrator to allow the app",
                    reason=exc.reason,
                ) from None
            raise
        if not tokens.get("refresh_token"):
            raise OAuth2Error(
                "Microsoft sent no refresh token — the app registration must allow the offline_access "
                "permission"
            )
        return token_record(tokens, clock())


class MicrosoftOAuth2(RefreshingTokens[MicrosoftClient]):
    """Access tokens for XOAUTH2 at Microsoft; each refresh stores the new refresh token it brings."""

    provider = "Microsoft"

    def refresh_form(self, refresh_token: str) -> dict[str, str]:
        """The form of a refresh-token grant for this public client."""
        return {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": self.client.client_id,
            "scope": self.client.scope,
        }
