"""Where thankyou-scan keeps files of its own: the platform's user config and cache folders.

And how they are opened: folders only the user can write, regular files of the user's,
temporary files that follow no planted link (docs/security.md).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import secrets
import stat
from pathlib import Path
from typing import BinaryIO

from .errors import NotPrivateError, UsageError

__all__ = [
    "NotPrivateError",
    "cache_dir",
    "config_dir",
    "create_temporary",
    "expand_user",
    "open_private_file",
    "open_private_folder",
]

log = logging.getLogger("thankyou_scan")

APP = "thankyou-scan"


def config_dir() -> Path:
    """The user's config folder for thankyou-scan (platformdirs: ``$XDG_CONFIG_HOME/thankyou-scan``,
    ~/.config on Linux, ~/Library/Application Support on macOS, %APPDATA% on Windows).
    """
    from platformdirs import user_config_path

    return user_config_path(APP, appauthor=False)


def cache_dir() -> Path:
    """The user's cache folder for thankyou-scan (platformdirs: ``$XDG_CACHE_HOME/thankyou-scan``,
    ~/.cache on Linux, ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows).
    """
    from platformdirs import user_cache_path

    return user_cache_path(APP, appauthor=False)


def expand_user(path: str | Path, what: str) -> Path:
    """``path`` with a leading ``~`` or ``~user`` made the home folder, as a shell would.

    ``what`` names where the path came from (``--config``, ``'calendar'``...) in the message.

    Raises:
        UsageError: ``~user`` names no user of this machine (or the home folder is unknown),
            rather than Python's RuntimeError.
    """
    try:
        return Path(path).expanduser()
    except RuntimeError:
        user = str(path)[1:].split("/", 1)[0].split(os.sep, 1)[0]
        who = f"there is no user {user!r} on this machine" if user else "the home folder is not known"
        raise UsageError(f"{what} {str(path)!r}: {who} — write the full path") from None


def open_private_folder(path: Path, *, create: bool) -> int:
    """A descriptor of the folder ``path``, which only the user can write to.

    A missing folder is created with mode 0700 when ``create`` (else FileNotFoundError).
    One of the user's own that others may write to is made private (0700) with a
    warning; one owned by another user, or a shared sticky one such as /tmp, raises
    NotPrivateError. Files are then opened relative to the descriptor, so the folder
    checked is the folder used.
    """
    created = False
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, 0o700)
            created = True
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        info = os.fstat(descriptor)
        mode = stat.S_IMODE(info.st_mode)
        if info.st_uid != os.geteuid():
            raise NotPrivateError(
                errno.EPERM, f"the folder {str(path)!r} belongs to another user (uid {info.st_uid})"
            )
        if mode & 0o022 and mode & stat.S_ISVTX:
            raise NotPrivateError(
                errno.EPERM,
                f"the folder {str(path)!r} is shared with other users (mode {mode:04o}) — use one of your own",
            )
        if mode & 0o022:
            log.warning(
                "the folder %s could be written by other users (mode %04o): made it private (0700)",
                path,
                mode,
            )
            os.fchmod(descriptor, 0o700)
        elif created and mode != 0o700:
            os.fchmod(descriptor, 0o700)  # the umask may have taken more than group and others
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def _check_private_file(descriptor: int, path: Path) -> None:
    """Raise NotPrivateError unless the open file is a regular file of the user's that nobody else can write."""
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode):
        raise NotPrivateError(errno.EINVAL, f"{str(path)!r} is not a regular file")
    if info.st_uid != os.geteuid():
        raise NotPrivateError(errno.EPERM, f"{str(path)!r} belongs to another user (uid {info.st_uid})")
    if info.st_mode & 0o022:
        raise NotPrivateError(
            errno.EPERM,
            f"{str(path)!r} could be written by other users (mode {stat.S_IMODE(info.st_mode):04o})",
        )


def open_private_file(folder: int, name: str, path: Path) -> int:
    """Open ``name`` in the folder for reading: never a symlink, never blocking (a FIFO), checked as above."""
    try:
        descriptor = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotPrivateError(errno.ELOOP, f"{str(path)!r} is a symbolic link") from None
        raise
    try:
        _check_private_file(descriptor, path)
        os.set_blocking(descriptor, True)
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


def create_temporary(folder: int, name: str) -> tuple[int, str]:
    """A new file ``.NAME.RANDOM.tmp`` in the folder, mode 0600: O_EXCL|O_NOFOLLOW, so nothing planted is followed."""
    while True:
        temporary = f".{name}.{secrets.token_hex(8)}.tmp"
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            descriptor = os.open(temporary, flags, 0o600, dir_fd=folder)
        except FileExistsError:
            continue
        try:
            os.fchmod(descriptor, 0o600)
        except BaseException:
            os.close(descriptor)
            os.unlink(temporary, dir_fd=folder)
            raise
        return descriptor, temporary


def open_regular_file(path: str | Path) -> BinaryIO | None:
    """``path`` opened for reading if it is a regular file; None for a FIFO, device or socket.

    O_NONBLOCK keeps the open of a FIFO from waiting for a writer (it changes nothing
    for a regular file), so a planted FIFO can never hang the caller.

    Raises:
        OSError: the file cannot be opened (FileNotFoundError, IsADirectoryError...).
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(descriptor).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(mode):
            os.close(descriptor)
            return None
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_regular_file(path: str | Path, limit: int) -> bytes | None:
    """Up to ``limit`` + 1 bytes of ``path`` if it is a regular file (:func:`open_regular_file`); None if not.

    Raises:
        OSError: the file cannot be opened or read (FileNotFoundError, IsADirectoryError...).
    """
    handle = open_regular_file(path)
    if handle is None:
        return None
    with handle:
        return handle.read(limit + 1)
