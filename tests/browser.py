"""Debian's headless Chromium, driven by Playwright: the HTML report's browser test and its screenshot script.

Playwright drives the system browser (``/usr/bin/chromium``, Debian's package ``chromium``;
``scripts/test`` installs it where it may). Playwright's own browsers are never
downloaded: ``playwright install`` is not run anywhere. Each launch gets a new, empty
profile, and the flags that keep Chromium from calling home (this machine's network is
closed; a call would show up as a request the test refuses).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def find_chromium() -> Path | None:
    """The system Chromium: ``$CHROMIUM``, else Debian's ``/usr/bin/chromium``, else ``chromium`` on PATH."""
    for candidate in (os.environ.get("CHROMIUM", ""), "/usr/bin/chromium", shutil.which("chromium") or ""):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def missing() -> str | None:
    """Why the browser cannot run here, or None when it can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[dev]'; scripts/test does it)"
    if find_chromium() is None:
        return "Chromium is not installed (apt-get install chromium; scripts/test does it as root)"
    return None


@contextmanager
def chromium() -> Iterator[Any]:
    """A Playwright browser context in the system Chromium, with a fresh profile, closed at the end."""
    from playwright.sync_api import sync_playwright

    executable = find_chromium()
    assert executable is not None, missing()
    with sync_playwright() as playwright, tempfile.TemporaryDirectory(prefix="thankyou-chromium-") as profile:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=str(executable), headless=True, args=list(ARGS)
        )
        try:
            yield context
        finally:
            context.close()


@dataclass
class Watch:
    """What a page did that a self-contained report must not: console errors, requests, dialogs."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def watch(page: Any) -> Watch:
    """Record ``page``'s console errors, page errors, requests and dialogs (a dialog is dismissed)."""
    seen = Watch()
    page.on("console", lambda message: message.type == "error" and seen.errors.append(message.text))
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.on("request", lambda request: seen.requests.append(request.url))

    def dialog(opened: Any) -> None:
        seen.dialogs.append(f"{opened.type}: {opened.message}")
        opened.dismiss()

    page.on("dialog", dialog)
    return seen


def screenshot(
    context: Any, document: Path, target: Path, *, width: int, height: int = 900, full_page: bool = True
) -> Watch:
    """Open ``document`` in a ``width`` × ``height`` viewport and save a PNG of it (or of the whole page) at ``target``."""
    page = context.new_page()
    seen = watch(page)
    page.set_viewport_size({"width": width, "height": height})
    page.goto(document.resolve().as_uri())
    target.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(target), full_page=full_page)
    page.close()
    return seen
