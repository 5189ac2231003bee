"""Safe YAML: values with the line and column of every node, and limits against hostile files.

PyYAML composes the node graph (no Python object is ever constructed from a tag); we build plain values
ourselves so that we can refuse custom tags and duplicate keys, bound alias expansion ("billion laughs")
and nesting depth, and remember where each value stood.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from govcompare.errors import Problem

__all__ = ["Located", "YamlLimits", "parse_yaml"]

Path_ = tuple[str | int, ...]

# libyaml's composer when PyYAML was built with it (ten times faster), else the pure-Python one.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STANDARD_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
    "tag:yaml.org,2002:seq",
    "tag:yaml.org,2002:map",
}

_KINDS = {
    "tag:yaml.org,2002:int": "number",
    "tag:yaml.org,2002:float": "number",
    "tag:yaml.org,2002:timestamp": "date",
}


@dataclass(frozen=True, slots=True)
class YamlLimits:
    """Bounds on what a YAML file may cost to read."""

    max_bytes: int = 1_000_000
    max_nodes: int = 100_000
    max_depth: int = 40


@dataclass(slots=True)
class Located:
    """A parsed YAML document and the (line, column) of each value, keyed by its path."""

    value: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: Path_) -> tuple[int, int]:
        """The position of ``path`` or of its nearest ancestor that exists."""
        for cut in range(len(path), -1, -1):
            found = self.positions.get(path[:cut])
            if found is not None:
                return found
        return (1, 1)


class _Fail(Exception):
    def __init__(self, line: int, column: int, message: str) -> None:
        super().__init__(message)
        self.line, self.column, self.message = line, column, message


def _decode(data: bytes, source: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _Fail(
            line, column, f"byte 0x{data[exc.start]:02x} is not UTF-8: save the file as UTF-8"
        ) from None


class _Builder:
    def __init__(self, limits: YamlLimits) -> None:
        self.limits = limits
        self.nodes = 0
        self.positions: dict[Path_, tuple[int, int]] = {}
        self.key_positions: dict[Path_, tuple[int, int]] = {}
        self._scalars = yaml.SafeLoader("")  # constructs standard scalars only

    def build(self, node: yaml.Node, path: Path_, depth: int) -> Any:
        self.nodes += 1
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
        if self.nodes > self.limits.max_nodes:
            raise _Fail(
                line,
                column,
                f"more than {self.limits.max_nodes:,} values (an alias bomb?): "
                "write the values out instead of repeating aliases",
            )
        if depth > self.limits.max_depth:
            raise _Fail(line, column, f"nested deeper than {self.limits.max_depth} levels")
        self.positions.setdefault(path, (line, column))
        if node.tag not in _STANDARD_TAGS:
            raise _Fail(line, column, f"tag {node.tag!r} is not allowed: remove it")
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise _Fail(
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        "a key must be a plain value",
                    )
                if key_node.tag == "tag:yaml.org,2002:merge" or key_node.value == "<<":
                    raise _Fail(
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        "merge keys (<<) are not supported: write the keys out",
                    )
                if key_node.tag not in _STANDARD_TAGS:
                    raise _Fail(
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        f"tag {key_node.tag!r} is not allowed: remove it",
                    )
                key = self._scalar(key_node)
                if key in result:
                    raise _Fail(
                        key_node.start_mark.line + 1,
                        key_node.start_mark.column + 1,
                        f"duplicate key {key!r}: keep one",
                    )
                key_path = (*path, str(key))
                self.key_positions[key_path] = (
                    key_node.start_mark.line + 1,
                    key_node.start_mark.column + 1,
                )
                self.positions[key_path] = (
                    value_node.start_mark.line + 1,
                    value_node.start_mark.column + 1,
                )
                result[key] = self.build(value_node, key_path, depth + 1)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _scalar(self, node: yaml.Node) -> Any:
        try:
            return self._scalars.construct_object(node)
        # a date like 2022-13-45, or an integer over Python's 4,300-digit conversion limit
        except (ValueError, OverflowError, yaml.YAMLError):
            mark = node.start_mark
            text = str(node.value)
            shown = repr(text if len(text) <= 40 else text[:40] + "...")
            kind = _KINDS.get(str(node.tag), "value")
            raise _Fail(mark.line + 1, mark.column + 1, f"cannot read {shown} as a {kind}") from None


def _flow_depth(text: str, limit: int) -> tuple[int, int, int]:
    """Nesting of flow brackets (quotes ignored: a bound, not a parse) up to where it first passes ``limit``."""
    depth = deepest = 0
    line, column, where = 1, 0, (1, 1)
    for ch in text:
        column += 1
        if ch == "\n":
            line, column = line + 1, 0
        elif ch in "[{":
            depth += 1
            if depth > deepest:
                deepest, where = depth, (line, column)
                if depth > limit:
                    break
        elif ch in "]}":
            depth = max(0, depth - 1)
    return deepest, *where


def _check_encodable(text: str) -> None:
    """Refuse lone surrogates (only a ``str`` from a careless caller has them): YAML is Unicode text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        line, column = _line_column(text, exc.start)
        raise _Fail(
            line, column, f"invalid YAML: character U+{ord(text[exc.start]):04X} is not allowed"
        ) from None


def _line_column(text: str, position: int) -> tuple[int, int]:
    line = text.count("\n", 0, position) + 1
    return line, position - (text.rfind("\n", 0, position) + 1) + 1


def parse_yaml(data: bytes | str, *, source: str, limits: YamlLimits | None = None) -> Located:
    """Parse one YAML document safely; raise a list of one Problem on any failure.

    Raises ``ValueError`` carrying a :class:`~govcompare.errors.Problem` as its only argument.
    """
    limits = limits or YamlLimits()
    # surrogatepass: text from a careless caller may hold lone surrogates; the reader refuses them below
    size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
    try:
        if size > limits.max_bytes:
            raise _Fail(1, 1, f"file is {size:,} bytes, over the {limits.max_bytes:,}-byte limit for YAML")
        text = data if isinstance(data, str) else _decode(data, source)
        _check_encodable(text)
        if not text.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in text.splitlines()):
            raise _Fail(1, 1, "file is empty")
        if text.count("[") + text.count("{") > limits.max_depth:
            depth, line, column = _flow_depth(text, limits.max_depth)
            if depth > limits.max_depth:  # libyaml recurses per level: refuse before it can overflow
                raise _Fail(line, column, f"nested deeper than {limits.max_depth} levels")
        try:
            loader = _Loader(text)
            try:
                root = loader.get_single_node()
            finally:
                loader.dispose()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
            what = exc.problem or exc.context or "invalid YAML"
            raise _Fail(line, column, f"invalid YAML: {what}") from None
        except yaml.reader.ReaderError as exc:  # a character YAML does not allow; has no mark
            line, column = _line_column(text, exc.position)
            character = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or " ")
            raise _Fail(line, column, f"invalid YAML: character U+{character:04X} is not allowed") from None
        except yaml.YAMLError as exc:
            raise _Fail(1, 1, f"invalid YAML: {' '.join(str(exc).split())}") from None
        except RecursionError:
            raise _Fail(1, 1, "nested too deeply to read") from None
        if root is None:
            raise _Fail(1, 1, "file is empty")
        builder = _Builder(limits)
        try:
            value = builder.build(root, (), 0)
        except RecursionError:
            raise _Fail(1, 1, "nested too deeply to read") from None
        return Located(value, builder.positions, builder.key_positions)
    except _Fail as fail:
        raise ValueError(Problem(source, fail.line, fail.column, "", fail.message)) from None
