"""Session fixtures: a real GreenMail server for the tests marked `imap`."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/helpers.py, tests/greenmail.py

from greenmail import Account, GreenMail, find_jar


def _unavailable(reason: str) -> None:
    # CI must run the IMAP tests: there, a missing server is a failure, not a skip.
    if os.environ.get("CI"):
        pytest.fail(f"GreenMail cannot start in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def greenmail(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GreenMail]:
    jar = find_jar()
    if jar is None:
        _unavailable("the GreenMail jar is not here: scripts/test fetches it with Maven")
    if shutil.which("java") is None or shutil.which("openssl") is None:
        _unavailable("GreenMail needs java and openssl on PATH")
    assert jar is not None
    server = GreenMail(jar, tmp_path_factory.mktemp("greenmail"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def account(greenmail: GreenMail) -> Account:
    """A fresh GreenMail user with an empty mailbox (only INBOX)."""
    return greenmail.account()


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the user's real cache and config folders out of every test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
