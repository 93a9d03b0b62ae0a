"""A stand-in for the Microsoft identity platform on loopback: the device-code and token endpoints."""

from __future__ import annotations

from fakegoogle import Answer, FormServer

CLIENT_ID = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
DEVICE_CODE = "DAQABAAEAAAD--device-code-secret-0123456789"
USER_CODE = "FAKE-CODE9"
SCOPE = "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"


class FakeMicrosoft(FormServer):
    """``{authority}/oauth2/v2.0/devicecode`` and ``/token`` for tenant ``contoso``.

    ``polls`` scripts the token endpoint's answers to the device-code grant, one per poll:
    an RFC 8628 error (``authorization_pending``, ``slow_down``, ``expired_token``,
    ``authorization_declined``...) or ``"ok"``. Every refresh rotates the refresh token.
    """

    def __init__(self, access_token: str = "ms-access-1", polls: tuple[str, ...] = ("ok",)) -> None:
        self.access_token = access_token
        self.polls = list(polls)
        self.issued = 0
        self.refresh_tokens: set[str] = set()
        super().__init__(self.route)
        self.authority = f"{self.base}/contoso"

    def _tokens(self) -> Answer:
        self.issued += 1
        refresh = f"M.C5-refresh-{self.issued}"
        self.refresh_tokens.add(refresh)
        return 200, {
            "token_type": "Bearer",
            "scope": "https://outlook.office.com/IMAP.AccessAsUser.All",
            "expires_in": 4277,
            "ext_expires_in": 4277,
            "access_token": self.access_token,
            "refresh_token": refresh,
        }

    def route(self, path: str, form: dict[str, str]) -> Answer:
        if form.get("client_id") != CLIENT_ID:
            return 400, {"error": "unauthorized_client", "error_description": "AADSTS700016: unknown app"}
        if path == "/contoso/oauth2/v2.0/devicecode":
            if form.get("scope") != SCOPE:
                return 400, {"error": "invalid_scope"}
            return 200, {
                "user_code": USER_CODE,
                "device_code": DEVICE_CODE,
                "verification_uri": "https://microsoft.com/devicelogin",
                "expires_in": 900,
                "interval": 5,
                "message": f"To sign in, use a web browser to open https://microsoft.com/devicelogin and enter {USER_CODE}.",
            }
        if path != "/contoso/oauth2/v2.0/token":
            return 404, {"error": "not_found"}
        grant = form.get("grant_type")
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            if form.get("device_code") != DEVICE_CODE:
                return 400, {"error": "bad_verification_code"}
            outcome = self.polls.pop(0) if self.polls else "expired_token"
            if outcome == "ok":
                return self._tokens()
            return 400, {
                "error": outcome,
                "error_description": f"AADSTS70016: device flow: {outcome}.\r\nTrace ID: 0000\r\nTimestamp: now",
            }
        if grant == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens or form.get("scope") != SCOPE:
                return 400, {
                    "error": "invalid_grant",
                    "error_description": "AADSTS70008: The refresh token has expired due to inactivity.\r\n"
                    "Trace ID: 1111",
                }
            self.refresh_tokens.discard(form["refresh_token"])  # Microsoft rotates them
            return self._tokens()
        return 400, {"error": "unsupported_grant_type"}
