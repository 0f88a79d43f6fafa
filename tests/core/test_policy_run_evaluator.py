"""RunEvaluator (one CEL context per run, history converted call by call) decides exactly as
CompiledPolicy.decide does on the equivalent context."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from agentdeck.core.policy.context import PriorCall, ToolCallContext
from agentdeck.core.policy.evaluate import RunEvaluator, compile_policy
from agentdeck.core.policy.spec import parse_policy_spec
from agentdeck.registry.specfile import load_yaml

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "support-bot" / "policy.yaml"
COMPILED = compile_policy(parse_policy_spec(load_yaml(EXAMPLE), str(EXAMPLE)), str(EXAMPLE))


def _run_decide(ev: RunEvaluator, ctx: ToolCallContext, calls: list[PriorCall]) -> object:
    return ev.decide(ctx.tool, ctx.args, calls, ctx.counts, tool_version=ctx.tool_version,
                     step=ctx.step, elapsed_s=ctx.elapsed_s, now=ctx.now,
                     cost_usd=ctx.cost_usd, tokens=ctx.tokens)  # fmt: skip


def test_every_example_case_gets_the_same_decision_as_decide() -> None:
    assert COMPILED.policy.tests
    for case in COMPILED.policy.tests:
        ctx = ToolCallContext.from_dict(case.call)
        ev = RunEvaluator(COMPILED, "support-bot", 1, "sha256:" + "a" * 64, "production")
        want = COMPILED.decide(
            ToolCallContext(**{**ctx.__dict__, "agent_name": "support-bot", "agent_version": 1,
                               "agent_digest": "sha256:" + "a" * 64, "env": "production"})
        )  # fmt: skip
        assert _run_decide(ev, ctx, list(ctx.calls)) == want, case.name


def test_a_growing_history_on_one_evaluator_matches_fresh_decisions() -> None:
    script = [
        ("issue_refund", {"order_id": "ORD-1", "amount": 20}),
        ("lookup_order", {"order_id": "ORD-1"}),
        ("verify_identity", {"order_id": "ORD-1", "email": "a@example.com"}),
        ("issue_refund", {"order_id": "ORD-1", "amount": 20}),
        ("issue_refund", {"order_id": "ORD-1", "amount": 250}),
        ("send_email", {"to": "a@example.com"}),
        ("send_email", {"to": "a@example.com"}),
        ("send_email", {"to": "a@example.com"}),
        ("send_email", {"to": "a@example.com"}),
        ("search_kb", {"query": "x"}),
        ("issue_refund", {"order_id": "ORD-1"}),
    ]
    ev = RunEvaluator(COMPILED, "support-bot", 1, "sha256:" + "a" * 64)
    calls: list[PriorCall] = []
    counts: dict[str, int] = {}
    effects = []
    now = datetime(2025, 1, 1, tzinfo=UTC)
    for step, (tool, args) in enumerate(script):
        fresh = COMPILED.decide(
            ToolCallContext(
                tool,
                args,
                None,
                "support-bot",
                1,
                "sha256:" + "a" * 64,
                "",
                dict(counts),
                tuple(calls),
                0.5 * step,
                step,
                now,
            )
        )
        got = ev.decide(tool, args, calls, counts, step=step, elapsed_s=0.5 * step, now=now)
        assert got == fresh, (step, got.explanation, fresh.explanation)
        effects.append(got.effect.value)
        calls.append(PriorCall(tool, args, "denied" if got.effect.value == "deny" else "ok"))
        counts[tool] = counts.get(tool, 0) + 1
    assert effects == ["deny", "allow", "allow", "allow", "require_approval", "allow", "allow",
                       "allow", "deny", "allow", "deny"]  # fmt: skip


def test_a_shorter_history_starts_the_conversion_over() -> None:
    ev = RunEvaluator(COMPILED)
    verified = [
        PriorCall("verify_identity", {"order_id": "ORD-1"}),
        PriorCall("lookup_order", {"order_id": "ORD-1"}),
    ]
    args = {"order_id": "ORD-1", "amount": 20}
    assert ev.decide("issue_refund", args, verified, {}).effect.value == "allow"
    assert ev.decide("issue_refund", args, [], {}).effect.value == "deny"
