"""``agentdeck policy simulate`` speed: recorded tool calls decided per second, on SQLite.

Run:  .venv/bin/python bench/policy_simulate_bench.py   (BENCH_RUNS sets the run count)

Not timed: BENCH_RUNS runs of the example support agent are recorded through the real SDK
with its pinned policy (support-refunds@1) enforced, into a fresh SQLite store (7 tool calls
a run, some refunds denied before verification, a policy span per decision).

Timed, in the same run:

- ``read``: the runs' spans read with ``Store.get_runs_with_spans`` in the batches simulate
  uses, nothing else (the floor: simulate must read them);
- ``simulate v1``: the pinned version itself (every recorded decision must be reproduced);
- ``simulate v2``: a stricter version (approval from 50 instead of 100).

Printed as calls/s and as a ratio to reading alone; nothing is asserted about absolute times.

Timed in CPU seconds of this process (``time.process_time``): steadier than wall time on a
shared machine; rates are per CPU-second.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from agentdeck.core.errors import PolicyDenied  # noqa: E402
from agentdeck.core.policy.spec import PolicySet, parse_policy_spec  # noqa: E402
from agentdeck.core.spec.agent import ResolvedAgent  # noqa: E402
from agentdeck.core.trace.query import RunQuery  # noqa: E402
from agentdeck.policy.approvals import CallbackApprover  # noqa: E402
from agentdeck.policy.enforcer import PolicyGuard, RegistryPolicySource  # noqa: E402
from agentdeck.policy.simulate import BATCH_RUNS, simulate  # noqa: E402
from agentdeck.registry.service import Registry  # noqa: E402
from agentdeck.registry.specfile import load_agent_spec  # noqa: E402
from agentdeck.store import SqlStore  # noqa: E402
from agentdeck.store.engine import create_store_engine  # noqa: E402
from agentdeck.tracing.sdk import api as sdk  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from _ratios import Ratio, emit  # noqa: E402

EX = ROOT / "examples" / "support-bot"
RUNS = int(os.environ.get("BENCH_RUNS", "2000"))


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
    return {"status": "issued"}


@sdk.tool
def send_email(to: str, subject: str, body: str) -> dict[str, Any]:
    return {"message_id": "m1"}


def record(store: SqlStore, runs: int, spill: str) -> None:
    import yaml

    reg = Registry(store)
    with open(EX / "policy.yaml") as fh:
        reg.register_policy(parse_policy_spec(yaml.safe_load(fh), "policy.yaml"), "bench")
    spec = load_agent_spec(EX / "agent.v1.yaml")
    version, _ = reg.register_agent(spec, "bench")
    agent = ResolvedAgent(spec.name, version.version, spec.digest, spec, env="production")
    guard = PolicyGuard(RegistryPolicySource(reg), CallbackApprover(lambda r: True, "bench"))
    sdk.init(sink=store, guard=guard, spill_dir=spill, queue_size=1 << 18)
    try:
        for i in range(runs):
            order = f"ORD-{1000 + i}"
            with sdk.run(agent=agent, input={"q": "refund"}):
                lookup_order(order)
                search_kb("refund policy")
                if i % 3 == 0:  # before verification: denied, and recorded as such
                    with contextlib.suppress(PolicyDenied):
                        issue_refund(order, 40.0, "damaged")
                verify_identity(order, "jane@example.com")
                issue_refund(order, float(20 + (i % 7) * 40), "damaged")
                send_email("jane@example.com", "Your refund", "On its way.")
        assert sdk.flush(120), "exporter did not drain"
    finally:
        sdk.shutdown()


def stricter(policy: PolicySet) -> PolicySet:
    doc: dict[str, Any] = {
        "name": policy.name,
        "default_effect": policy.default_effect.value,
        "rules": [
            {"id": r.id, "when": r.when.replace("> 100", "> 50"), "effect": r.effect.value,
             "message": r.message}
            for r in policy.rules
        ],
    }  # fmt: skip
    return parse_policy_spec(doc, "v2")


def median_s(fn: Any, repeats: int = 3) -> float:
    samples = []
    for _ in range(repeats):
        t0 = time.process_time()
        fn()
        samples.append(time.process_time() - t0)
    return statistics.median(samples)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = SqlStore(create_store_engine(f"sqlite:///{Path(tmp) / 'sim.db'}"))
        record(store, RUNS, tmp)
        v1 = Registry(store).get_policy("support-refunds@1").policy
        v2 = stricter(v1)
        query = RunQuery(agent_name="support-bot", limit=RUNS)
        ids = [r.trace_id for r in store.find_runs(query)]

        def read() -> None:
            for i in range(0, len(ids), BATCH_RUNS):
                store.get_runs_with_spans(ids[i : i + BATCH_RUNS])

        first = simulate(store, v1, query, label="v1")
        assert first.summary.changed == 0, "the pinned version must reproduce every decision"
        second = simulate(store, v2, query, label="v2")
        calls = first.summary.calls
        t_read = median_s(read)
        t_v1 = median_s(lambda: simulate(store, v1, query, label="v1"))
        t_v2 = median_s(lambda: simulate(store, v2, query, label="v2"))
        store.close()
    print(f"{RUNS} recorded runs, {calls} tool calls (policy spans included in the store)")
    print(f"{'':<34}{'seconds':>9}{'calls/s':>11}{'x read':>8}")
    for label, t in (("read spans only (floor)", t_read), ("simulate v1 (pinned)", t_v1),
                     ("simulate v2 (stricter)", t_v2)):  # fmt: skip
        print(f"{label:<34}{t:>9.2f}{calls / t:>11,.0f}{t / t_read:>8.2f}")
    emit("policy_simulate", Ratio("simulate v1/read spans (CPU)", t_v1 / t_read),
         Ratio("simulate v2/read spans (CPU)", t_v2 / t_read))  # fmt: skip
    print(f"v1 reproduced every recorded decision; v2 changes {second.summary.changed} calls "
          f"({', '.join(f'{k} {v}' for k, v in second.summary.changes.items())})")  # fmt: skip


if __name__ == "__main__":
    main()
