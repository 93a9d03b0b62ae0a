"""The YAML layer on its own: a two-key reader built on NodeReader, and compose's limits."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from thankyou_scan import CalendarError
from thankyou_scan.yamlnodes import MAX_PROBLEMS, NodeReader, compose, describe, kind_of, short


class Pair(NodeReader[dict[str, Any]]):
    """Reads ``{name: text, on: bool}``, the smallest file a NodeReader can read."""

    def build(self, root: yaml.Node) -> dict[str, Any]:
        if not self.check_graph(root):
            return {}
        keys = self.read_mapping(root, ("name", "on"), None, "the file")
        if keys is None:
            return {}
        return {
            "name": self.read_text(keys["name"][1], None, "name") if "name" in keys else None,
            "on": self.read_boolean(keys["on"][1], None, "on") if "on" in keys else None,
        }


def read(text: str) -> dict[str, Any]:
    root = compose(text, "f.yaml")
    assert root is not None
    return Pair("f.yaml").read(root)


def problems(text: str) -> list[str]:
    with pytest.raises(CalendarError) as caught:
        read(text)
    return [str(problem) for problem in caught.value.problems]


def test_a_good_file_is_read() -> None:
    assert read("name: Ada\non: yes\n") == {"name": "Ada", "on": True}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("nmae: Ada\n", "f.yaml:1: unknown key 'nmae' in the file — did you mean 'name'?"),
        ("colour: red\n", "f.yaml:1: unknown key 'colour' in the file — allowed keys: name, on"),
        ("name: a\nname: b\n", "f.yaml:2: key 'name' appears twice in the file — keep one"),
        ("<<: {name: a}\n", "f.yaml:1: YAML tag '!!merge' is not allowed — calendars are plain data; remove the tag"),
        ("- a\n", "f.yaml:1: the file must be a mapping of keys to values, not a list"),
        ("name: [a]\n", "f.yaml:1: 'name' must be text, not a list"),
        ("name:\n", "f.yaml:1: 'name' must be text, not empty"),
        ("name: ' '\n", "f.yaml:1: 'name' is empty — give it a value"),
        ("name: " + "x" * 1001 + "\n", "f.yaml:1: 'name' is 1,001 characters long; the limit is 1,000 — shorten it"),
        ("on: maybe\n", "f.yaml:1: 'on' must be true or false, not 'maybe'"),
        ("name: !!binary aGk=\n", "f.yaml:1: YAML tag '!!binary' is not allowed — calendars are plain data; remove the tag"),
        ("a: &a [*a]\n", "f.yaml:1: a YAML alias (*name) refers to a list or mapping it is inside — remove it"),
    ],
)  # fmt: skip
def test_each_problem_names_its_line(text: str, expected: str) -> None:
    assert problems(text) == [expected]


def test_every_problem_is_kept_until_the_limit() -> None:
    found = problems("".join(f"k{n}: v\n" for n in range(MAX_PROBLEMS + 20)))
    assert len(found) == MAX_PROBLEMS + 1
    assert (
        found[-1] == f"f.yaml: stopped after {MAX_PROBLEMS} problems — fix these, then check the file again"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: [b\n",
            "f.yaml:1: YAML syntax error: did not find expected ',' or ']' (while parsing a flow sequence)",
        ),
        (
            "a: b\n  c: d\n",
            "f.yaml:2: YAML syntax error: mapping values are not allowed in this context — check",
        ),
    ],
)
def test_syntax_errors_name_their_line(text: str, expected: str) -> None:
    with pytest.raises(CalendarError) as caught:
        compose(text, "f.yaml")
    assert str(caught.value).startswith(expected)


def test_an_empty_document_composes_to_none() -> None:
    assert compose("# nothing\n", "f.yaml") is None


@pytest.mark.parametrize(
    ("text", "kind", "described"),
    [("a", "'a'", "'a'"), ("", "empty", "empty"), ("~", "empty", "empty"), ("[a]", "a list", "a list"), ("{a: b}", "a mapping", "a mapping")],
)  # fmt: skip
def test_nodes_described_for_messages(text: str, kind: str, described: str) -> None:
    node = compose(f"v: {text}\n", "f.yaml").value[0][1]  # type: ignore[union-attr]
    assert (kind_of(node), describe(node)) == (kind, described)


def test_short() -> None:
    assert short("abc", 3) == "abc" and short("abcd", 3) == "ab…"
