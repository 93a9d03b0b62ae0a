"""YAML read safely and node by node, every problem kept with its line.

The file is counted in constant memory before its tree is built (MAX_DOCUMENT_NODES),
composed with the safe loader only, checked for non-standard tags and for aliases that
expand too far (MAX_YAML_NODES), and then read by a ``NodeReader`` that collects
problems instead of stopping at the first. The calendar's builder is one such reader.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Generic, TypeVar

import yaml

from .errors import CalendarError, CalendarProblem, _TooManyProblems

__all__ = [
    "MAX_DOCUMENT_NODES",
    "MAX_PROBLEMS",
    "MAX_TEXT",
    "MAX_YAML_NODES",
    "NodeReader",
    "compose",
    "describe",
    "did_you_mean",
    "file_error",
    "kind_of",
    "line_of",
    "short",
]

T = TypeVar("T")

# libyaml's safe loader when PyYAML was built with it (5x faster); the same nodes and marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_DOCUMENT_NODES = 500_000
"""Bound on the nodes written in the file, counted while streaming, before the tree is built
(each built node costs ~350 bytes; a 10 MB file of ``[a,a,…]`` would be 5 million of them)."""

MAX_YAML_NODES = 2_000_000
"""Bound on the YAML tree *as expanded through its aliases*: an alias bomb is refused, not expanded."""

MAX_TEXT = 1_000
"""Longest title, name, kind, id or domain, in characters; reports repeat them on every row."""

MAX_PROBLEMS = 100
"""Problems reported at most; past this the file is not a calendar with typos, and reading stops."""

_STANDARD_TAGS = {
    "tag:yaml.org,2002:" + name for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
}
_TRUE = {"true", "yes", "on", "y"}
_FALSE = {"false", "no", "off", "n"}


def compose(text: str, path: str) -> yaml.Node | None:
    """The node tree of ``text`` (None when it holds no document), its nodes counted first.

    Raises:
        CalendarError: a YAML syntax error with its line, or more than MAX_DOCUMENT_NODES nodes.
    """
    try:
        _check_node_count(text, path)
        return yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and mark is not None and mark.index >= len(text.rstrip()):
            mark = exc.context_mark  # "unexpected end of file": point at what was left open
        line = mark.line + 1 if mark else None
        problem = exc.problem or "the YAML cannot be read"
        context = f" ({exc.context})" if exc.context else ""
        raise CalendarError(
            [
                CalendarProblem(
                    path,
                    line,
                    None,
                    f"YAML syntax error: {problem}{context} — check indentation, colons and quotes",
                )
            ]
        ) from exc
    except yaml.YAMLError as exc:
        raise file_error(path, f"is not valid YAML ({exc})") from exc


def _check_node_count(text: str, path: str) -> None:
    """Refuse a file with more nodes than a calendar could have, in constant memory."""
    count = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.NodeEvent):
            count += 1
            if count > MAX_DOCUMENT_NODES:
                message = (
                    f"has more than {MAX_DOCUMENT_NODES:,} YAML values, the limit — a calendar is far "
                    "smaller; split it, or drop events whose notes are long settled"
                )
                line = event.start_mark.line + 1 if event.start_mark else None
                raise CalendarError([CalendarProblem(path, line, None, message)])


class NodeReader(ABC, Generic[T]):
    """Walks a composed YAML tree, collecting problems instead of stopping at the first.

    A subclass reads one kind of file in ``build``, through ``read_mapping``, ``read_text``
    and ``read_boolean``, and calls ``refuse`` for each problem; ``read`` runs it.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[CalendarProblem] = []
        self.warnings: list[str] = []

    def read(self, root: yaml.Node) -> T:
        """What ``build`` makes of ``root``.

        Raises:
            CalendarError: listing every problem found, each with its line (at most MAX_PROBLEMS).
        """
        try:
            result = self.build(root)
        except _TooManyProblems:
            stop = f"stopped after {MAX_PROBLEMS} problems — fix these, then check the file again"
            raise CalendarError([*self.problems, CalendarProblem(self.path, None, None, stop)]) from None
        if self.problems:
            raise CalendarError(self.problems)
        return result

    @abstractmethod
    def build(self, root: yaml.Node) -> T:
        """Read the whole tree; problems go to ``refuse``, not out as exceptions."""

    # -- reporting ---------------------------------------------------------

    def refuse(self, node: yaml.Node | None, event: str | None, message: str) -> None:
        """Record a problem at ``node``'s line (``event`` names the event it is in, if any)."""
        line = line_of(node) if node is not None else None
        self.add_problem(CalendarProblem(self.path, line, event, message))

    def add_problem(self, problem: CalendarProblem) -> None:
        """Record a problem; stop reading once there are MAX_PROBLEMS."""
        self.problems.append(problem)
        if len(self.problems) >= MAX_PROBLEMS:
            raise _TooManyProblems

    def warn(self, node: yaml.Node | None, event: str | None, message: str) -> None:
        """Record a warning at ``node``'s line: the file is used, but the user should know."""
        self.warnings.append(
            str(CalendarProblem(self.path, line_of(node) if node is not None else None, event, message))
        )

    # -- generic node readers ----------------------------------------------

    def check_graph(self, root: yaml.Node) -> bool:
        """Refuse non-standard tags anywhere, and trees that expand too far through aliases.

        An alias (``*name``) shares the node it names, so the composed graph stays small
        while every later step works through the expanded tree: a 300 KB file can repeat an
        event of 10,000 people 20,000 times. The expanded size of each node is summed once,
        bottom-up, so the check costs the document's size, not the expansion's.
        """
        expanded: dict[int, int] = {}  # lists and mappings only: a scalar is one node
        open_nodes: set[int] = set()  # entered, children not yet summed: the current path
        checked: set[int] = set()  # scalars whose tag was checked (an alias shares them)
        stack: list[tuple[yaml.Node, bool]] = [(root, False)]
        while stack:
            node, children_done = stack.pop()
            key = id(node)
            if children_done:
                open_nodes.discard(key)
                size = 1 + sum(expanded.get(id(child), 1) for child in _children(node))
                expanded[key] = size
                if size > MAX_YAML_NODES:
                    self.refuse(
                        node,
                        None,
                        f"this YAML expands through its aliases (*name) to more than {MAX_YAML_NODES:,} "
                        "nodes, the limit — a calendar is far smaller; write repeated entries out",
                    )
                    return False
                continue
            if key in expanded:
                continue
            if key in open_nodes:
                self.refuse(
                    node, None, "a YAML alias (*name) refers to a list or mapping it is inside — remove it"
                )
                return False
            self.check_tag(node)
            if isinstance(node, yaml.ScalarNode):
                continue  # only the root gets here
            open_nodes.add(key)
            stack.append((node, True))
            for child in _children(node):
                if not isinstance(child, yaml.ScalarNode):
                    if id(child) not in expanded:
                        stack.append((child, False))
                elif id(child) not in checked:
                    checked.add(id(child))
                    self.check_tag(child)
        return not self.problems

    def read_top(
        self, root: yaml.Node, allowed: tuple[str, ...], what: str
    ) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        """The file's top-level mapping (graph checked, keys allowed, ``version: 1`` if given); None when refused."""
        if not self.check_graph(root):
            return None
        top = self.read_mapping(root, allowed, None, what)
        if top is not None and "version" in top:
            node = top["version"][1]
            if not (isinstance(node, yaml.ScalarNode) and node.value == "1"):
                self.refuse(node, None, f"version {describe(node)} is not supported — write 'version: 1'")
        return top

    def check_tag(self, node: yaml.Node) -> None:
        """Refuse a non-standard YAML tag (``!!python/...``): calendars are plain data."""
        if node.tag not in _STANDARD_TAGS:
            tag = node.tag.replace("tag:yaml.org,2002:", "!!")
            self.refuse(
                node, None, f"YAML tag {tag!r} is not allowed — calendars are plain data; remove the tag"
            )

    def read_mapping(
        self, node: yaml.Node, allowed: tuple[str, ...], event: str | None, what: str
    ) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        """``node`` as a mapping of allowed keys to (key node, value node); unknown or repeated keys refused."""
        if not isinstance(node, yaml.MappingNode):
            self.refuse(node, event, f"{what} must be a mapping of keys to values, not {kind_of(node)}")
            return None
        result: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, value in node.value:
            if key.tag == "tag:yaml.org,2002:merge":
                self.refuse(key, event, "'<<' merge keys are not supported — write the keys out")
                continue
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else ""
            if name not in allowed:
                hint = did_you_mean(name, allowed) or "allowed keys: " + ", ".join(allowed)
                self.refuse(key, event, f"unknown key {name!r} in {what} — {hint}")
            elif name in result:
                self.refuse(key, event, f"key {name!r} appears twice in {what} — keep one")
            else:
                result[name] = (key, value)
        return result

    def read_text(self, node: yaml.Node, event: str | None, key: str) -> str | None:
        """``node`` as non-empty text of at most MAX_TEXT characters, or None when refused."""
        if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
            self.refuse(node, event, f"{key!r} must be text, not {kind_of(node)}")
            return None
        value = str(node.value).strip()
        if not value:
            self.refuse(node, event, f"{key!r} is empty — give it a value")
            return None
        if len(value) > MAX_TEXT:
            self.refuse(
                node,
                event,
                f"{key!r} is {len(value):,} characters long; the limit is {MAX_TEXT:,} — shorten it",
            )
            return None
        return value

    def read_boolean(self, node: yaml.Node, event: str | None, key: str) -> bool | None:
        """``node`` as true or false (YAML's yes/no/on/off too), or None when refused."""
        if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool":
            word = str(node.value).lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
        self.refuse(node, event, f"{key!r} must be true or false, not {describe(node)}")
        return None


def line_of(node: yaml.Node) -> int:
    """The 1-based line a node starts on."""
    return int(node.start_mark.line) + 1


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """``did you mean 'x'?`` for the closest choice, or "" when none is close."""
    import difflib  # only when a key is wrong: it is slow to import

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.7)
    return f"did you mean {close[0]!r}?" if close else ""


def short(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters, with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def file_error(path: str, message: str) -> CalendarError:
    """A problem with the whole file (no line), as the error to raise."""
    return CalendarError([CalendarProblem(path, None, None, message)])


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def kind_of(node: yaml.Node) -> str:
    """What a node is, for messages: "a mapping", "a list", or the value quoted."""
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return describe(node)


def describe(node: yaml.Node) -> str:
    """A value for messages: quoted, "empty" for null, else what kind of node it is."""
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "tag:yaml.org,2002:null":
            return "empty"
        return repr(node.value)
    return kind_of(node)
