"""A policy version compiled for evaluation: its rules indexed by tool, run as CEL programs.

- every rule that can match the call is evaluated, in file order; a rule *matches* when its
  ``when`` is true; the decision combines them (:mod:`agentdeck.core.policy.decision`);
- rules are indexed by the tool names their top-level conjuncts require (``tool.name ==
  "x"``, ``tool.name in [...]``), so a decision evaluates only the rules that can match; the
  rules of one tool are evaluated as one CEL list program (``tool.name`` a literal in it),
  with a per-rule fallback to find which rule erred;
- the variables those rules read are built by their group's
  :class:`~agentdeck.core.policy.variables.VariablePlan`, the one path every decision takes.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agentdeck.core.errors import SpecError
from agentdeck.core.policy import cel_engine
from agentdeck.core.policy.aggregates import PREFIX as AGGREGATE_PREFIX
from agentdeck.core.policy.aggregates import Aggregate, rewrite_counts
from agentdeck.core.policy.compile import RuleCompileError, compile_when
from agentdeck.core.policy.context import ToolCallContext
from agentdeck.core.policy.decision import Decision, RuleError, RuleMatch, describe_error
from agentdeck.core.policy.spec import Effect, PolicySet, Rule
from agentdeck.core.policy.static import ExprFacts, analyze, with_tool_name
from agentdeck.core.policy.variables import CallsView, VariablePlan, calls_usage, read_tree

__all__ = [
    "CompiledPolicy",
    "CompiledRule",
    "PolicyCache",
    "RuleGroup",
    "check_policy",
    "compile_policy",
]


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its compiled program and the static facts of its ``when``."""

    index: int
    rule: Rule
    program: Any  # a compiled cel-expr-python Expression (see core.cel_engine)
    facts: ExprFacts


class RuleGroup:
    """The rules that can match one tool (or any tool no rule names), evaluated together,
    with the plan of the variables they read."""

    def __init__(
        self,
        rules: tuple[CompiledRule, ...],
        zero_counts: Mapping[str, int],
        tool: str | None,
        keep: bool = True,
    ) -> None:
        self.rules = rules
        self.ids = tuple(r.rule.id for r in rules)
        # For one tool's group, ``tool.name`` is that tool: the rules run with it as a literal
        # (about 0.15 us less per mention, and often no ``tool`` variable to hand over).
        texts = [r.rule.when for r in rules]
        if tool is not None:
            texts = [with_tool_name(t, tool) for t in texts]
        counted: tuple[Aggregate, ...] = ()
        self.rule_programs = tuple(r.program for r in rules)
        if keep:  # aggregates kept per run (see policy_aggregates)
            texts, counted, self.rule_programs = _with_counts(rules, texts)
        self.keeps = bool(counted)
        self.program: Any = None
        if len(rules) == 1 and texts[0] == rules[0].rule.when:
            self.program = rules[0].program  # compiled already, when the policy was
        elif rules:
            self.program = _compile_group(texts)
            if self.program is None:
                texts = [r.rule.when for r in rules]
                counted, self.rule_programs = (), tuple(r.program for r in rules)
                self.program = _compile_group(texts)
        tree = read_tree(
            (text, r.facts if text == r.rule.when else analyze(text))
            for r, text in zip(rules, texts, strict=True)
        )
        self.plan = VariablePlan(tree, zero_counts, calls_usage(texts), counted)
        self.roots = self.plan.roots
        self.decisions: dict[tuple[Any, ...], Decision] = {}


def _with_counts(
    rules: tuple[CompiledRule, ...], texts: list[str]
) -> tuple[list[str], tuple[Aggregate, ...], tuple[Any, ...]]:
    """The texts with their countable expressions read from kept counts
    (:mod:`agentdeck.core.policy.aggregates`), the counts, and each rule's own program (for
    finding which rule erred); the texts unchanged when that is not safe."""
    known: dict[Any, str] = {}
    new_texts: list[str] = []
    counted: dict[str, Aggregate] = {}
    for text in texts:
        new, found = rewrite_counts(text, known)
        new_texts.append(new)
        counted.update((a.name, a) for a in found)
    unchanged = (texts, (), tuple(r.program for r in rules))
    if not counted:
        return unchanged
    tree = read_tree((t, analyze(t)) for t in new_texts)
    if tree is None or tree.get("run") is True:
        return unchanged  # a rule reads `run` whole: it would see the counts
    try:
        programs = tuple(
            r.program if new == text else cel_engine.compile_for_eval(new)
            for r, text, new in zip(rules, texts, new_texts, strict=True)
        )
        aggregates = tuple(counted.values())
        for a in aggregates:
            a.factory()  # compiles
    except cel_engine.CelCompileError:
        return unchanged
    return new_texts, aggregates, programs


def _once(group: RuleGroup, zero_counts: Mapping[str, int], tool: str | None) -> RuleGroup:
    """``group`` without kept aggregates (itself when it keeps none)."""
    return RuleGroup(group.rules, zero_counts, tool, keep=False) if group.keeps else group


def _rule_error(exc: BaseException, why: Mapping[str, str]) -> str:
    """The error of a rule; a kept aggregate made unavailable by an earlier call gives the
    error that call made (the whole-list comprehension's)."""
    text = describe_error(exc)
    found = _AGGREGATE_NAME.search(text) if AGGREGATE_PREFIX in text else None
    if found is None:
        return text
    return why.get(found.group(1)) or "a comprehension over run.calls failed on an earlier call"


_AGGREGATE_NAME = re.compile(f"({AGGREGATE_PREFIX}[0-9]+)")


def _compile_group(texts: list[str]) -> Any:
    """One program for a group: the list of its rules' values (or the one rule's value);
    None if the texts do not compile together."""
    src = texts[0] if len(texts) == 1 else "[" + ", ".join(f"(\n{t}\n)" for t in texts) + "]"
    try:
        return cel_engine.compile_for_eval(src)
    except cel_engine.CelCompileError:
        return None


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
            name: RuleGroup(
                tuple(r for r in rules if r.facts.tool_scope is None or name in r.facts.tool_scope),
                self.zero_counts,
                name,
            )
            for name in sorted(scoped)
        }
        self._defaults: dict[str, Decision] = {}
        self._any_tool = RuleGroup(
            tuple(r for r in rules if r.facts.tool_scope is None), self.zero_counts, None
        )
        # For a single decision there is no run to keep aggregates for: the rules as written.
        self._once = {name: _once(g, self.zero_counts, name) for name, g in self._groups.items()}
        self._once_any = _once(self._any_tool, self.zero_counts, None)

    def reads_now(self, tool: str) -> bool:
        """Whether any rule that can match a call to ``tool`` may read ``now``."""
        return "now" in self._groups.get(tool, self._any_tool).roots

    def rules_for(self, tool: str) -> tuple[CompiledRule, ...]:
        """The rules that can match a call to ``tool``, in file order."""
        return self._groups.get(tool, self._any_tool).rules

    def group_for(self, tool: str) -> RuleGroup:
        """The rules that can match a call to ``tool``, with their variable plan."""
        return self._groups.get(tool, self._any_tool)

    def decide(self, ctx: ToolCallContext) -> Decision:
        """Decide one tool call. Never raises on evaluation problems: they deny (fail-closed).

        The same path as :class:`~agentdeck.core.policy.run.RunEvaluator`, with a run of its
        own that has just this call's history (and so no aggregates to keep across calls)."""
        group = self._once.get(ctx.tool, self._once_any)
        if not group.rules:
            return self.default_decision(ctx.tool)
        plan = group.plan
        view = plan.new_view(once=True)
        try:
            const = plan.constants(ctx.agent_name, ctx.agent_version, ctx.agent_digest, ctx.env)
            data = plan.build(const, ctx.tool, ctx.tool_version, ctx.args, ctx.now,
                              view, ctx.calls, ctx.counts, ctx.step, ctx.elapsed_s,
                              ctx.cost_usd, ctx.tokens)  # fmt: skip
        except Exception as exc:
            return self.unconvertible(group, ctx.tool, exc)
        return self.evaluate(group, data, ctx.tool, ctx.tool_version, view)

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

    def unconvertible(self, group: RuleGroup, tool: str, exc: Exception) -> Decision:
        error = f"the call's context cannot be given to CEL: {exc}"
        errs = tuple(RuleError(r.rule.id, error) for r in group.rules)
        return Decision(Effect.DENY, tool, self.name, self.digest, (), errs, group.ids)

    def evaluate(
        self,
        group: RuleGroup,
        data: dict[str, Any],
        tool: str,
        tool_version: str | None = None,
        view: CallsView | None = None,
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
        why = {t.name: t.error for t in view.trackers if t.error} if view is not None else {}
        for r, program in zip(rules, group.rule_programs, strict=True):
            try:
                value = cel_engine.evaluate(program, data)
            except Exception as exc:
                errors.append(RuleError(r.rule.id, _rule_error(exc, why)))
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
        self, group: RuleGroup, tool: str, matched: list[RuleMatch], errors: list[RuleError]
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
