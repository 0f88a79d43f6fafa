"""Policy decision benchmark: the cost of a policy check for a realistic 20-rule policy.

Run:  .venv/bin/python bench/policy_bench.py [--seconds 1.0] [--runs 300]

Measured in the same run, in CPU time of this process (steadier than wall time on a shared
machine), and printed with ratios:

- ``guard, full path``: what a guarded ``@agentdeck.tool`` call costs as the SDK runs it, i.e.
  the per-call CPU time of a run of eight tool calls (three earlier calls, then the mix) with
  the :class:`~agentdeck.policy.enforcer.PolicyGuard` on, minus the same run with no guard. It
  covers the policy context built from the call and the run's history, the decision (the
  guard's per-run ``RunEvaluator``), the approval (granted at once by a callback) for the
  refund the policy holds, and the ``policy`` span built and exported. This is the cost of a
  decision to quote.
- ``bare CompiledPolicy.decide``: the decision alone, on contexts built before the clock
  (rules indexed by tool, one CEL list program per tool, only the variables the rules read
  converted into CEL). Not the SDK's path: a lower bound.
- ``naive CEL``: every one of the 20 compiled rules executed on the full context, the way a
  straightforward use of the ``cel`` bindings would do it;
- ``plain Python``: a hand-written function with the same 20 checks, the floor any
  interpreter-based policy engine is compared with.

The goal in the design is under 20 us a decision. Bare timings are the median of several
repeats over a fixed mix of tool calls (refunds, e-mails, look-ups, searches).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _ratios import Ratio, cpu, emit

from agentdeck.core.policy import cel_engine
from agentdeck.core.policy.evaluate import ToolCallContext, compile_policy
from agentdeck.core.policy.spec import parse_policy_spec

DOMAIN = r"(?i)^[^@\s,;]+@(example\.com|support\.example\.com)$"

RULES: list[tuple[str, str, str]] = [
    (
        "refund-amount-positive",
        'tool.name == "issue_refund" && (!has(args.amount) || args.amount <= 0)',
        "deny",
    ),
    (
        "refund-hard-limit",
        'tool.name == "issue_refund" && has(args.amount) && args.amount > 500',
        "deny",
    ),
    (
        "refund-approval",
        'tool.name == "issue_refund" && has(args.amount) && args.amount > 100 && args.amount <= 500',
        "require_approval",
    ),
    (
        "verify-before-refund",
        'tool.name == "issue_refund" && !run.calls.exists(c, c.tool == "verify_identity" && c.outcome == "ok" && c.args.order_id == args.order_id)',
        "deny",
    ),
    (
        "refund-unlooked",
        'tool.name == "issue_refund" && !run.calls.exists(c, c.tool == "lookup_order" && c.args.order_id == args.order_id)',
        "warn",
    ),
    (
        "refund-reason",
        'tool.name == "issue_refund" && (!has(args.reason) || size(args.reason) < 3)',
        "deny",
    ),
    (
        "refund-once",
        'tool.name == "issue_refund" && run.counts["issue_refund"] >= 1',
        "require_approval",
    ),
    (
        "email-domain",
        f"tool.name == \"send_email\" && (!has(args.to) || !args.to.matches(r'{DOMAIN}'))",
        "deny",
    ),
    ("email-budget", 'tool.name == "send_email" && run.counts["send_email"] >= 3', "deny"),
    (
        "email-body-size",
        'tool.name == "send_email" && has(args.body) && size(args.body) > 5000',
        "deny",
    ),
    (
        "email-subject",
        'tool.name == "send_email" && (!has(args.subject) || args.subject == "")',
        "warn",
    ),
    (
        "lookup-format",
        "tool.name == \"lookup_order\" && !args.order_id.matches(r'^ORD-[0-9]{4,}$')",
        "deny",
    ),
    ("lookup-budget", 'tool.name == "lookup_order" && run.counts["lookup_order"] >= 10', "warn"),
    ("verify-email", 'tool.name == "verify_identity" && !args.email.contains("@")', "deny"),
    (
        "verify-retries",
        'tool.name == "verify_identity" && run.counts["verify_identity"] >= 3',
        "deny",
    ),
    ("kb-top-k", 'tool.name == "search_kb" && has(args.top_k) && args.top_k > 10', "deny"),
    ("kb-query", 'tool.name in ["search_kb"] && size(args.query) == 0', "deny"),
    ("long-run", "run.step >= 40", "require_approval"),
    ("slow-run", "run.elapsed_s > 600.0", "warn"),
    ("prod-pinned", 'env == "production" && agent.digest == ""', "deny"),
]


def policy_doc() -> dict[str, Any]:
    return {
        "name": "bench-policy",
        "default_effect": "allow",
        "rules": [{"id": i, "when": w, "effect": e, "message": i} for i, w, e in RULES],
    }


AGENT = {"name": "support-bot", "version": 3, "digest": "sha256:" + "ab" * 32}
HISTORY = [
    {"tool": "search_kb", "args": {"query": "refund policy damaged item"}, "outcome": "ok"},
    {"tool": "lookup_order", "args": {"order_id": "ORD-1001"}, "outcome": "ok"},
    {
        "tool": "verify_identity",
        "args": {"order_id": "ORD-1001", "email": "jane@example.com"},
        "outcome": "ok",
    },
]
CALLS: list[dict[str, Any]] = [
    {
        "tool": "issue_refund",
        "args": {"order_id": "ORD-1001", "amount": 129.5, "reason": "arrived damaged"},
    },
    {
        "tool": "send_email",
        "args": {
            "to": "jane@example.com",
            "subject": "Your refund",
            "body": "Dear Jane, your refund of 129.50 EUR is on its way. " * 4,
        },
    },
    {"tool": "lookup_order", "args": {"order_id": "ORD-1001"}},
    {"tool": "search_kb", "args": {"query": "how long do refunds take", "top_k": 5}},
    {"tool": "verify_identity", "args": {"order_id": "ORD-1001", "email": "jane@example.com"}},
]


def contexts() -> list[ToolCallContext]:
    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC).isoformat()
    return [
        ToolCallContext.from_dict(
            {
                **c,
                "agent": AGENT,
                "env": "production",
                "run": {"calls": HISTORY, "elapsed_s": 12.5},
                "now": now,
            }
        )
        for c in CALLS
    ]


_ORDER = re.compile(r"^ORD-[0-9]{4,}$")
_MAIL = re.compile(DOMAIN[4:], re.IGNORECASE)


def plain_python(ctx: ToolCallContext) -> str:
    """The same 20 checks written by hand; returns the most severe effect."""
    a, t, n = ctx.args, ctx.tool, ctx.counts
    hits: list[str] = []
    if t == "issue_refund":
        amt = a.get("amount")
        if amt is None or amt <= 0 or amt > 500:
            hits.append("deny")
        elif amt > 100:
            hits.append("require_approval")
        oid = a.get("order_id")
        if not any(
            c.tool == "verify_identity" and c.outcome == "ok" and c.args.get("order_id") == oid
            for c in ctx.calls
        ):
            hits.append("deny")
        if not any(c.tool == "lookup_order" and c.args.get("order_id") == oid for c in ctx.calls):
            hits.append("warn")
        if len(a.get("reason") or "") < 3:
            hits.append("deny")
        if n.get("issue_refund", 0) >= 1:
            hits.append("require_approval")
    elif t == "send_email":
        if (
            "to" not in a
            or not _MAIL.match(a["to"])
            or n.get("send_email", 0) >= 3
            or len(a.get("body", "")) > 5000
        ):
            hits.append("deny")
        if not a.get("subject"):
            hits.append("warn")
    elif t == "lookup_order":
        if not _ORDER.match(a["order_id"]):
            hits.append("deny")
        if n.get("lookup_order", 0) >= 10:
            hits.append("warn")
    elif t == "verify_identity":
        if "@" not in a["email"] or n.get("verify_identity", 0) >= 3:
            hits.append("deny")
    elif t == "search_kb" and (a.get("top_k", 0) > 10 or len(a["query"]) == 0):
        hits.append("deny")
    if ctx.step >= 40:
        hits.append("require_approval")
    if ctx.elapsed_s > 600:
        hits.append("warn")
    if ctx.env == "production" and not ctx.agent_digest:
        hits.append("deny")
    order = ["allow", "warn", "require_approval", "deny"]
    return max(hits, key=order.index) if hits else "allow"


def per_call(
    fn: Callable[[ToolCallContext], Any], ctxs: list[ToolCallContext], seconds: float
) -> float:
    """Median CPU seconds per call over repeats of the whole mix."""
    for c in ctxs:  # warm up
        fn(c)
    loops = 1
    while True:
        t0 = cpu()
        for _ in range(loops):
            for c in ctxs:
                fn(c)
        if cpu() - t0 > seconds / 10:
            break
        loops *= 2
    samples = []
    for _ in range(7):
        t0 = cpu()
        for _ in range(loops):
            for c in ctxs:
                fn(c)
        samples.append((cpu() - t0) / (loops * len(ctxs)))
    return statistics.median(samples)


# -- the guard's full path, as the SDK runs it -------------------------------------------------


def issue_refund(order_id: str, amount: float, reason: str) -> str:
    return "issued"


def send_email(to: str, subject: str, body: str) -> str:
    return "sent"


def lookup_order(order_id: str) -> dict[str, str]:
    return {"status": "shipped"}


def search_kb(query: str, top_k: int = 5) -> list[str]:
    return ["refunds take 5 days"]


def verify_identity(order_id: str, email: str) -> bool:
    return True


TOOLS = (issue_refund, send_email, lookup_order, search_kb, verify_identity)
RUN_CALLS = [{"tool": c["tool"], "args": c["args"]} for c in HISTORY] + CALLS


class _Sink:
    """Counts the spans delivered, by kind, and keeps none."""

    def __init__(self) -> None:
        self.kinds: dict[str, int] = {}

    def write_batch(self, runs: Any, spans: Any) -> None:
        for span in spans:
            self.kinds[span.kind.value] = self.kinds.get(span.kind.value, 0) + 1


def sdk_path(runs: int, guarded: bool, samples: int = 5) -> tuple[float, dict[str, int]]:
    """Median CPU seconds per ``@tool`` call of the run above, with the policy guard or none."""
    import tempfile

    from agentdeck.core.spec.agent import AgentSpec, ModelSpec, ResolvedAgent, ToolSpec
    from agentdeck.policy.approvals import CallbackApprover
    from agentdeck.policy.enforcer import PolicyGuard
    from agentdeck.tracing.sdk import api as sdk

    policy = parse_policy_spec(policy_doc(), "bench-policy")

    class Source:
        def get_policy(self, ref: str) -> Any:
            return policy

    spec = AgentSpec(
        name=str(AGENT["name"]), model=ModelSpec("openai", "gpt-4o-2024-08-06"),
        tools=tuple(ToolSpec(f.__name__) for f in TOOLS), policy="bench-policy@1",
    )  # fmt: skip
    agent = ResolvedAgent(spec.name, 3, spec.digest, spec, env="production")
    fns = {f.__name__: sdk.tool(f) for f in TOOLS}
    guard = PolicyGuard(Source(), CallbackApprover(lambda request: True)) if guarded else None
    sink = _Sink()
    samples_s: list[float] = []
    with tempfile.TemporaryDirectory() as spill:
        sdk.init(sink=sink, spill_dir=spill, guard=guard, queue_size=1 << 16, batch_size=512)
        try:
            for i in range(samples + 1):  # the first pass warms up (compiles the policy)
                c0 = cpu()
                for _ in range(runs):
                    with sdk.run(agent=agent, input="bench"):
                        for c in RUN_CALLS:
                            fns[c["tool"]](**c["args"])
                assert sdk.flush(120), "exporter did not drain"
                if i:
                    samples_s.append((cpu() - c0) / (runs * len(RUN_CALLS)))
            stats = sdk.stats()
        finally:
            sdk.shutdown()
    assert stats is not None and stats.dropped == 0 and stats.lost == 0, stats
    return statistics.median(samples_s), sink.kinds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="rough time budget per measurement")
    ap.add_argument("--runs", type=int, default=300, help="runs of 8 tool calls per guard sample")
    opts = ap.parse_args()

    policy = parse_policy_spec(policy_doc(), "bench-policy")
    t0 = time.perf_counter()
    compiled = compile_policy(policy, "bench-policy")
    compile_ms = (time.perf_counter() - t0) * 1e3
    ctxs = contexts()

    # Sanity: the engine and the hand-written checks agree on every call of the mix.
    for c in ctxs:
        d = compiled.decide(c)
        assert not d.errors, d.explanation
        assert d.effect.value == plain_python(c), (c.tool, d.effect, plain_python(c))

    naive_programs = [r.program for r in compiled.rules]

    def naive(ctx: ToolCallContext) -> list[Any]:
        data = ctx.variables(compiled.zero_counts)
        out = []
        for p in naive_programs:
            try:
                out.append(cel_engine.evaluate(p, data))
            except Exception as exc:
                out.append(exc)
        return out

    t_engine = per_call(compiled.decide, ctxs, opts.seconds)
    t_naive = per_call(naive, ctxs, opts.seconds)
    t_plain = per_call(plain_python, ctxs, opts.seconds)
    t_on, kinds = sdk_path(opts.runs, guarded=True)
    t_off, _ = sdk_path(opts.runs, guarded=False)
    calls = opts.runs * len(RUN_CALLS) * 6
    assert kinds.get("policy", 0) == calls, (kinds, calls)  # one policy span per guarded call
    t_guard = t_on - t_off

    print(
        f"policy: {len(RULES)} rules, compiled in {compile_ms:.1f} ms; mix of {len(ctxs)} calls "
        f"({', '.join(c.tool for c in ctxs)}), {len(HISTORY)} earlier calls each"
    )
    print(f"{'engine (CPU time)':<44}{'us/decision':>12}{'decisions/s':>14}{'x plain':>10}")
    for label, t in (
        ("agentdeck guard, full path (SDK, per call)", t_guard),
        ("bare CompiledPolicy.decide (prebuilt ctx)", t_engine),
        ("naive CEL (all 20 rules, full ctx)", t_naive),
        ("plain Python (same 20 checks)", t_plain),
    ):
        print(f"{label:<44}{t * 1e6:>12.2f}{1 / t:>14,.0f}{t / t_plain:>10.1f}")
    print(
        f"  (@tool call with the guard {t_on * 1e6:.2f} us, without {t_off * 1e6:.2f} us; "
        f"{len(RUN_CALLS)} calls a run, the refund held for approval and granted)"
    )
    print(
        f"bare decide vs naive CEL: {t_naive / t_engine:.1f}x faster; goal < 20 us/decision "
        f"(guard, full path): {'met' if t_guard < 20e-6 else 'NOT met'} ({t_guard * 1e6:.1f} us)"
    )
    emit(
        "policy",
        Ratio("guard full path/plain Python", t_guard / t_plain),
        Ratio("bare decide/plain Python", t_engine / t_plain),
        Ratio("guard full path/bare decide", t_guard / t_engine),
        Ratio("naive CEL/bare decide", t_naive / t_engine),
    )
    for c in ctxs:
        t = per_call(compiled.decide, [c], opts.seconds / 5)
        print(
            f"  {c.tool:<16} {t * 1e6:6.2f} us  ({len(compiled.rules_for(c.tool))} rules evaluated)"
        )


if __name__ == "__main__":
    main()
