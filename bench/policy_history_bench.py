"""Cost of one policy decision as the run grows: the guard's full path at 3 / 30 / 100 earlier calls.

Run:  .venv/bin/python bench/policy_history_bench.py [--repeats 15] [--loops 40]

The example support agent (examples/support-bot: its pinned 7-rule policy, two rules of
which are comprehensions over ``run.calls``) runs inside ``agentdeck.run`` with a
:class:`~agentdeck.policy.enforcer.PolicyGuard` installed, as ``agentdeck.init`` installs it.
Each repeat is a fresh run that first makes N real ``@tool`` calls, then calls
``issue_refund``. Two histories:

- ``two orders`` (the realistic case): a customer's run -- knowledge-base searches, each with
  a new query, and look-ups and identity checks of the customer's two orders;
- ``new order each time``: every look-up and identity check is for an order not seen
  before, so the distinct values the comprehensions ("was *this* order verified") look at
  grow with the run; they are answered from a per-run index of the order ids, not a walk. For that call the guard's ``check`` -- the SDK's whole
path: the evaluator's inputs built from the :class:`~agentdeck.tracing.sdk.guard.ToolCallInfo`,
the decision, the ``policy`` span recorded -- is timed ``--loops`` times in a row.

The first ``check`` of a run converts the earlier calls the policy had no reason to look
at yet (tools without rules are not decided), each once: work per earlier call, done once
per run, so it is left out of the timed loop, which is the steady state of a decision with
N earlier calls.

Figures are CPU time (``time.process_time``, the whole process) per decision, min / median /
max over the repeats, and the ratio of the medians at 100 and at 3 earlier calls (goal: at
most 1.5). Nothing is asserted about absolute times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from agentdeck.core.spec.agent import ResolvedAgent  # noqa: E402
from agentdeck.policy.enforcer import PolicyGuard  # noqa: E402
from agentdeck.registry.specfile import load_agent_spec, load_policy_spec  # noqa: E402
from agentdeck.tracing.sdk import api as sdk  # noqa: E402
from agentdeck.tracing.sdk.guard import ToolCallInfo  # noqa: E402

EX = ROOT / "examples" / "support-bot"
HISTORIES = (3, 30, 100)


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
def issue_refund(order_id: str, amount: float, reason: str) -> dict[str, Any]:
    return {"refund_id": "R1"}


def earlier_calls(n: int, orders: int) -> None:
    """``n`` finished calls: search, look up, verify, each order in turn (``orders`` of them,
    0: a new order every time); the first order is ORD-1001."""
    for i in range(n):
        order = f"ORD-{1001 + ((i // 3) % orders if orders else i // 3)}"
        kind = i % 3
        if kind == 0:
            search_kb(f"question number {i} about refunds")
        elif kind == 1:
            lookup_order(order)
        else:
            verify_identity(order, "jane@example.com")


class Source:
    def __init__(self) -> None:
        self.policy = load_policy_spec(EX / "policy.yaml")

    def get_policy(self, ref: str) -> Any:
        return self.policy


class TimedGuard(PolicyGuard):
    """The SDK's guard; for the ``issue_refund`` call, ``check`` is timed ``loops`` times."""

    loops = 40
    samples: list[float]

    def check(self, call: ToolCallInfo) -> None:
        if call.tool != "issue_refund":
            super().check(call)
            return
        super().check(call)  # catches the run's history up: see the module docstring
        sdk.flush(60)  # the earlier calls' spans are out of the way
        t0 = time.process_time()
        for _ in range(self.loops):
            super().check(call)
        self.samples.append((time.process_time() - t0) / self.loops)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15, help="runs per history length")
    ap.add_argument("--loops", type=int, default=40, help="timed decisions per run")
    opts = ap.parse_args()
    spec = load_agent_spec(EX / "agent.v1.yaml")
    agent = ResolvedAgent(spec.name, 1, spec.digest, spec, env="production")

    class Null:
        def write_batch(self, runs: Any, spans: Any) -> None:
            pass

    guard = TimedGuard(Source())
    guard.loops = opts.loops
    sdk.init(sink=Null(), guard=guard, spill_dir=tempfile.mkdtemp(prefix="agentdeck-bench-"),
             queue_size=1 << 18)  # fmt: skip
    try:
        for label, orders in (("two orders", 2), ("new order each time", 0)):
            table(label, guard, agent, orders, opts.repeats)
    finally:
        sdk.shutdown()


def table(label: str, guard: TimedGuard, agent: ResolvedAgent, orders: int, repeats: int) -> None:
    medians: dict[int, float] = {}
    print(f"\nguard.check on issue_refund, history: {label} (CPU us per decision)")
    print(f"{'earlier calls':<15}{'min':>9}{'median':>9}{'max':>9}")
    for i, n in enumerate((3, *HISTORIES)):
        guard.samples = []
        for _ in range(repeats):
            with sdk.run(agent=agent):
                earlier_calls(n, orders)
                issue_refund("ORD-1001", 40.0, "arrived damaged")
        if i == 0:
            continue  # a warm-up pass, not printed
        s = sorted(guard.samples)
        medians[n] = statistics.median(s)
        print(f"{n:<15}{s[0] * 1e6:>9.2f}{medians[n] * 1e6:>9.2f}{s[-1] * 1e6:>9.2f}")
    print(
        f"ratio of medians, 100 vs 3 earlier calls: {medians[100] / medians[3]:.2f} (goal <= 1.5)"
    )


if __name__ == "__main__":
    main()
