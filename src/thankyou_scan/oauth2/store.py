"""Where OAuth2 tokens are kept: the system keyring, else a private JSON file; keyed by provider and user.

A record is a small JSON object: ``refresh_token``, ``access_token``, ``expires_at``
(seconds since the epoch). It is never shown: stores' reprs name the place, not the contents.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any, Protocol

from ..errors import OAuth2Error
from ..paths import NotPrivateError, config_dir, create_temporary, open_private_file, open_private_folder

__all__ = ["FileTokenStore", "KeyringTokenStore", "TokenStore", "default_token_store"]

MAX_TOKEN_FILE = 64 * 1024
"""A token record is a few KiB at most: a larger file is refused unread."""


class TokenStore(Protocol):
    """Where the refresh token (and the current access token) are kept."""

    def load(self) -> dict[str, Any] | None:
        """The stored token record, or None when nothing is stored."""

    def save(self, record: dict[str, Any]) -> None:
        """Store ``record`` in place of what was there."""

    def delete(self) -> bool:
        """Forget the record; True when there was one."""
        ...


def _safe_name(user: str) -> str:
    return "".join(c if c.isalnum() or c in "@.-_" else "_" for c in user.lower())


class FileTokenStore:
    """A JSON file readable by its owner only (mode 0600, in a 0700 folder), written atomically.

    A file or folder another user could have written, or a file that is a symbolic
    link, is refused (OAuth2Error). ``hint`` ends every error: how to sign in again.
    """

    def __init__(self, path: str | Path, *, hint: str = "") -> None:
        self.path = Path(path)
        self.hint = hint

    @classmethod
    def for_user(cls, user: str, provider: str = "gmail", *, hint: str = "") -> FileTokenStore:
        """The default file for ``provider`` and ``user`` in the user's configuration folder."""
        return cls(config_dir() / f"{provider}-oauth2-{_safe_name(user)}.json", hint=hint)

    def __repr__(self) -> str:
        return f"FileTokenStore({str(self.path)!r})"

    def _fail(self, text: str) -> OAuth2Error:
        return OAuth2Error(f"{text} — {self.hint}" if self.hint else text)

    def load(self) -> dict[str, Any] | None:
        """The token record from the 0600 file, or None when there is none."""
        try:
            folder = open_private_folder(self.path.parent, create=False)
            try:
                descriptor = open_private_file(folder, self.path.name, self.path)
            finally:
                os.close(folder)
            with os.fdopen(descriptor, "rb") as handle:
                content = handle.read(MAX_TOKEN_FILE + 1)
            if len(content) > MAX_TOKEN_FILE:
                raise ValueError(f"more than {MAX_TOKEN_FILE // 1024} KiB")
            data = json.loads(content)
        except FileNotFoundError:
            return None
        except NotPrivateError as exc:
            raise self._fail(f"not using the token file: {exc.strerror}") from None
        except (OSError, ValueError, RecursionError) as exc:
            raise self._fail(f"cannot read the token file {self.path} ({type(exc).__name__})") from None
        return data if isinstance(data, dict) else None

    def save(self, record: dict[str, Any]) -> None:
        """Write a new file in the (checked) folder and rename it into place."""
        try:
            folder = open_private_folder(self.path.parent, create=True)
        except OSError as exc:
            raise OAuth2Error(f"cannot save the token file {self.path}: {exc.strerror or exc}") from None
        try:
            descriptor, temporary = create_temporary(folder, self.path.name)
            try:
                with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                    json.dump(record, handle)
                os.replace(temporary, self.path.name, src_dir_fd=folder, dst_dir_fd=folder)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary, dir_fd=folder)
                raise
        except OSError as exc:
            raise OAuth2Error(f"cannot save the token file {self.path}: {exc.strerror or exc}") from None
        finally:
            os.close(folder)

    def delete(self) -> bool:
        """Remove the file (a link planted in its place is removed, never followed)."""
        try:
            folder = open_private_folder(self.path.parent, create=False)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise OAuth2Error(f"cannot remove the token file {self.path}: {exc.strerror or exc}") from None
        try:
            os.unlink(self.path.name, dir_fd=folder)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise OAuth2Error(f"cannot remove the token file {self.path}: {exc.strerror or exc}") from None
        finally:
            os.close(folder)
        return True


class KeyringTokenStore:
    """The system keyring (``pip install 'thankyou-scan[keyring]'``): service
    ``thankyou-scan-PROVIDER-oauth2``, username the account's address.
    """

    SERVICE = "thankyou-scan-gmail-oauth2"

    def __init__(self, user: str, provider: str = "gmail") -> None:
        import keyring  # an optional extra: imported only when asked for

        self._keyring = keyring
        self.user = user
        self.service = f"thankyou-scan-{provider}-oauth2"

    def __repr__(self) -> str:
        return f"KeyringTokenStore({self.user!r}, service={self.service!r})"

    def _call(self, what: str, method: str, *args: str) -> Any:
        try:
            return getattr(self._keyring, method)(self.service, self.user, *args)
        except Exception as exc:  # every backend has errors of its own (D-Bus, macOS Security...)
            if method == "delete_password" and type(exc).__name__ == "PasswordDeleteError":
                return False
            raise OAuth2Error(
                f"the system keyring could not {what} the tokens of {self.user} ({type(exc).__name__})"
            ) from None

    def load(self) -> dict[str, Any] | None:
        """The token record from the keyring, or None when there is none."""
        text = self._call("read", "get_password")
        try:
            data = json.loads(text) if text else None
        except (ValueError, RecursionError):
            return None
        return data if isinstance(data, dict) else None

    def save(self, record: dict[str, Any]) -> None:
        """Store ``record`` in the keyring."""
        self._call("store", "set_password", json.dumps(record))

    def delete(self) -> bool:
        """Remove the record from the keyring; False when there was none."""
        return self._call("remove", "delete_password") is not False


def keyring_usable() -> bool:
    """True when the ``keyring`` package is installed and has a real backend (not its "fail" one)."""
    try:
        import keyring
    except ImportError:
        return False
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken backend configuration: use the file
        return False
    return float(getattr(backend, "priority", 0)) > 0


def default_token_store(user: str, provider: str = "gmail", *, hint: str = "") -> TokenStore:
    """The keyring when the optional ``keyring`` package is installed and usable, else a 0600 file.

    ``provider`` is ``"gmail"`` or ``"microsoft"``: the same address may have both.
    """
    if keyring_usable():
        return KeyringTokenStore(user.lower(), provider)
    return FileTokenStore.for_user(user, provider, hint=hint)
