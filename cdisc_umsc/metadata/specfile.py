"""Spec files: safe YAML that remembers where every mapping and key came from.

A spec mistake is reported as ``file:line: message``; so every mapping loaded here carries its
file and the line of each key. Duplicate keys are errors (plain YAML keeps the last silently).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from cdisc_umsc.core.errors import InputError


class SpecError(InputError):
    """A mistake in a spec file, reported as ``file:line: message``."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")


#: Keys of a variable's entry that describe it and do not derive it.
_NOT_CITED = ("label", "length", "origin", "comment")


def _as_written(value: Any) -> str:
    """A spec value in YAML flow style, as a spec author writes it: {a: 1, b: [x, y]}."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_as_written(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_as_written(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class SpecMap(dict):
    """A mapping from a spec file, with the file and the line of each key."""

    file: str = "?"
    line: int = 0
    key_lines: dict[str, int]

    def where(self, key: str | None = None) -> str:
        """``file:line`` of the mapping, or of one of its keys."""
        line = self.key_lines.get(key, self.line) if key is not None else self.line
        return f"{self.file}:{line}"

    def cited(self) -> str:
        """``file:line: key=value, ...`` of this mapping, as the lineage cites a variable's
        entry (what describes rather than derives it, such as the label, left out)."""
        items = ", ".join(f"{k}={_as_written(v)}" for k, v in self.items() if k not in _NOT_CITED)
        return f"{self.where()}: {items}"

    def error(self, key: str | None, message: str) -> SpecError:
        return SpecError(self.where(key), message)

    def key_where(self, key: str) -> str | None:
        """``file:line`` of the first ``key`` in this mapping or in any mapping nested in it
        (depth first, in file order), or None where no mapping has it."""
        stack: list[Any] = [self]
        while stack:
            node = stack.pop()
            if isinstance(node, SpecMap):
                if key in node:
                    return node.where(key)
                stack.extend(reversed(list(node.values())))
            elif isinstance(node, list):
                stack.extend(reversed(node))
        return None

    def require(self, key: str) -> Any:
        if key not in self:
            raise self.error(None, f"missing required key '{key}'")
        return self[key]

    def only(self, allowed: set[str] | frozenset[str], what: str) -> None:
        """Reject keys that the spec format does not know."""
        for key in self:
            if key not in allowed:
                known = ", ".join(sorted(allowed))
                raise self.error(key, f"unknown key '{key}' in {what} (expected one of: {known})")


class SpecList(list):
    """A sequence from a spec file, with its file and line."""

    file: str = "?"
    line: int = 0

    def where(self) -> str:
        return f"{self.file}:{self.line}"


#: Deepest nesting of mappings and lists a spec may have (a spec needs a handful of levels).
MAX_DEPTH = 64
#: The plain (unquoted) scalars that are not text. YAML 1.1 would also read ``NO``/``yes``/``on``
#: as booleans, ``012345`` as an octal number, ``1:30`` as 90, ``2021-06-30`` as a date and
#: ``1.10`` as 1.1: in a spec those are text (a country code, a study id, a visit label, a
#: version), so only numbers written canonically (``7``, ``-3``, ``0.1``) are typed.
_NULL = r"^(?:~|null|Null|NULL|)$"
_BOOL = r"^(?:true|True|TRUE|false|False|FALSE)$"
_INT = r"^[-+]?(?:0|[1-9][0-9]*)$"
_FLOAT = r"^[-+]?(?:0|[1-9][0-9]*)\.[0-9]*[1-9]$"


class _Loader(yaml.SafeLoader):
    """SafeLoader that builds SpecMap/SpecList, refuses duplicate keys, aliases and deep
    nesting, and types only unambiguous plain scalars (the rest stay text)."""

    yaml_implicit_resolvers: dict = {}
    #: The spec file name error messages give.
    spec_file: str
    _depth: int

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise SpecError(
                f"{self.spec_file}:{event.start_mark.line + 1}",
                "YAML aliases (*name) are not allowed in a spec; write the value out",
            )
        depth = getattr(self, "_depth", 0) + 1
        if depth > MAX_DEPTH:
            event = self.peek_event()
            raise SpecError(
                f"{self.spec_file}:{event.start_mark.line + 1}",
                f"nested more than {MAX_DEPTH} levels deep",
            )
        self._depth = depth
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth = depth - 1


for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:bool", _BOOL, list("tTfF")),
    ("tag:yaml.org,2002:int", _INT, list("-+0123456789")),
    ("tag:yaml.org,2002:float", _FLOAT, list("-+0123456789")),
):
    _Loader.add_implicit_resolver(_tag, re.compile(_pattern), _first)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> SpecMap:
    result = SpecMap()
    result.file = loader.spec_file
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool):
            raise SpecError(f"{result.file}:{key_node.start_mark.line + 1}", "keys must be scalars")
        # The key as written: a CRF value ``true`` or ``+1`` is matched as that text, not as
        # the str() of the bool or int the scalar resolves to ("True", "1").
        key = key_node.value
        if key in result:
            raise SpecError(
                f"{result.file}:{key_node.start_mark.line + 1}",
                f"duplicate key '{key}' (first at line {result.key_lines[key]})",
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> SpecList:
    result = SpecList(loader.construct_object(child, deep=True) for child in node.value)
    result.file = loader.spec_file
    result.line = node.start_mark.line + 1
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_spec_file(path: Path, display: str | None = None) -> SpecMap:
    """Load one spec file; the top level must be a mapping."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(name, "spec file not found") from None
    except UnicodeDecodeError as exc:
        raise SpecError(name, f"not UTF-8 text (byte {exc.start})") from None
    loader = _Loader(text)
    loader.spec_file = name
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = (exc.problem or exc.context or "syntax error").strip()
        raise SpecError(f"{name}:{line}", f"YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise SpecError(name, f"YAML error: {exc}") from None
    finally:
        loader.dispose()
    if data is None:
        data = SpecMap()
        data.file, data.line, data.key_lines = name, 1, {}
    if not isinstance(data, SpecMap):
        raise SpecError(f"{name}:1", "the top level must be a mapping of keys to values")
    return data
