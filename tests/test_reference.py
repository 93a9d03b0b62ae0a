"""The library reference (docs/reference.md): every public name is in it, and every example runs."""

from __future__ import annotations

import contextlib
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

import thankyou_scan

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "reference.md"
TEXT = REFERENCE.read_text(encoding="utf-8")
EXAMPLES = re.findall(r"^### (.+?)\n\n```python\n(.*?)^```$", TEXT, flags=re.S | re.M)


def test_every_public_name_has_an_entry() -> None:
    entries = set(re.findall(r"^::: thankyou_scan\.(\w+)$", TEXT, flags=re.M))
    public = set(thankyou_scan.__all__) - {"__version__"}
    assert public - entries == set(), "names missing from docs/reference.md"
    assert entries - public == set(), "entries for names that are not public"
    assert "__version__" in TEXT


def test_every_public_name_has_a_docstring() -> None:
    undocumented = [
        name
        for name in thankyou_scan.__all__
        if name != "__version__" and not (getattr(thankyou_scan, name).__doc__ or "").strip()
    ]
    assert undocumented == []


def test_the_examples_are_many() -> None:
    titles = [title for title, _ in EXAMPLES]
    for wanted in ("mbox", "report", "Maildir", "IMAP", "config", "JSON", "errors", "invitations", "Drafts"):
        assert any(wanted in title for title in titles), wanted


@pytest.mark.parametrize(("title", "code"), EXAMPLES, ids=[title for title, _ in EXAMPLES])
def test_each_example_runs(title: str, code: str) -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, f"docs/reference.md: {title}", "exec"), {"__name__": "example"})


def test_pydoc_reads_the_package() -> None:
    text = subprocess.run(
        [sys.executable, "-m", "pydoc", "thankyou_scan"], capture_output=True, text=True, check=True
    ).stdout
    assert "which follow-up notes do you owe" in text.lower()
    assert "scan(calendar" in text and "class Report" in text
