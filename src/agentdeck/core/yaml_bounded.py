"""The one YAML parser for user documents (agent specs, policies, eval suites, alert rules):
bounded in size, nesting and alias expansion, so that a hostile file is refused in
milliseconds instead of growing the process by gigabytes ("billion laughs").

PyYAML's ``safe_load`` builds aliases as shared references, so a bomb is small in memory until
something walks it (the canonical JSON of a spec's digest writes every copy). Here the document
is composed into PyYAML's node graph with a nesting limit, its *expanded* size (every alias
counted as many times as it is reached, scalars by their length) is computed on the graph, with
each node counted once thanks to memoisation, and only a document within every limit is
constructed. A recursive alias (``&a [*a]``) is refused. Every refusal is a
:class:`~agentdeck.core.errors.SpecError` naming the source, one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from agentdeck.core.errors import SpecError

MiB = 1024 * 1024


@dataclass(frozen=True)
class YamlLimits:
    """Bounds of one YAML document."""

    max_bytes: int = 4 * MiB  # the text, UTF-8
    max_depth: int = 64  # nested sequences/mappings
    max_aliases: int = 1000  # alias references (``*name``) in the text
    max_expanded: int = 16 * MiB  # nodes + scalar characters with every alias expanded


DEFAULT_LIMITS = YamlLimits()


class _LimitExceeded(Exception):
    def __init__(self, reason: str, node: Node | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.node = node


class _BoundedLoader(yaml.SafeLoader):
    """A SafeLoader whose composer counts nesting depth and aliases as it goes."""

    def __init__(self, text: str, limits: YamlLimits) -> None:
        super().__init__(text)
        self._limits = limits
        self._depth = 0
        self._aliases = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > self._limits.max_aliases:
                raise _LimitExceeded(f"more than {self._limits.max_aliases} aliases")
            return super().compose_node(parent, index)
        if self.check_event(yaml.ScalarEvent):
            return super().compose_node(parent, index)
        self._depth += 1
        if self._depth > self._limits.max_depth:
            event = self.peek_event()
            raise _LimitExceeded(
                f"nested deeper than {self._limits.max_depth} levels",
                ScalarNode("", "", event.start_mark, event.end_mark),
            )
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _expanded_size(root: Node, limit: int) -> int:
    """Nodes plus scalar characters of the document with aliases expanded (each distinct node
    is visited once; its size is reused wherever it is referenced)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    # iterative post-order walk: (node, children done?)
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            if isinstance(node, ScalarNode):
                total = 1 + len(node.value)
            else:
                total = 1 + sum(sizes[id(c)] for c in _children(node))
            if total > limit:
                raise _LimitExceeded(f"expands to more than {limit} nodes and characters", node)
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in active:
            raise _LimitExceeded("a recursive alias (an anchor used inside itself)", node)
        active.add(key)
        stack.append((node, True))
        if not isinstance(node, ScalarNode):
            for child in _children(node):
                if id(child) in active:
                    raise _LimitExceeded("a recursive alias (an anchor used inside itself)", child)
                if id(child) not in sizes:
                    stack.append((child, False))
    return sizes[id(root)]


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _where(node: Node | None) -> str | None:
    mark = getattr(node, "start_mark", None)
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None


def parse_yaml_text(text: str, source: str, limits: YamlLimits = DEFAULT_LIMITS) -> Any:
    """One YAML document as Python data; a malformed document, or one past ``limits``, raises
    :class:`SpecError` naming ``source`` (and the line where that is known)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > limits.max_bytes:
        raise SpecError(source, None, f"larger than the {limits.max_bytes}-byte limit for YAML")
    loader: _BoundedLoader | None = None
    try:
        loader = _BoundedLoader(text, limits)  # the reader refuses control characters here
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, limits.max_expanded)
        return loader.construct_document(node)
    except _LimitExceeded as exc:
        raise SpecError(source, _where(exc.node), f"refused YAML: {exc.reason}") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise SpecError(source, where, f"malformed YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise SpecError(source, None, f"malformed YAML: {exc}") from None
    except RecursionError:
        raise SpecError(source, None, "refused YAML: nested too deeply") from None
    finally:
        if loader is not None:
            loader.dispose()
