"""Draft templates: a subject line and a body, rendered by Jinja2's sandbox (docs/drafts.md).

A template is text the user may have copied from anywhere, so it is treated as
hostile: Jinja2's ``SandboxedEnvironment`` (no attribute escapes such as
``''.__class__``), no loader (``include``, ``import`` and ``extends`` find nothing),
no globals but a small ``range``, a short list of filters, undefined names as errors,
and every render bounded in time, in the size of every value it builds and in the
size of its output. Every failure is a :class:`TemplateError` naming the file and,
where there is one, the line. Jinja2 is imported only here, and only when drafts
are made.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from .errors import TemplateError, UsageError
from .paths import expand_user, read_regular_file

if TYPE_CHECKING:
    from jinja2 import Template as JinjaTemplate

__all__ = [
    "DEFAULT_KINDS",
    "MAX_OUTPUT",
    "MAX_TEMPLATE",
    "DraftTemplate",
    "DraftText",
    "compile_template",
    "default_template",
    "load_template",
]

MAX_TEMPLATE = 64 * 1024
"""A template file larger than this (bytes) is refused."""
MAX_OUTPUT = 64 * 1024
"""A rendered draft longer than this (characters) is refused."""
MAX_VALUE = 64 * 1024
"""No string or sequence a template builds may be longer than this."""
MAX_RANGE = 1000
"""``range()`` in a template hands out at most this many numbers in all, per render."""
MAX_SECONDS = 2.0
"""A render taking longer than this is stopped."""
MAX_EXPONENT = 64

DEFAULT_KINDS = ("interview", "networking", "meeting", "default")
"""The kinds with a template of their own shipped in the package; any other kind uses ``default``."""

SAFE_FILTERS = (
    "capitalize",
    "default",
    "d",
    "first",
    "last",
    "length",
    "count",
    "lower",
    "upper",
    "title",
    "trim",
    "join",
    "list",
    "string",
    "int",
    "truncate",
    "wordcount",
    "abs",
    "round",
)
"""The filters a template may use; the others can build huge strings (center, indent, replace...)."""

SAFE_STR_METHODS = frozenset(
    {
        "capitalize",
        "casefold",
        "count",
        "endswith",
        "find",
        "isdigit",
        "lower",
        "lstrip",
        "partition",
        "rpartition",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "title",
        "upper",
    }
)
"""The string methods a template may call; the others can build huge strings (center, ljust, replace...)."""


@dataclass(frozen=True, slots=True)
class DraftText:
    """A rendered draft: its subject line and its body."""

    subject: str
    body: str


@dataclass(frozen=True, slots=True)
class DraftTemplate:
    """A compiled template; ``path`` names it in every error (a file, or the packaged default's name)."""

    path: str
    source: str
    _compiled: JinjaTemplate

    def render(self, fields: Mapping[str, str]) -> DraftText:
        """The subject and body for ``fields``.

        Raises:
            TemplateError: the template fails, runs too long, builds too much, or has no Subject line.
        """
        guard = _Guard(self.path)
        try:
            text = guard.run(lambda: _collect(self._compiled.generate(dict(fields)), self.path))
        except TemplateError:
            raise
        except Exception as exc:
            raise TemplateError(_describe(exc), path=self.path, line=_template_line(exc, self.path)) from None
        return _split(text, self.path)


def load_template(path: str | Path) -> DraftTemplate:
    """The template in the file ``path``, read (a regular file, at most MAX_TEMPLATE bytes) and compiled.

    Raises:
        TemplateError: the file cannot be read, is too large, is not UTF-8, or does not compile.
    """
    shown = str(path)
    try:
        data = read_regular_file(expand_user(path, "the template"), MAX_TEMPLATE)
    except UsageError as exc:  # ~user of no user of this machine
        raise TemplateError(str(exc), path=shown) from None
    except OSError as exc:
        raise TemplateError(f"cannot read the template: {exc.strerror or exc}", path=shown) from None
    if data is None:
        raise TemplateError("the template is not a regular file", path=shown)
    if len(data) > MAX_TEMPLATE:
        raise TemplateError(f"the template is larger than {MAX_TEMPLATE // 1024} KiB", path=shown)
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TemplateError("the template is not UTF-8 text", path=shown, line=line) from None
    return compile_template(source, shown)


def default_template(kind: str) -> DraftTemplate:
    """The packaged template for ``kind`` (interview, networking, meeting; anything else: default)."""
    name = kind if kind in DEFAULT_KINDS else "default"
    source = (resources.files("thankyou_scan") / "data" / "drafts" / f"{name}.txt").read_text("utf-8")
    return compile_template(source, f"<default {name} template>")


def compile_template(source: str, path: str) -> DraftTemplate:
    """``source`` compiled in the sandbox; ``path`` is the name errors give.

    Raises:
        TemplateError: a syntax error (with its line), or no Subject line.
    """
    from jinja2 import TemplateSyntaxError

    environment = _environment()
    try:
        code = environment.compile(source, name=path, filename=path)
    except TemplateSyntaxError as exc:
        raise TemplateError(exc.message or "syntax error", path=path, line=exc.lineno) from None
    first = source.lstrip("\ufeff").split("\n", 1)[0]
    if not first.lower().startswith("subject:"):
        raise TemplateError(
            "the first line must be the subject, like 'Subject: Thank you — {{ title }}'", path=path, line=1
        )
    compiled = environment.template_class.from_code(environment, code, environment.make_globals(None))
    return DraftTemplate(path, source, compiled)


# -- the sandbox ---------------------------------------------------------------------


def _environment() -> Any:
    """A SandboxedEnvironment with no loader, no globals but ``range``, few filters, strict names."""
    from jinja2 import StrictUndefined, Undefined
    from jinja2.sandbox import SandboxedEnvironment

    class DraftEnvironment(SandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**", "%", "+"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "%" and isinstance(left, str):
                raise _refused("'%' string formatting is not allowed — write {{ name }} instead")
            if operator == "**" and isinstance(right, int) and abs(right) > MAX_EXPONENT:
                raise _refused(f"an exponent above {MAX_EXPONENT} is not allowed")
            if operator == "*":
                for sized, count in ((left, right), (right, left)):
                    if isinstance(sized, (str, list, tuple)) and isinstance(count, int):
                        _check_size(len(sized) * count)
            result = super().call_binop(context, operator, left, right)
            if isinstance(result, (str, list, tuple)):
                _check_size(len(result))
            return result

        def call(self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(__obj, Undefined):  # its own error names the missing field
                return super().call(__context, __obj, *args, **kwargs)
            name = getattr(__obj, "__name__", None) or type(__obj).__name__
            # The sandbox hands out str.format wrapped (no __self__): it can pad to any width.
            if name in ("format", "format_map") or (
                isinstance(getattr(__obj, "__self__", None), str) and name not in SAFE_STR_METHODS
            ):
                raise _refused(f"the string method {name}() is not allowed in a template")
            for value in (*args, *kwargs.values()):
                if isinstance(value, int) and abs(value) > MAX_VALUE:
                    raise _refused(f"the number {value:,} is too large for {name}()")
            return super().call(__context, __obj, *args, **kwargs)

    environment = DraftEnvironment(
        autoescape=False,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
        cache_size=0,
    )
    environment.globals.clear()
    environment.globals["range"] = _LimitedRange()
    environment.filters = {name: environment.filters[name] for name in SAFE_FILTERS}
    return environment


class _LimitedRange:
    """``range()`` for templates: at most MAX_RANGE numbers handed out in all, per render."""

    __name__ = "range"

    def __call__(self, *args: int) -> Iterator[int]:
        numbers = range(*args)
        if len(numbers) > MAX_RANGE:
            raise _refused(
                f"range() of {len(numbers):,} numbers; a template may count to {MAX_RANGE} at most"
            )
        _Guard.current().spend(len(numbers))
        return iter(numbers)


def _refused(message: str) -> Exception:
    from jinja2.exceptions import SecurityError

    return SecurityError(message)


def _check_size(size: int) -> None:
    if size > MAX_VALUE:
        raise _refused(f"a value of {size:,} characters or items; at most {MAX_VALUE:,} are allowed")


class _Guard:
    """Bounds one render: a time limit and a size limit checked on every line the template runs.

    Jinja2 compiles a template to Python code whose file name is the template's; a trace
    function on those frames alone sees every line of every loop, so a loop that calls
    nothing and prints nothing is stopped too.
    """

    _active: list[_Guard] = []  # noqa: RUF012 - a stack: one render at a time per thread is all we do

    def __init__(self, path: str) -> None:
        self.path = path
        self.deadline = 0.0
        self.numbers = 0

    @classmethod
    def current(cls) -> _Guard:
        return cls._active[-1]

    def spend(self, numbers: int) -> None:
        self.numbers += numbers
        if self.numbers > MAX_RANGE:
            raise _refused(f"range() handed out over {MAX_RANGE} numbers in this template")

    def run(self, action: Callable[[], str]) -> str:
        self.deadline = time.monotonic() + MAX_SECONDS
        previous = sys.gettrace()
        self._active.append(self)
        sys.settrace(self._trace)
        try:
            return action()
        finally:
            sys.settrace(previous)
            self._active.pop()

    def _trace(self, frame: FrameType, event: str, arg: object) -> Callable[..., Any] | None:
        if frame.f_code.co_filename != self.path:
            return None
        return self._line

    def _line(self, frame: FrameType, event: str, arg: object) -> Callable[..., Any] | None:
        if event == "line":
            if time.monotonic() > self.deadline:
                raise TemplateError(
                    f"rendering took over {MAX_SECONDS:g} s — a loop too long?",
                    path=self.path,
                    line=_line_of(frame),
                )
            for value in frame.f_locals.values():
                if isinstance(value, (str, list, tuple)) and len(value) > MAX_VALUE:
                    raise TemplateError(
                        f"the template built a value of {len(value):,} characters or items; at most "
                        f"{MAX_VALUE:,} are allowed",
                        path=self.path,
                        line=_line_of(frame),
                    )
        return self._line


def _line_of(frame: FrameType) -> int | None:
    """The template line of a frame of Jinja2's compiled code (its debug info maps code lines to template lines)."""
    info = frame.f_globals.get("debug_info")
    if not isinstance(info, str) or not info:
        return None
    found = None
    for pair in info.split("&"):
        template_line, _, code_line = pair.partition("=")
        if int(code_line) <= frame.f_lineno:
            found = int(template_line)
    return found


def _collect(chunks: Iterator[str], path: str) -> str:
    parts: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise TemplateError(f"the draft is longer than {MAX_OUTPUT:,} characters", path=path)
        parts.append(chunk)
    return "".join(parts)


def _template_line(exc: BaseException, path: str) -> int | None:
    """The template line an error was raised on: Jinja2 rewrites tracebacks to point into the template."""
    line = getattr(exc, "lineno", None)
    if isinstance(line, int):
        return line
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename == path:
            found = frame.lineno
    return found


def _describe(exc: BaseException) -> str:
    from jinja2 import TemplateNotFound, UndefinedError
    from jinja2.exceptions import SecurityError

    if isinstance(exc, TemplateNotFound) or (isinstance(exc, TypeError) and "no loader" in str(exc)):
        return "a template cannot include, import or extend other files"
    if isinstance(exc, UndefinedError):
        return f"{exc.message} — the fields are listed in docs/drafts.md"
    if isinstance(exc, SecurityError):
        return f"refused: {exc}"
    if isinstance(exc, RecursionError):
        return "the template recurses too deeply"
    if isinstance(exc, MemoryError):
        return "the template ran out of memory"
    return f"{type(exc).__name__}: {exc}"


def _split(text: str, path: str) -> DraftText:
    """``Subject: ...`` on the first line, the body after the blank line that follows it."""
    first, _, rest = text.lstrip("\ufeff").partition("\n")
    if not first.lower().startswith("subject:"):
        raise TemplateError("the rendered first line is not 'Subject: ...'", path=path, line=1)
    subject = " ".join(first[len("subject:") :].split())
    if not subject:
        raise TemplateError("the subject is empty", path=path, line=1)
    body = rest[1:] if rest.startswith("\n") else rest
    return DraftText(subject, body.rstrip() + "\n")
