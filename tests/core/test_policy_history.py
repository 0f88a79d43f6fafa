"""A decision does not depend on how the run's history was handed over: incrementally to one
RunEvaluator, whole to CompiledPolicy.decide, or as the plain, uncut CEL variables of
ToolCallContext.variables evaluated rule by rule. And the ``run.calls`` a decision hands to
CEL stays the size of the distinct calls the rules can use, not the run's length."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentdeck.core.policy import cel_engine
from agentdeck.core.policy.context import PriorCall, ToolCallContext
from agentdeck.core.policy.evaluate import RunEvaluator, compile_policy
from agentdeck.core.policy.spec import parse_policy_spec
from agentdeck.core.policy.variables import calls_usage

TOOLS = ["lookup", "verify", "refund", "email", "search"]

RULES: list[tuple[str, str, str]] = [
    # exists with a tool conjunct: the view may leave other tools out and repeat nothing
    (
        "verified",
        'tool.name == "refund" && !run.calls.exists(c, c.tool == "verify" '
        '&& c.outcome == "ok" && c.args.id == args.id)',
        "deny",
    ),
    (
        "looked",
        'tool.name == "refund" && !run.calls.exists(c, (c.tool == "lookup" '
        '|| c.tool == "search") && c.args.id == args.id)',
        "warn",
    ),
    # all: distinct values, every tool
    ("all-ok", 'tool.name == "email" && !run.calls.all(c, c.outcome != "error")', "warn"),
    # exists without a tool conjunct; an error for calls without `n`
    ("big-n", 'tool.name == "email" && run.calls.exists(c, c.args.n > 2)', "require_approval"),
    # order and multiplicity matter: the whole list
    (
        "errors",
        'tool.name == "search" && run.calls.filter(c, c.outcome == "error").size() >= 2',
        "deny",
    ),
    (
        "one-denied",
        'tool.name == "lookup" && run.calls.exists_one(c, c.outcome == "denied")',
        "warn",
    ),
    ("long", 'tool.name == "verify" && size(run.calls) > 6', "deny"),
    # counts kept per run; the second errs on a call without a numeric `n`, as the filter does
    (
        "many-ok",
        'tool.name == "verify" && size(run.calls.filter(c, c.outcome == "ok")) > 3',
        "warn",
    ),
    (
        "n-count",
        'tool.name == "verify" && run.calls.filter(c, c.args.n > 2).size() >= 1',
        "require_approval",
    ),
    ("budget", 'tool.name == "email" && run.counts["email"] >= 2', "deny"),
    ("any-tool", "run.calls.exists(c, c.tool == tool.name && c.args == args)", "warn"),
]
# The same rules, each also reading the whole list (so it is handed over whole).
POLICIES = [
    compile_policy(parse_policy_spec({
        "name": name, "default_effect": "allow",
        "rules": [{"id": i, "when": w + suffix, "effect": e} for i, w, e in RULES],
    }, name), name)
    for name, suffix in (("compact", ""), ("whole", " && run.calls == run.calls"))
]  # fmt: skip

VALUES = st.one_of(
    st.sampled_from(["A1", "A2", "B7"]), st.sampled_from([1, 1.0, True, 3]), st.none()
)
ARGS = st.dictionaries(st.sampled_from(["id", "n"]), VALUES, max_size=2)
CALL = st.tuples(st.sampled_from(TOOLS), ARGS, st.sampled_from(["ok", "error", "denied"]))


def _plain(compiled: Any, ctx: ToolCallContext) -> tuple[set[str], set[str]]:
    """Rule by rule on the uncut variables, each rule's program as compiled alone."""
    data = ctx.variables(compiled.zero_counts)
    matched, failed = set(), set()
    for r in compiled.rules:
        try:
            value = cel_engine.evaluate(r.program, data)
        except Exception:
            failed.add(r.rule.id)
            continue
        if value is True:
            matched.add(r.rule.id)
        elif value is not False:
            failed.add(r.rule.id)
    return matched, failed


def _shape(d: Any) -> tuple[Any, ...]:
    return (d.effect, d.matched, tuple(e.rule_id for e in d.errors), d.evaluated)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CALL, max_size=25), st.sampled_from([0, 1]))
def test_incremental_fresh_and_plain_decisions_agree(calls: list[Any], which: int) -> None:
    compiled = POLICIES[which]
    ev = RunEvaluator(compiled, "bot", 2, "sha256:x", "prod")
    history: list[PriorCall] = []
    counts: dict[str, int] = {}
    for step, (tool, args, outcome) in enumerate(calls):
        ctx = ToolCallContext(tool, args, None, "bot", 2, "sha256:x", "prod", dict(counts),
                              tuple(history), 0.5 * step, step)  # fmt: skip
        got = ev.decide(tool, args, history, counts, step=step, elapsed_s=0.5 * step)
        fresh = compiled.decide(ctx)
        # the same decision; when a rule errs, which earlier call's error is quoted may differ
        assert _shape(got) == _shape(fresh), (step, got.explanation, fresh.explanation)
        if not got.errors:
            assert got == fresh
        matched, failed = _plain(compiled, ctx)
        assert matched <= set(got.evaluated)  # the tool index never skips a matching rule
        failed &= set(got.evaluated)  # a rule of another tool is false whatever else errs
        assert {e.rule_id for e in got.errors} == failed, (step, got.explanation)
        assert {m.rule_id for m in got.matched} == matched - failed, (step, got.explanation)
        history.append(PriorCall(tool, args, outcome))
        counts[tool] = counts.get(tool, 0) + 1


def test_both_policies_decide_alike_on_a_long_history() -> None:
    script = [("lookup", {"id": "A1"}, "ok"), ("verify", {"id": "A1"}, "ok"),
              ("search", {"id": "A2"}, "error"), ("email", {"n": 3}, "ok")] * 30  # fmt: skip
    evs = [RunEvaluator(p) for p in POLICIES]
    history: list[PriorCall] = []
    counts: dict[str, int] = {}
    for tool, args, outcome in [*script, ("refund", {"id": "A1"}, "ok")]:
        a, b = (ev.decide(tool, args, history, counts, step=len(history)) for ev in evs)
        assert (a.effect, a.matched, a.errors) == (b.effect, b.matched, b.errors)
        history.append(PriorCall(tool, args, outcome))
        counts[tool] = counts.get(tool, 0) + 1
    assert a.effect.value == "allow" and a.matched == () and a.errors == ()  # A1 verified


def test_calls_usage_recognises_only_what_is_safe_to_compact() -> None:
    exists = 'run.calls.exists(c, c.tool == "v" && c.args.id == args.id)'
    assert calls_usage([exists]).distinct and calls_usage([exists]).tools == {"v"}
    assert calls_usage(['run.calls.all(c, c.tool == "v")']).tools is None  # all: not filtered
    assert calls_usage(['run.calls.all(c, c.tool == "v")']).distinct
    for whole in ("size(run.calls) > 1", 'run.calls.filter(c, c.tool == "v").size() > 1',
                  'run.calls.exists_one(c, c.tool == "v")', 'run["calls"].exists(c, true)',
                  'run.calls[0].tool == "v"', 'run.calls.exists(i, c, c.tool == "v")'):  # fmt: skip
        assert not calls_usage([exists, whole]).distinct, whole
    # the outer tool.name cannot be told from the element's: no tool filter
    assert calls_usage(["run.calls.exists(c, c.tool == tool.name)"]).tools is None


def _handed(data: dict[str, Any]) -> int:
    """How many history values a decision hands to CEL (lists under ``run``)."""
    return sum(len(v) for v in data["run"].values() if isinstance(v, list))


def test_the_history_handed_to_cel_does_not_grow_with_a_repetitive_run() -> None:
    compiled = POLICIES[0]
    plan = compiled.group_for("refund").plan
    sizes = []
    for n in (3, 30, 300):
        history = [PriorCall(TOOLS[i % 3], {"id": "A1"}, "ok") for i in range(n)]
        view = plan.new_view()
        data = plan.build({}, "refund", None, {"id": "A1"}, None, view, history, {}, n, 0.0)
        assert "calls" not in data["run"]  # every rule looks a value up: indexes
        sizes.append(_handed(data))
    assert sizes == [3, 3, 3]  # A1 verified, A1 looked up, {"id": "A1"} refunded
    whole = POLICIES[1].group_for("refund").plan
    data = whole.build({}, "refund", None, {"id": "A1"}, None, whole.new_view(),
                       history, {}, 300, 0.0)  # fmt: skip
    assert len(data["run"]["calls"]) == 300


def test_calls_of_tools_no_comprehension_can_match_are_left_out() -> None:
    rules = [
        ("more", 'tool.name == "refund" && run.calls.exists(c, c.tool == "verify" '
                 '&& c.args.n > args.n)', "deny"),
        ("again", 'tool.name == "refund" && run.calls.exists(c, (c.tool == "lookup" '
                  '|| c.tool == "search") && c.args.n < args.n)', "deny"),
    ]  # fmt: skip
    doc = {"name": "p", "rules": [{"id": i, "when": w, "effect": e} for i, w, e in rules]}
    plan = compile_policy(parse_policy_spec(doc, "p"), "p").group_for("refund").plan
    history = [PriorCall(t, {"n": 1}, "ok") for t in TOOLS] * 40
    data = plan.build({}, "refund", None, {"n": 2}, None, plan.new_view(), history, {}, 0, 0.0)
    assert sorted(c["tool"] for c in data["run"]["calls"]) == ["lookup", "search", "verify"]


def test_counts_over_run_calls_are_kept_per_run_not_recounted() -> None:
    plan = POLICIES[0].group_for("verify").plan
    view = plan.new_view()
    assert view is not None
    history = [PriorCall("lookup", {"n": 3}, "ok"), PriorCall("email", {"n": 1}, "error")] * 50
    data = plan.build({}, "verify", None, {}, None, view, history, {}, 100, 0.0)
    assert "calls" not in data["run"]  # any-tool's exists is an index here
    kept = data["run"].values()
    assert sorted(v for v in kept if type(v) is int) == [
        50,
        50,
        100,
    ]  # ok calls, calls with n > 2, all calls
    ev = RunEvaluator(POLICIES[0])
    d = ev.decide("verify", {}, history, {}, step=100)
    assert {m.rule_id for m in d.matched} == {"long", "many-ok", "n-count"}
    d = ev.decide("verify", {}, [*history, PriorCall("lookup", {"n": "x"})], {}, step=101)
    assert [e.rule_id for e in d.errors] == ["n-count"] and d.effect.value == "deny"


def test_an_index_made_unavailable_by_an_earlier_call_explains_itself() -> None:
    ev = RunEvaluator(POLICIES[0])
    d = ev.decide("refund", {"id": "A1"}, [PriorCall("verify", {}, "ok")], {}, step=1)
    assert d.effect.value == "deny"
    assert [e.rule_id for e in d.errors] == ["verified"]
    assert "agentdeck" not in d.errors[0].error  # the earlier call's own error, as written
    ctx = ToolCallContext("refund", {"id": "A1"}, calls=(PriorCall("verify", {}, "ok"),), step=1)
    assert d == POLICIES[0].decide(ctx)  # the same as the whole list gives
