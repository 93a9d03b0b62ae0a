"""Shared fixtures: real GreenMail and Dovecot servers for the tests marked `imap`, the CLI run
in-process, and ImapSources for those servers."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # tests/helpers.py, tests/greenmail.py

import browser
from dovecot import Dovecot, find_dovecot
from greenmail import Account, GreenMail, Server, find_jar
from helpers import ImapFactory, RunCli, plain_imap
from thankyou_scan.cli import main


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that talks to a real IMAP server is slow too: `scripts/test --fast` leaves it out."""
    for item in items:
        if item.get_closest_marker("imap") is not None:
            item.add_marker(pytest.mark.slow)


def _unavailable(reason: str) -> None:
    # CI must run the server and browser tests: there, a missing tool is a failure, not a skip.
    if os.environ.get("CI"):
        pytest.fail(f"cannot run in CI: {reason}")
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


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if find_dovecot() is None:
        _unavailable(
            "Dovecot is not installed (apt-get install dovecot-imapd; scripts/test does it where it can)"
        )
    # Dovecot's own processes run as other users: its folder must be traversable, unlike pytest's.
    root = Path(tempfile.mkdtemp(prefix="thankyou-scan-dovecot-"))
    server = Dovecot(root, users=80)  # as many as GreenMail hands out
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A Playwright browser context in Debian's headless Chromium (tests/browser.py), for the session."""
    problem = browser.missing()
    if problem is not None:
        _unavailable(problem)
    with browser.chromium() as context:
        yield context


@pytest.fixture(params=["greenmail", "dovecot"])
def server(request: pytest.FixtureRequest) -> Server:
    """Each real IMAP server in turn."""
    found: Server = request.getfixturevalue(request.param)
    return found


@pytest.fixture
def account(server: Server) -> Account:
    """A fresh user with an empty mailbox, on each server in turn."""
    return server.account()


@pytest.fixture
def gm_account(greenmail: GreenMail) -> Account:
    """A fresh GreenMail user, for what only GreenMail is set up for (IMAPS, XOAUTH2)."""
    return greenmail.account()


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the user's real cache and config folders out of every test."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("xdg-config")))
    # The terminal's width and colour are the test's choice, not the shell's that runs the suite.
    # Set, then deleted: GNU readline (which pytest loads) puts COLUMNS in the C environment,
    # where os.environ does not see it but a child process does; deleting unsets it there too.
    for name in ("COLUMNS", "LINES", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> RunCli:
    """``thankyou-scan ARGS`` run in-process: ``run_cli("scan", ...)`` gives (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture
def imap_source() -> ImapFactory:
    """``imap_source(port, account, **options)``: an ImapSource for a test server, plain IMAP on 127.0.0.1."""
    return plain_imap


@pytest.fixture
def alarm() -> Iterator[None]:
    """Fail a test that blocks for 20 s instead of hanging the suite."""

    def timeout(signum: int, frame: object) -> None:
        raise TimeoutError("blocked for 20 s")

    previous = signal.signal(signal.SIGALRM, timeout)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)
