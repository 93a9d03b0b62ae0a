"""docs/architecture.md's import rules, checked: data flows one way, and so do imports."""

from __future__ import annotations

import pytest

from test_render import SRC, imports


def test_matching_imports_only_the_data_it_matches() -> None:
    assert imports(SRC / "matching.py") <= {"calendar_data", "errors", "message", "report"}


def test_errors_import_nothing_of_ours() -> None:
    assert imports(SRC / "errors.py") == set()


@pytest.mark.parametrize("module", sorted(path.name for path in (SRC / "sources").glob("*.py")))
def test_sources_never_import_matching_rendering_or_the_cli(module: str) -> None:
    found = imports(SRC / "sources" / module)
    assert not {name for name in found if name.split(".")[0] in {"matching", "render", "pipeline", "cli"}}, (
        found
    )
    assert not any(name.startswith(("cli_", "calendar")) for name in found), found


@pytest.mark.parametrize(
    "module",
    [
        "token_endpoint.py",
        "network.py",
        *sorted(f"oauth2/{path.name}" for path in (SRC / "oauth2").glob("*.py")),
    ],
)
def test_oauth2_imports_no_imap_code(module: str) -> None:
    found = imports(SRC / module)
    assert not any(name.split(".")[0] in {"sources", "pipeline", "matching", "render"} for name in found), (
        found
    )
    assert not any(name.startswith("cli") for name in found), found


def test_the_library_outside_the_cli_names_no_command_line_flags() -> None:
    # Messages speak of parameters (ThankyouScanError.options); cli*.py adds the flags.
    import re

    flag = re.compile(r"""["'][^"'\n]*\s--[a-z][a-z-]+[^"'\n]*["']""")
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name.startswith("cli") or path.name == "__main__.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if flag.search(line) and not line.lstrip().startswith("#"):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert offenders == []


def test_every_exception_class_lives_in_errors_py() -> None:
    import ast

    elsewhere = []
    for path in SRC.rglob("*.py"):
        if path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(base, ast.Name) and base.id.endswith(("Error", "Exception")) for base in node.bases
            ):
                elsewhere.append(f"{path.relative_to(SRC)}: {node.name}")
    assert elsewhere == []


def test_the_command_line_starts_without_what_only_some_commands_need() -> None:
    # Start-up is part of every rescan: OAuth2 (urllib, http.server), the browser, rich,
    # jinja2, icalendar and mail-parser are loaded by the commands that use them; a YAML
    # calendar is read without icalendar, the invitations package's modules or the drafts' ones.
    import subprocess
    import sys

    script = (
        "import sys, thankyou_scan.cli\n"
        "from thankyou_scan.cli_accounts import load_calendar_file\n"
        "load_calendar_file('src/thankyou_scan/data/demo-calendar.yaml')\n"
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'webbrowser', 'rich', 'jinja2', 'icalendar', 'recurring_ical_events', 'mailparser', 'keyring', 'shtab'} "
        "or m.startswith(('thankyou_scan.oauth2', 'http.server', 'thankyou_scan.invitations.', 'thankyou_scan.drafts', 'thankyou_scan.draft_templates', "
        "'thankyou_scan.sources.imap_drafts')))))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert loaded.split() == []
