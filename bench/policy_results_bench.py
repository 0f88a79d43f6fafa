"""Cost of a decision whose rule reads earlier results (``run.calls[i].result``), as the run grows.

Run:  .venv/bin/python bench/policy_results_bench.py [--repeats 15] [--loops 40]

One :class:`~agentdeck.core.policy.run.RunEvaluator` per run (as the SDK's guard keeps one),
the cancellation rule of docs/policies.md ("basic economy: cancel only with insurance or
within 24 h, as the earlier ``get_reservation_details`` result says"), and a history of N
earlier calls (3 / 30 / 100) alternating look-ups of new reservations (each result a
:class:`~agentdeck.core.policy.context.Deferred`, as the SDK hands them over) and other
tools. The first decision of a run converts the history (once per call) and is left out;
the timed loop is the steady state: ``decide`` on ``cancel_reservation`` with N earlier
calls. Figures are CPU time per decision (``time.process_time``), min / median / max over
the repeats, and the ratio of the medians at 100 and at 3 (goal: at most 1.5). Nothing is
asserted about absolute times.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from agentdeck.core.policy.context import Deferred, PriorCall  # noqa: E402
from agentdeck.core.policy.evaluate import RunEvaluator, compile_policy  # noqa: E402
from agentdeck.core.policy.spec import parse_policy_spec  # noqa: E402

RULE = (
    'tool.name == "cancel_reservation" && !run.calls.exists(c, '
    'c.tool == "get_reservation_details" && c.outcome == "ok" '
    "&& c.result.reservation_id == args.reservation_id "
    '&& (c.result.cabin != "basic_economy" || c.result.insurance == "yes" '
    "|| c.result.hours_since_booking < 24))"
)


def _history(n: int) -> list[PriorCall]:
    out: list[PriorCall] = []
    for i in range(n):
        if i % 2 == 0:
            rid = f"R{i}"
            result = {
                "reservation_id": rid,
                "cabin": "basic_economy",
                "insurance": "no",
                "hours_since_booking": 3 + i,
                "flights": [{"n": k} for k in range(4)],
            }
            out.append(
                PriorCall(
                    "get_reservation_details",
                    {"reservation_id": rid},
                    "ok",
                    Deferred(lambda r=result: r),
                )
            )
        else:
            out.append(PriorCall("search_flights", {"q": f"q{i}"}, "ok", Deferred(lambda: [])))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--loops", type=int, default=40)
    a = p.parse_args()
    doc: dict[str, Any] = {
        "name": "cancellations",
        "default_effect": "allow",
        "rules": [{"id": "basic-economy-cancel", "when": RULE, "effect": "deny"}],
    }
    compiled = compile_policy(parse_policy_spec(doc, "bench"), "cancellations@1")
    print("decide on cancel_reservation, rule reads earlier results (CPU us per decision)")
    print(f"{'earlier calls':<14} {'min':>8} {'median':>8} {'max':>8}")
    medians: dict[int, float] = {}
    for n in (3, 30, 100):
        per: list[float] = []
        for _ in range(a.repeats):
            ev = RunEvaluator(compiled, "bot", 1, "sha256:x", "prod")
            history = _history(n)
            args = {"reservation_id": "R0"}
            ev.decide("cancel_reservation", args, history, {}, step=n)  # converts the history
            t0 = time.process_time()
            for _ in range(a.loops):
                ev.decide("cancel_reservation", args, history, {}, step=n)
            per.append((time.process_time() - t0) / a.loops * 1e6)
        medians[n] = statistics.median(per)
        print(f"{n:<14} {min(per):>8.2f} {medians[n]:>8.2f} {max(per):>8.2f}")
    print(
        f"ratio of medians, 100 vs 3 earlier calls: {medians[100] / medians[3]:.2f} (goal <= 1.5)"
    )


if __name__ == "__main__":
    main()
