"""The one way a tool call's CEL variables are built for the rules that can match it.

Every decision -- :meth:`CompiledPolicy.decide` on a :class:`ToolCallContext` (``policy
eval``, ``policy test``, the API), and the per-run :class:`RunEvaluator` the SDK's guard and
``policy simulate`` use -- builds its variables through :meth:`VariablePlan.build`. The
values are those of :meth:`ToolCallContext.variables` cut down to what the rules read:

- only the root variables, and the fields of them, that the rules' paths name (cel-cpp
  converts a variable whole when a rule first touches it, so an unread field costs);
- ``run.calls`` comes from a :class:`CallsView`: each earlier call cut down to the fields
  the rules' macros read, once, when it is new (a run's view is extended call by call);
- when the rules only ever ask ``run.calls.exists(...)`` / ``run.calls.all(...)``, whose
  answers depend on which values occur and not on how often or where, the view keeps each
  distinct value once: its size is the number of distinct (cut-down) calls, not the run's
  length, so a decision costs the same at the 100th call as at the 3rd.

A rule whose paths do not tell all it reads (a whole-context macro, a root bound by a
macro) gets the variables whole, through the same function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agentdeck.core.policy.aggregates import Aggregate, Tracker, freeze
from agentdeck.core.policy.context import ROOT_VARIABLES, PriorCall
from agentdeck.core.policy.static import (
    EACH,
    ExprFacts,
    Token,
    is_op,
    leading_dot_roots,
    tokenize,
    tool_scope,
)

__all__ = ["CallsUsage", "CallsView", "Tree", "VariablePlan", "calls_usage", "project", "read_tree"]

# A projection tree: True = the value whole; a dict = only these keys, projected in turn.
Tree = dict[str, Any]


def _add_path(tree: Tree, path: tuple[str, ...]) -> None:
    node = tree
    for i, key in enumerate(path):
        if i == len(path) - 1:
            node[key] = True
            return
        nxt = node.get(key)
        if nxt is True:
            return
        if nxt is None:
            nxt = node[key] = {}
        node = nxt


def project(value: Any, tree: Any) -> Any:
    """``value`` with only the parts ``tree`` names."""
    if tree is True:
        return value
    if isinstance(value, dict):
        if EACH in tree:
            return value  # a macro iterates this map's keys: keep them all
        return {k: project(value[k], sub) for k, sub in tree.items() if k in value}
    if isinstance(value, list) and EACH in tree and len(tree) == 1:
        sub = tree[EACH]
        return [project(v, sub) for v in value]
    return value


def read_tree(texts_facts: Iterable[tuple[str, ExprFacts]]) -> Tree | None:
    """What a group of rules reads (their texts and static facts), as a projection tree;
    None when some rule's paths may not tell all it reads."""
    tree: Tree = {}
    for text, facts in texts_facts:
        if facts.opaque or facts.bound & set(ROOT_VARIABLES):
            return None
        for name in leading_dot_roots(text, ROOT_VARIABLES):
            _add_path(tree, (name,))  # `.args` names the root whole
        for p in facts.paths:
            if p[0] in ROOT_VARIABLES:
                _add_path(tree, p)
    return tree


_SET_MACROS = ("exists", "all")


def _macro_at(tokens: list[Token], i: int) -> str | None:
    """For the ``calls`` token at ``i``: the macro when it reads ``run.calls.M(c, ...)`` with
    M in exists/all and one bound name; else None."""
    if not (
        is_op(tokens, i - 1, ".")
        and i >= 2
        and tokens[i - 2].kind == "ident"
        and tokens[i - 2].text == "run"
        and is_op(tokens, i + 1, ".")
        and i + 5 < len(tokens)
        and tokens[i + 2].kind == "ident"
        and tokens[i + 2].text in _SET_MACROS
        and is_op(tokens, i + 3, "(")
        and tokens[i + 4].kind == "ident"
        and is_op(tokens, i + 5, ",")
    ):
        return None
    if i + 7 < len(tokens) and tokens[i + 6].kind == "ident" and is_op(tokens, i + 7, ","):
        return None  # the two-variable form exists(i, v, ...) sees positions
    return tokens[i + 2].text


def _predicate(tokens: list[Token], start: int) -> list[Token]:
    """The tokens from ``start`` up to the parenthesis that closes the macro call."""
    depth = 0
    for k in range(start, len(tokens)):
        t = tokens[k]
        if t.kind == "op" and t.text in "([{":
            depth += 1
        elif t.kind == "op" and t.text in ")]}":
            if depth == 0:
                return tokens[start:k]
            depth -= 1
    return tokens[start:]


def _element_tools(pred: list[Token], var: str) -> frozenset[str] | None:
    """The tools an element must have for ``pred`` to hold (its conjuncts ``var.tool == "x"``),
    or None. Elements of other tools make ``pred`` false, never an error (CEL's ``&&``)."""
    renamed: list[Token] = []
    k = 0
    while k < len(pred):
        t = pred[k]
        if t.kind == "ident" and not is_op(pred, k - 1, "."):
            if t.text == "tool":
                return None  # the outer tool.name: not ours to rename
            if (
                t.text == var
                and is_op(pred, k + 1, ".")
                and k + 2 < len(pred)
                and (pred[k + 2].kind == "ident" and pred[k + 2].text == "tool")
            ):
                renamed += [Token("ident", "tool", t.pos), pred[k + 1],
                            Token("ident", "name", pred[k + 2].pos)]  # fmt: skip
                k += 3
                continue
        renamed.append(t)
        k += 1
    return tool_scope(renamed)


@dataclass(frozen=True)
class CallsUsage:
    """How a group's rules read ``run.calls``: ``distinct`` when only through exists/all
    (each distinct element once suffices); ``tools`` when only through exists whose
    predicates each require one of these tools (other calls can be left out)."""

    distinct: bool
    tools: frozenset[str] | None


def calls_usage(texts: Iterable[str]) -> CallsUsage:
    """See :class:`CallsUsage`; conservative: anything not recognised reads the whole list."""
    tools: set[str] | None = set()
    for text in texts:
        tokens = tokenize(text)
        for i, t in enumerate(tokens):
            if t.kind == "string" and "calls" in t.text:
                return CallsUsage(False, None)  # run["calls"] and the like: not followed
            if t.kind != "ident" or t.text != "calls":
                continue
            macro = _macro_at(tokens, i)
            if macro is None:
                return CallsUsage(False, None)
            found = None
            if macro == "exists":
                found = _element_tools(_predicate(tokens, i + 6), tokens[i + 4].text)
            if found is None or tools is None:
                tools = None
            else:
                tools |= found
    return CallsUsage(True, frozenset(tools) if tools is not None else None)


def _element_fn(calls_sub: Any) -> Callable[[PriorCall], Any]:
    """How one earlier call becomes an element of ``run.calls`` for these rules."""
    if calls_sub is True or not isinstance(calls_sub, dict) or EACH not in calls_sub:
        return PriorCall.to_value
    if len(calls_sub) != 1:
        return PriorCall.to_value
    sub = calls_sub[EACH]
    if sub is True:
        return PriorCall.to_value
    keys = tuple(sub.items())

    def element(call: PriorCall) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, part in keys:
            if key == "tool":
                out["tool"] = call.tool
            elif key == "outcome":
                out["outcome"] = call.outcome
            elif key == "args":
                out["args"] = project(dict(call.args), part)
            elif key == "result":
                out["result"] = project(call.result_value, part)
        return out

    return element


class CallsView:
    """``run.calls`` as one group of rules reads it, extended as the run's history grows.

    ``extend(calls)`` takes the run's whole history (which must only grow at its end between
    calls; a shorter one starts the view over) and converts only the calls it has not seen.
    With ``distinct`` each distinct element is kept once, with ``tools`` only the calls of
    those tools (see :class:`CallsUsage`); ``factories`` make the ``trackers`` of the kept
    aggregates (:mod:`agentdeck.core.policy.aggregates`)."""

    __slots__ = ("_element", "_keys", "consumed", "distinct", "factories", "items", "lists",
                 "tools", "trackers")  # fmt: skip

    def __init__(self, element: Callable[[PriorCall], Any], distinct: bool,
                 tools: frozenset[str] | None = None, lists: bool = True,
                 factories: tuple[Callable[[], Tracker], ...] = ()) -> None:  # fmt: skip
        self._element = element
        self.distinct = distinct
        self.tools = tools
        self.lists = lists
        self.factories = factories
        self._start()

    def _start(self) -> None:
        self.items: list[Any] = []
        self._keys: set[Any] = set()
        self.trackers: tuple[Tracker, ...] = tuple(f() for f in self.factories)
        self.consumed = 0

    def extend(self, calls: Sequence[PriorCall]) -> list[Any]:
        if self.consumed > len(calls):  # not this run's history any more: start over
            self._start()
        if self.consumed == len(calls):
            return self.items
        tools = self.tools
        for call in calls[self.consumed :]:
            if self.trackers:
                value = call.to_value()
                for tracker in self.trackers:
                    tracker.add(value)
            if self.lists and (tools is None or call.tool in tools):
                self._add(self._element(call))
        self.consumed = len(calls)
        return self.items

    def _add(self, value: Any) -> None:
        if self.distinct:
            try:
                key = freeze(value)
            except TypeError:  # an unhashable leaf: kept, duplicates are harmless
                key = None
            if key is not None:
                if key in self._keys:
                    return
                self._keys.add(key)
        self.items.append(value)


class VariablePlan:
    """How the variables of one group of rules are built (see the module docstring)."""

    def __init__(self, tree: Tree | None, zero_counts: Mapping[str, int],
                 usage: CallsUsage, counted: Sequence[Aggregate] = ()) -> None:  # fmt: skip
        self.tree = tree
        self.zero_counts = zero_counts
        self.roots: tuple[str, ...] = tuple(tree) if tree is not None else ROOT_VARIABLES
        run_sub: Any = True if tree is None else tree.get("run")
        self.run_sub = run_sub
        calls_sub: Any = None
        if run_sub is True:
            calls_sub = True
        elif isinstance(run_sub, dict):
            calls_sub = run_sub.get("calls")
        self.reads_calls = calls_sub is not None
        # only when run.calls is read as a list on its own (not through `run` whole)
        compact = usage.distinct and isinstance(run_sub, dict) and calls_sub is not None
        self._distinct = compact
        self._tools = usage.tools if compact else None
        self._element = _element_fn(calls_sub)
        self._factories = tuple(a.factory() for a in counted)
        self._count_keys: tuple[str, ...] | None = None
        counts_sub = run_sub.get("counts") if isinstance(run_sub, dict) else None
        if isinstance(counts_sub, dict) and EACH not in counts_sub:
            self._count_keys = tuple(counts_sub)

    def new_view(self, once: bool = False) -> CallsView | None:
        """An empty ``run.calls`` view for one run (None when the rules do not read it);
        ``once``: for one decision only, where finding the distinct values would cost more
        than it saves."""
        if not self.reads_calls and not self._factories:
            return None
        return CallsView(self._element, self._distinct and not once, self._tools,
                         self.reads_calls, self._factories)  # fmt: skip

    def constants(self, agent_name: str, agent_version: int | None, agent_digest: str,
                  env: str) -> dict[str, Any]:  # fmt: skip
        """The variables that stay the same for a whole run: ``agent`` and ``env``."""
        out: dict[str, Any] = {}
        if "agent" in self.roots:
            agent = {"name": agent_name, "version": agent_version, "digest": agent_digest}
            out["agent"] = agent if self.tree is None else project(agent, self.tree["agent"])
        if "env" in self.roots:
            out["env"] = env
        return out

    def build(self, const: Mapping[str, Any], tool: str, tool_version: str | None,
              args: Mapping[str, Any], now: Any, view: CallsView | None,
              calls: Sequence[PriorCall], counts: Mapping[str, int], step: int,
              elapsed_s: float, cost_usd: float = 0.0, tokens: int = 0) -> dict[str, Any]:  # fmt: skip
        """The variables of one call: ``const`` from :meth:`constants`, ``view`` from
        :meth:`new_view` (extended here with ``calls``, the run's history so far)."""
        tree = self.tree
        roots = self.roots
        data = dict(const)
        if "tool" in roots:
            value = {"name": tool, "version": tool_version}
            data["tool"] = value if tree is None else project(value, tree["tool"])
        if "args" in roots:
            a = dict(args)
            data["args"] = a if tree is None else project(a, tree["args"])
        if "now" in roots and now is not None:
            data["now"] = now
        if "run" in roots:
            data["run"] = self._run(view, calls, counts, step, elapsed_s, cost_usd, tokens)
            if view is not None:
                for tracker in view.trackers:
                    tracker.put(data["run"])
        return data

    def _run(self, view: CallsView | None, calls: Sequence[PriorCall],
             counts: Mapping[str, int], step: int, elapsed_s: float, cost_usd: float = 0.0,
             tokens: int = 0) -> dict[str, Any]:  # fmt: skip
        sub = self.run_sub
        zc = self.zero_counts
        whole = sub is True
        out: dict[str, Any] = {}
        if whole or "counts" in sub:
            keys = self._count_keys
            if keys is None:
                out["counts"] = {**zc, **counts} if zc else dict(counts)
            else:
                out["counts"] = {
                    k: counts[k] if k in counts else zc[k] for k in keys if k in counts or k in zc
                }
        if whole or "calls" in sub or self._factories:
            items = (view or CallsView(self._element, False)).extend(calls)
            if whole or "calls" in sub:
                # elements are already cut down to what the rules read (see _element_fn)
                out["calls"] = items
        if whole or "elapsed_s" in sub:
            out["elapsed_s"] = float(elapsed_s)
        if whole or "step" in sub:
            out["step"] = step
        if whole or "cost_usd" in sub:
            out["cost_usd"] = float(cost_usd)
        if whole or "tokens" in sub:
            out["tokens"] = int(tokens)
        return out
