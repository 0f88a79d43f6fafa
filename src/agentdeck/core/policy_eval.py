"""Policy evaluation: compile a :class:`PolicySet` once, then decide tool calls.

Semantics (docs/policies.md has the full text):

- every rule that can match the call is evaluated, in file order; a rule *matches* when its
  ``when`` is true;
- the decision is the most severe effect among the matched rules
  (deny > require_approval > warn > allow); with no match, the policy's default effect;
- fail-closed: a rule whose evaluation errors (or yields a non-boolean) counts as a deny,
  and the error is recorded in the decision.

Speed (bench/policy_bench.py): rules are indexed by the tool names their top-level
conjuncts require (``tool.name == "x"``, ``tool.name in [...]``), so a decision evaluates only
the rules that can match; the rules of one tool are evaluated as one CEL list program, with
a per-rule fallback to attribute errors; and only the variables (and the fields of them)
those rules read are handed to CEL (cel-cpp converts a variable whole when a rule first
touches it, so an unread ``run.calls`` would otherwise cost about 1 us per earlier call).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from typing import Any

from agentdeck.core import cel_engine
from agentdeck.core.cel_engine import CelEvalError
from agentdeck.core.errors import SpecError
from agentdeck.core.policy_compile import RuleCompileError, compile_when
from agentdeck.core.policy_context import ROOT_VARIABLES, PriorCall, ToolCallContext
from agentdeck.core.policy_spec import Effect, PolicySet, Rule
from agentdeck.core.policy_static import (
    EACH,
    ExprFacts,
    analyze,
    leading_dot_roots,
    with_tool_name,
)

__all__ = [
    "CompiledPolicy",
    "CompiledRule",
    "Decision",
    "PolicyCache",
    "PolicyTestResult",
    "RuleError",
    "RuleMatch",
    "RunEvaluator",
    "ToolCallContext",
    "check_policy",
    "compile_policy",
    "run_policy_tests",
]


@dataclass(frozen=True)
class RuleMatch:
    """A rule whose ``when`` was true for the call."""

    rule_id: str
    effect: Effect
    message: str


@dataclass(frozen=True)
class RuleError:
    """A rule whose evaluation failed; it counts as a deny (fail-closed)."""

    rule_id: str
    error: str


@dataclass(frozen=True)
class Decision:
    """The outcome of one tool call against one policy version."""

    effect: Effect
    tool: str
    policy_name: str
    policy_digest: str
    matched: tuple[RuleMatch, ...] = ()
    errors: tuple[RuleError, ...] = ()
    evaluated: tuple[str, ...] = ()
    default_applied: bool = False

    @property
    def allowed(self) -> bool:
        """The tool may run now (allow or warn); require_approval and deny stop it."""
        return self.effect in (Effect.ALLOW, Effect.WARN)

    @property
    def decisive_rules(self) -> tuple[str, ...]:
        """Ids of the rules that produced the effect (errored rules for a fail-closed deny)."""
        if self.errors:
            return tuple(e.rule_id for e in self.errors)
        return tuple(m.rule_id for m in self.matched if m.effect is self.effect)

    @property
    def message(self) -> str:
        """The message to show: the first decisive rule's, in file order."""
        if self.errors:
            first = self.errors[0]
            return (
                f"policy evaluation failed in rule {first.rule_id!r} (fail-closed): {first.error}"
            )
        for m in self.matched:
            if m.effect is self.effect:
                return m.message or f"rule {m.rule_id!r} matched"
        return f"no rule matched; default effect {self.effect.value}"

    def to_dict(self) -> dict[str, Any]:
        """The decision explained as JSON data (``policy eval --json`` and the API)."""
        return {
            "effect": self.effect.value,
            "tool": self.tool,
            "policy": self.policy_name,
            "policy_digest": self.policy_digest,
            "message": self.message,
            "matched": [
                {"rule": m.rule_id, "effect": m.effect.value, "message": m.message}
                for m in self.matched
            ],
            "errors": [{"rule": e.rule_id, "error": e.error} for e in self.errors],
            "evaluated": list(self.evaluated),
            "default_applied": self.default_applied,
            "explanation": self.explanation,
        }

    @cached_property
    def explanation(self) -> str:
        """Several lines saying why: what was evaluated, what matched, what failed."""
        lines = [
            f"{self.effect.value}: tool {self.tool!r} under policy {self.policy_name} "
            f"({self.policy_digest[:19]}...)"
        ]
        for m in self.matched:
            lines.append(
                f"  rule {m.rule_id} matched -> {m.effect.value}: {m.message}".rstrip(": ")
            )
        for e in self.errors:
            lines.append(f"  rule {e.rule_id} failed -> deny (fail-closed): {e.error}")
        if self.default_applied:
            lines.append(f"  no rule matched -> default effect {self.effect.value}")
        elif not self.errors:
            lines.append(f"  most severe matched effect wins: {self.effect.value}")
        ids = ", ".join(self.evaluated) or "none"
        lines.append(f"  rules evaluated for this tool: {ids}")
        return "\n".join(lines)


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its compiled program and the static facts of its ``when``."""

    index: int
    rule: Rule
    program: Any  # a compiled cel-expr-python Expression (see core.cel_engine)
    facts: ExprFacts


# -- projection: convert only what the rules read -----------------------------------------

# A projection tree: True = the value whole; a dict = only these keys, projected in turn.
_Tree = dict[str, Any]


def _add_path(tree: _Tree, path: tuple[str, ...]) -> None:
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


def _project(value: Any, tree: Any) -> Any:
    if tree is True:
        return value
    if isinstance(value, dict):
        if EACH in tree:
            return value  # a macro iterates this map's keys: keep them all
        return {k: _project(value[k], sub) for k, sub in tree.items() if k in value}
    if isinstance(value, list) and EACH in tree and len(tree) == 1:
        sub = tree[EACH]
        return [_project(v, sub) for v in value]
    return value


class _Group:
    """The rules that can match one tool, evaluated together."""

    def __init__(
        self, rules: tuple[CompiledRule, ...], zero_counts: Mapping[str, int], tool: str | None
    ) -> None:
        self.rules = rules
        self.ids = tuple(r.rule.id for r in rules)
        # For one tool's group, ``tool.name`` is that tool: the rules run with it as a literal
        # (about 0.15 us less per mention, and often no ``tool`` variable to hand over).
        texts = [r.rule.when for r in rules]
        if tool is not None:
            texts = [with_tool_name(t, tool) for t in texts]
        self.program: Any = None
        if len(rules) == 1 and texts[0] == rules[0].rule.when:
            self.program = rules[0].program  # compiled already, when the policy was
        elif rules:
            self.program = _compile_group(texts)
            if self.program is None:
                texts = [r.rule.when for r in rules]
                self.program = _compile_group(texts)
        self.tree: _Tree | None = {}
        for r, text in zip(rules, texts, strict=True):
            facts = r.facts if text == r.rule.when else analyze(text)
            if facts.opaque or facts.bound & set(ROOT_VARIABLES):
                self.tree = None  # paths may not tell all the rule reads: no projection
                break
            for name in leading_dot_roots(text, ROOT_VARIABLES):
                _add_path(self.tree, (name,))  # `.args` names the root whole
            for p in facts.paths:
                if p[0] in ROOT_VARIABLES:
                    _add_path(self.tree, p)
        self.roots: tuple[str, ...] = tuple(self.tree) if self.tree is not None else ROOT_VARIABLES

        self._build = _builders(self.tree, zero_counts)
        self.decisions: dict[tuple[Any, ...], Decision] = {}

    def variables(self, ctx: ToolCallContext, zero_counts: Mapping[str, int]) -> dict[str, Any]:
        """The CEL variables of ``ctx`` cut down to what this group's rules read."""
        if self.tree is None:
            return ctx.variables(zero_counts, self.roots)
        out: dict[str, Any] = {}
        for root, build in self._build:
            value = build(ctx)
            if value is not _ABSENT:
                out[root] = value
        return out


def _compile_group(texts: list[str]) -> Any:
    """One program for a group: the list of its rules' values (or the one rule's value);
    None if the texts do not compile together."""
    src = texts[0] if len(texts) == 1 else "[" + ", ".join(f"(\n{t}\n)" for t in texts) + "]"
    try:
        return cel_engine.compile_for_eval(src)
    except cel_engine.CelCompileError:
        return None


_ABSENT = object()
_Builder = Callable[[ToolCallContext], Any]


def _pick(sub: Any, full: Callable[[ToolCallContext], dict[str, Any]]) -> _Builder:
    if sub is True:
        return full
    return lambda ctx: _project(full(ctx), sub)


def _builders(tree: _Tree | None, zero_counts: Mapping[str, int]) -> list[tuple[str, _Builder]]:
    """One function per root variable the rules read, building only the projected value
    (the same value as projecting :meth:`ToolCallContext.variables`, without building the
    rest first)."""
    if tree is None:
        return []
    out: list[tuple[str, _Builder]] = []
    for root, sub in tree.items():
        fn: _Builder
        if root == "tool":
            fn = _pick(sub, lambda c: {"name": c.tool, "version": c.tool_version})
        elif root == "args":
            fn = _whole_args if sub is True else partial(_projected_args, sub)
        elif root == "agent":
            fn = _pick(sub, lambda c: {"name": c.agent_name, "version": c.agent_version,
                                       "digest": c.agent_digest})  # fmt: skip
        elif root == "env":
            fn = lambda c: c.env  # noqa: E731
        elif root == "now":
            fn = lambda c: _ABSENT if c.now is None else c.now  # noqa: E731
        elif root == "run":
            fn = _run_builder(sub, zero_counts)
        else:  # a root only reachable through the whole-context path
            continue
        out.append((root, fn))
    return out


def _whole_args(c: ToolCallContext) -> dict[str, Any]:
    return dict(c.args)


def _projected_args(sub: Any, c: ToolCallContext) -> Any:
    return _project(dict(c.args), sub)


def _some_counts(
    names: tuple[str, ...], zero_counts: Mapping[str, int], c: ToolCallContext
) -> dict[str, int]:
    have = c.counts
    return {
        k: have[k] if k in have else zero_counts[k] for k in names if k in have or k in zero_counts
    }


def _projected_calls(sub: Any, c: ToolCallContext) -> Any:
    if sub is True or EACH not in sub or len(sub) != 1:
        return _project([x.to_value() for x in c.calls], sub)
    return [_call_value(x, sub[EACH]) for x in c.calls]


def _call_value(call: PriorCall, sub: Any) -> Any:
    """``_project(call.to_value(), sub)`` without building the parts no rule reads."""
    if sub is True:
        return call.to_value()
    out: dict[str, Any] = {}
    for key, part in sub.items():
        if key == "tool":
            out["tool"] = call.tool
        elif key == "outcome":
            out["outcome"] = call.outcome
        elif key == "args":
            out["args"] = _project(dict(call.args), part)
    return out


def _run_builder(sub: Any, zero_counts: Mapping[str, int]) -> _Builder:
    def counts(c: ToolCallContext) -> dict[str, int]:
        return {**zero_counts, **c.counts} if zero_counts else dict(c.counts)

    if sub is True:
        return lambda c: c.variables(zero_counts, ("run",))["run"]
    parts: list[tuple[str, _Builder]] = []
    for key, part in sub.items():
        if key == "counts":
            if part is True or EACH in part:
                parts.append((key, counts))
            else:
                parts.append((key, partial(_some_counts, tuple(part), zero_counts)))
        elif key == "calls":
            parts.append((key, partial(_projected_calls, part)))
        elif key == "elapsed_s":
            parts.append((key, lambda c: float(c.elapsed_s)))
        elif key == "step":
            parts.append((key, lambda c: c.step))
    return lambda c: {k: f(c) for k, f in parts}


class CompiledPolicy:
    """A policy version compiled for evaluation. Immutable after construction; thread-safe
    (each decision builds its own variables; the shared caches only ever gain entries)."""

    def __init__(self, policy: PolicySet, source: str, rules: tuple[CompiledRule, ...]) -> None:
        self.policy = policy
        self.source = source
        self.name = policy.name
        self.digest = policy.digest
        self.rules = rules
        named: set[str] = set()
        counted: set[str] = set()
        for r in rules:
            named |= r.facts.named_tools | (r.facts.tool_scope or frozenset())
            counted |= {p[2] for p in r.facts.paths if len(p) > 2 and p[:2] == ("run", "counts")}
        self.zero_counts: Mapping[str, int] = dict.fromkeys(sorted(named | counted), 0)
        scoped = {n for r in rules for n in (r.facts.tool_scope or ())}
        self._groups = {
            name: _Group(
                tuple(r for r in rules if r.facts.tool_scope is None or name in r.facts.tool_scope),
                self.zero_counts,
                name,
            )
            for name in sorted(scoped)
        }
        self._defaults: dict[str, Decision] = {}
        self._any_tool = _Group(
            tuple(r for r in rules if r.facts.tool_scope is None), self.zero_counts, None
        )

    def reads_now(self, tool: str) -> bool:
        """Whether any rule that can match a call to ``tool`` may read ``now``."""
        return "now" in self._groups.get(tool, self._any_tool).roots

    def rules_for(self, tool: str) -> tuple[CompiledRule, ...]:
        """The rules that can match a call to ``tool``, in file order."""
        return self._groups.get(tool, self._any_tool).rules

    def decide(self, ctx: ToolCallContext) -> Decision:
        """Decide one tool call. Never raises on evaluation problems: they deny (fail-closed)."""
        group = self._groups.get(ctx.tool, self._any_tool)
        if not group.rules:
            return self.default_decision(ctx.tool)
        try:
            data = group.variables(ctx, self.zero_counts)
        except Exception as exc:
            return self._unconvertible(group, ctx.tool, exc)
        return self._evaluate(group, data, ctx.tool, ctx.tool_version)

    def has_rules_for(self, tool: str) -> bool:
        """Whether any rule can match a call to ``tool`` (else the default effect applies)."""
        return bool(self._groups.get(tool, self._any_tool).rules)

    def default_decision(self, tool: str) -> Decision:
        """The decision when no rule can match (shared: decisions are immutable)."""
        hit = self._defaults.get(tool)
        if hit is None:
            hit = Decision(
                self.policy.default_effect, tool, self.name, self.digest, default_applied=True
            )
            if len(self._defaults) < _DECISION_CACHE_MAX:
                self._defaults[tool] = hit
        return hit

    def _unconvertible(self, group: _Group, tool: str, exc: Exception) -> Decision:
        error = f"the call's context cannot be given to CEL: {exc}"
        errs = tuple(RuleError(r.rule.id, error) for r in group.rules)
        return Decision(Effect.DENY, tool, self.name, self.digest, (), errs, group.ids)

    def _evaluate(
        self, group: _Group, data: dict[str, Any], tool: str, tool_version: str | None = None
    ) -> Decision:
        """Run the group's rules on the call's variables and combine the results.

        When every rule yields a boolean (the usual case) the decision depends only on the
        tool and those booleans; decisions are immutable, so each such outcome is built once
        per group and shared."""
        rules = group.rules
        results: list[Any] | None = None
        try:
            if len(rules) > 1:
                results = cel_engine.evaluate_list(group.program, data)
            else:
                results = [cel_engine.evaluate(group.program, data)]
        except Exception:
            results = None  # find which rule failed, one by one
        if results is not None and all(type(x) is bool for x in results):
            key = (tool, *results)
            hit = group.decisions.get(key)
            if hit is None:
                matched = [
                    RuleMatch(r.rule.id, r.rule.effect, r.rule.message)
                    for r, value in zip(rules, results, strict=True)
                    if value
                ]
                hit = self._combine(group, tool, matched, [])
                if len(group.decisions) < _DECISION_CACHE_MAX:
                    group.decisions[key] = hit
            return hit
        matched = []
        errors: list[RuleError] = []
        if "tool" not in data:  # the rules as written read tool.name
            data = {**data, "tool": {"name": tool, "version": tool_version}}
        for r in rules:
            try:
                value = cel_engine.evaluate(r.program, data)
            except Exception as exc:
                errors.append(RuleError(r.rule.id, _describe(exc)))
                continue
            if type(value) is not bool:
                errors.append(
                    RuleError(r.rule.id, f"'when' yielded {cel_engine.type_name(value)}, not bool")
                )
                continue
            if value:
                matched.append(RuleMatch(r.rule.id, r.rule.effect, r.rule.message))
        return self._combine(group, tool, matched, errors)

    def _combine(
        self, group: _Group, tool: str, matched: list[RuleMatch], errors: list[RuleError]
    ) -> Decision:
        if errors:
            effect = Effect.DENY
        elif matched:
            effect = max((m.effect for m in matched), key=lambda e: e.severity)
        else:
            effect = self.policy.default_effect
        return Decision(
            effect,
            tool,
            self.name,
            self.digest,
            tuple(matched),
            tuple(errors),
            group.ids,
            default_applied=not matched and not errors,
        )


#: Distinct (tool, rule outcomes) decisions kept per rule group.
_DECISION_CACHE_MAX = 4096


class RunEvaluator:
    """Decides the tool calls of one run, keeping what does not change between its calls.

    :meth:`CompiledPolicy.decide` builds every variable at every decision; here the agent and
    environment are built once per run and each earlier call is cut down to what the rules
    read once, when it is new (``calls`` must only grow between decisions: the run's
    history). Decisions are the same as ``decide`` on the equivalent
    :class:`ToolCallContext`. Thread-safe (one lock per run).
    """

    def __init__(self, policy: CompiledPolicy, agent_name: str = "",
                 agent_version: int | None = None, agent_digest: str = "", env: str = "") -> None:  # fmt: skip
        self.policy = policy
        self._base = ToolCallContext("", agent_name=agent_name, agent_version=agent_version,
                                     agent_digest=agent_digest, env=env)  # fmt: skip
        self._state: dict[int, tuple[dict[str, Any], list[Any]]] = {}
        self._lock = threading.Lock()

    def decide(self, tool: str, args: Mapping[str, Any], calls: Sequence[PriorCall],
               counts: Mapping[str, int], *, tool_version: str | None = None, step: int = 0,
               elapsed_s: float = 0.0, now: Any = None) -> Decision:  # fmt: skip
        """Decide one call; ``calls``/``counts`` are the run's earlier calls (see ToolCallContext)."""
        cp = self.policy
        group = cp._groups.get(tool, cp._any_tool)
        if not group.rules:
            return cp.default_decision(tool)
        tree = group.tree
        roots = group.roots
        with self._lock:
            try:
                st = self._state.get(id(group))
                if st is None:  # per run: agent and env built once
                    const = self._base.variables(None, [r for r in roots if r in ("agent", "env")])
                    if tree is not None:
                        const = {k: _project(v, tree[k]) for k, v in const.items()}
                    st = self._state[id(group)] = (const, [])
                const, seen = st
                data = dict(const)
                if "tool" in roots:
                    data["tool"] = {"name": tool, "version": tool_version}
                if "args" in roots:
                    a = dict(args)
                    data["args"] = a if tree is None else _project(a, tree["args"])
                if "now" in roots and now is not None:
                    data["now"] = now
                if "run" in roots:
                    data["run"] = self._run(tree, seen, calls, counts, step, elapsed_s)
            except Exception as exc:
                return cp._unconvertible(group, tool, exc)
            return cp._evaluate(
                group, data, tool, tool_version
            )  # `seen` is only read under the lock

    def _run(self, tree: _Tree | None, seen: list[Any], calls: Sequence[PriorCall],
             counts: Mapping[str, int], step: int, elapsed_s: float) -> Any:  # fmt: skip
        sub: Any = True if tree is None else tree["run"]
        calls_sub: Any = True if sub is True else sub.get("calls")
        if calls_sub is not None:
            if len(seen) > len(calls):
                seen.clear()  # not this run's history any more: start over
            for c in calls[len(seen) :]:  # only the new calls are cut down
                seen.append(_project_item(c.to_value(), calls_sub))
        zc = self.policy.zero_counts
        value = {
            "counts": {**zc, **counts} if zc else dict(counts),
            "calls": seen,
            "elapsed_s": float(elapsed_s),
            "step": step,
        }
        if sub is True:
            return value
        return {
            k: (_project(value[k], sub[k]) if k != "calls" else seen) for k in sub if k in value
        }


def _project_item(value: Any, calls_sub: Any) -> Any:
    """One element of ``run.calls`` projected like :func:`_project` projects the list."""
    if calls_sub is True or not isinstance(calls_sub, dict):
        return value
    if EACH in calls_sub and len(calls_sub) == 1:
        return _project(value, calls_sub[EACH])
    return value


def _describe(exc: BaseException) -> str:
    if isinstance(exc, CelEvalError):
        return str(exc)
    if isinstance(exc, KeyError):
        return f"no such key: {exc.args[0] if exc.args else exc}"
    return f"{type(exc).__name__}: {exc}"


# -- compiling ----------------------------------------------------------------------------


def _compile_rules(policy: PolicySet, source: str) -> tuple[list[CompiledRule], list[SpecError]]:
    compiled: list[CompiledRule] = []
    problems: list[SpecError] = []
    seen: set[str] = set()
    for i, rule in enumerate(policy.rules):
        if rule.id in seen:
            problems.append(
                SpecError(source, f"rules[{i}].id", f"rule {rule.id!r}: duplicate rule id")
            )
            continue
        seen.add(rule.id)
        try:
            program, facts = compile_when(rule.when)
        except RuleCompileError as exc:
            problems.append(
                SpecError(source, f"rules[{i}].when", f"rule {rule.id!r}: {exc.reason}")
            )
            continue
        compiled.append(CompiledRule(i, rule, program, facts))
    return compiled, problems


def check_policy(policy: PolicySet, source: str) -> list[SpecError]:
    """Every problem in the policy's rules (``policy check``); empty when it compiles."""
    return _compile_rules(policy, source)[1]


def compile_policy(policy: PolicySet, source: str) -> CompiledPolicy:
    """Compile every rule; raise the first problem as a :class:`SpecError` naming the rule
    (``rules[i].when``: ``rule 'id': <reason> at column N``)."""
    compiled, problems = _compile_rules(policy, source)
    if problems:
        raise problems[0]
    return CompiledPolicy(policy, source, tuple(compiled))


class PolicyCache:
    """Compiled policies by digest, so each policy version is compiled once (bounded, LRU,
    thread-safe). The SDK and the server each own one; there is no global instance."""

    def __init__(self, maxsize: int = 64) -> None:
        self._maxsize = maxsize
        self._items: OrderedDict[str, CompiledPolicy] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, policy: PolicySet, source: str) -> CompiledPolicy:
        key = policy.digest
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit
        compiled = compile_policy(policy, source)
        with self._lock:
            self._items[key] = compiled
            while len(self._items) > self._maxsize:
                self._items.popitem(last=False)
        return compiled

    def __len__(self) -> int:
        return len(self._items)


# -- policy tests -------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyTestResult:
    """One test case's outcome; ``reason`` says what differed when it failed."""

    name: str
    index: int
    passed: bool
    expected: Effect
    expected_rules: tuple[str, ...] | None
    decision: Decision
    reason: str = ""


def run_policy_tests(
    policy: PolicySet | CompiledPolicy,
    source: str = "<policy>",
    call_defaults: Mapping[str, Any] | None = None,
) -> list[PolicyTestResult]:
    """Run the policy's test cases. A malformed ``call`` raises :class:`SpecError`
    (``tests[i].call...``); a wrong decision is a failed result. ``call_defaults`` fills the
    top-level keys a case's ``call`` leaves out (e.g. the ``agent`` under test)."""
    compiled = policy if isinstance(policy, CompiledPolicy) else compile_policy(policy, source)
    results: list[PolicyTestResult] = []
    for i, case in enumerate(compiled.policy.tests):
        call = case.call
        if call_defaults and isinstance(call, Mapping):
            call = {**call_defaults, **call}
        ctx = ToolCallContext.from_dict(call, compiled.source, f"tests[{i}].call.")
        decision = compiled.decide(ctx)
        problems: list[str] = []
        if decision.effect is not case.expect:
            problems.append(f"expected {case.expect.value}, got {decision.effect.value}")
        if case.expect_rules is not None:
            got = sorted(
                {m.rule_id for m in decision.matched} | {e.rule_id for e in decision.errors}
            )
            if got != sorted(set(case.expect_rules)):
                problems.append(f"expected rules {sorted(set(case.expect_rules))}, got {got}")
        if problems:  # an error is a deny: fine where a deny is expected, explained otherwise
            problems.extend(f"rule {e.rule_id!r} failed: {e.error}" for e in decision.errors)
        results.append(
            PolicyTestResult(
                name=case.name,
                index=i,
                passed=not problems,
                expected=case.expect,
                expected_rules=case.expect_rules,
                decision=decision,
                reason="; ".join(problems),
            )
        )
    return results
