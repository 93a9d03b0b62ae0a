"""The JSON report (a contract: docs/report.md); the data itself is ``Report.to_dict()``."""

from __future__ import annotations

import json
import re

from ..report import Report
from .common import UNSHOWN

__all__ = ["dumps", "render_json"]

# json.dumps escapes C0 itself (and its indentation is made of newlines): the rest only.
_JSON_UNSHOWN = re.compile(f"[{UNSHOWN}]")


def render_json(report: Report) -> str:
    """The JSON report, indented, ending with a newline."""
    return dumps(report.to_dict())


def dumps(data: object) -> str:
    """``data`` as indented JSON ending with a newline, safe to print: every output's JSON goes through here."""
    text = json.dumps(data, indent=2, ensure_ascii=False)
    # json escapes C0 controls only; C1, DEL and bidi marks get \\u escapes too (same values).
    return _JSON_UNSHOWN.sub(_json_escape, text) + "\n"


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"
