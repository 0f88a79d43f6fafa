"""Cost of policy enforcement on a ``@tool`` call, measured against the same call without it.

Run:  .venv/bin/python bench/policy_tool_bench.py [--seconds 1.0]

In the same run, a run of the example support agent (examples/support-bot: the policy's
7 rules, the agent's tools) calls a tool mix inside ``agentdeck.run``:

- ``no guard``: ``@tool`` with tracing only (the baseline);
- ``PolicyGuard``: the pinned policy enforced before every call, with the per-run
  :class:`RunEvaluator` (agent and environment built once per run, each earlier call cut
  down to what the rules read once), and a policy span recorded for every decision;
- ``PolicyGuard, fresh context``: the same guard deciding with ``CompiledPolicy.decide`` on a
  freshly built :class:`ToolCallContext` each call, to show what the per-run state saves.

Each figure is the median over repeats that end with ``sdk.flush()``, as wall time and as the
process's CPU time (both threads: the exporter building and delivering the extra policy span
shares the GIL with the caller).

It also times the two decision paths alone on the 20-rule policy of bench/policy_bench.py with
a run history of 3 and of 30 earlier calls. Printed as us per call and ratios; nothing is
asserted about absolute times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from _ratios import Ratio, emit  # noqa: E402

from agentdeck.core.policy.context import PriorCall, ToolCallContext  # noqa: E402
from agentdeck.core.policy.evaluate import CompiledPolicy, Decision, RunEvaluator, compile_policy  # noqa: E402
from agentdeck.core.policy.spec import parse_policy_spec  # noqa: E402
from agentdeck.core.spec.agent import ResolvedAgent  # noqa: E402
from agentdeck.policy import enforcer  # noqa: E402
from agentdeck.policy.enforcer import PolicyGuard  # noqa: E402
from agentdeck.registry.specfile import load_agent_spec, load_policy_spec  # noqa: E402
from agentdeck.tracing.sdk import api as sdk  # noqa: E402
from agentdeck.tracing.sdk.guard import ToolCallInfo  # noqa: E402

EX = ROOT / "examples" / "support-bot"


@sdk.tool
def lookup_order(order_id: str) -> dict[str, Any]:
    return {"order_id": order_id, "status": "delivered"}


@sdk.tool
def verify_identity(order_id: str, email: str) -> dict[str, Any]:
    return {"verified": True}


@sdk.tool
def search_kb(query: str) -> dict[str, Any]:
    return {"results": []}


@sdk.tool
def send_email(to: str, subject: str, body: str) -> dict[str, Any]:
    return {"message_id": "m1"}


def one_run(agent: ResolvedAgent) -> None:
    with sdk.run(agent=agent):
        search_kb("refund policy")
        lookup_order("ORD-1001")
        verify_identity("ORD-1001", "jane@example.com")
        send_email("jane@example.com", "Your refund", "On its way.")
        lookup_order("ORD-1001")
        search_kb("delivery times")


CALLS_PER_RUN = 6


class FreshContextGuard(PolicyGuard):
    """The enforcer deciding with a fresh ToolCallContext per call (no per-run state)."""

    def _decide(self, call: ToolCallInfo, compiled: CompiledPolicy) -> Decision:
        agent = call.agent
        assert agent is not None
        ctx = ToolCallContext(
            call.tool, call.args, call.tool_version, agent.name, agent.version, agent.digest,
            call.env or "", dict(call.run.counts),
            tuple(PriorCall(r.name, r.args, r.outcome.value) for r in call.run.calls),
            call.elapsed_s, call.step,
        )  # fmt: skip
        return compiled.decide(ctx)


class Source:
    def __init__(self) -> None:
        self.policy = load_policy_spec(EX / "policy.yaml")

    def get_policy(self, ref: str) -> Any:
        return self.policy


def median_time(fn: Callable[[], Any], seconds: float, per: int) -> float:
    fn()
    loops = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        if time.perf_counter() - t0 > seconds / 10:
            break
        loops *= 2
    samples = []
    for _ in range(7):
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        samples.append((time.perf_counter() - t0) / (loops * per))
    return statistics.median(samples)


def cost_per_call(fn: Callable[[], Any], seconds: float, per: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds per call over repeats, each ending with ``sdk.flush()`` so
    the exporter's work for those calls (it shares the GIL) is counted; CPU is the process's,
    both threads."""
    fn()
    sdk.flush(60)
    loops = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(loops):
            fn()
        sdk.flush(60)
        if time.perf_counter() - t0 > seconds / 10:
            break
        loops *= 2
    walls, cpus = [], []
    for _ in range(7):
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(loops):
            fn()
        sdk.flush(60)
        walls.append((time.perf_counter() - w0) / (loops * per))
        cpus.append((time.process_time() - c0) / (loops * per))
    return statistics.median(walls), statistics.median(cpus)


def tool_calls(seconds: float) -> None:
    spec = load_agent_spec(EX / "agent.v1.yaml")
    agent = ResolvedAgent(spec.name, 1, spec.digest, spec, env="production")

    class Null:
        def write_batch(self, runs: Any, spans: Any) -> None:
            pass

    spill = tempfile.mkdtemp(prefix="agentdeck-bench-")
    results: dict[str, tuple[float, float]] = {}
    for label, guard in (
        ("no guard", None),
        ("PolicyGuard (per-run state)", PolicyGuard(Source())),
        ("PolicyGuard, fresh context", FreshContextGuard(Source())),
    ):
        sdk.init(sink=Null(), guard=guard, spill_dir=spill, queue_size=1 << 18)
        try:
            results[label] = cost_per_call(lambda: one_run(agent), seconds, CALLS_PER_RUN)
        finally:
            sdk.shutdown()
    base_wall, base_cpu = results["no guard"]
    print(f"@tool call, example agent + policy ({CALLS_PER_RUN} calls a run, inside agentdeck.run;")
    print(" each decision also recorded as a policy span; exporter work included)")
    print(f"{'':<32}{'wall us':>9}{'x no guard':>12}{'CPU us':>9}{'x no guard':>12}")
    for label, (wall, cpu) in results.items():
        print(
            f"{label:<32}{wall * 1e6:>9.2f}{wall / base_wall:>12.2f}"
            f"{cpu * 1e6:>9.2f}{cpu / base_cpu:>12.2f}"
        )
    emit("policy_tool", *(Ratio(f"@tool with {label}/no guard (CPU)", cpu / base_cpu)
                          for label, (_, cpu) in results.items() if label != "no guard"))  # fmt: skip


def decisions(seconds: float) -> None:
    from policy_bench import CALLS, HISTORY, policy_doc

    compiled = compile_policy(parse_policy_spec(policy_doc(), "bench"), "bench")
    agent = ("support-bot", 3, "sha256:" + "ab" * 32)
    print("\n20-rule policy (bench/policy_bench.py), one decision over its 5-call mix:")
    print(f"{'history':<10}{'decide, fresh ctx':>20}{'RunEvaluator':>15}{'ratio':>8}")
    for n in (3, 30):
        hist = [PriorCall(h["tool"], h["args"], h["outcome"]) for h in (HISTORY * 10)[:n]]
        counts: dict[str, int] = {}
        for h in hist:
            counts[h.tool] = counts.get(h.tool, 0) + 1
        ctxs = [
            ToolCallContext(
                c["tool"], c["args"], None, *agent, "production", counts, tuple(hist), 12.5, n
            )
            for c in CALLS
        ]
        ev = RunEvaluator(compiled, *agent, "production")

        def fresh(ctxs: list[ToolCallContext] = ctxs) -> None:
            for c in ctxs:
                compiled.decide(c)

        def per_run(
            ctxs: list[ToolCallContext] = ctxs,
            ev: RunEvaluator = ev,
            hist: list[PriorCall] = hist,
            counts: dict[str, int] = counts,
            n: int = n,
        ) -> None:
            for c in ctxs:
                ev.decide(c.tool, c.args, hist, counts, step=n, elapsed_s=12.5)

        for c in ctxs:  # same answers
            assert ev.decide(
                c.tool, c.args, hist, counts, step=n, elapsed_s=12.5
            ) == compiled.decide(c)
        a = median_time(fresh, seconds, len(ctxs))
        b = median_time(per_run, seconds, len(ctxs))
        print(f"{n:<10}{a * 1e6:>17.2f} us{b * 1e6:>12.2f} us{a / b:>8.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=1.0, help="rough time budget per measurement")
    opts = ap.parse_args()
    assert enforcer  # imported for the guard classes
    tool_calls(opts.seconds)
    decisions(opts.seconds)


if __name__ == "__main__":
    main()
