"""How many runs a canary needs to catch a regression, and how often it rolls back by mistake.

Run:  .venv/bin/python bench/canary_detection.py [--seeds 50]

Simulated with :func:`agentdeck.core.deploy.simulate.simulate` (pure, seeded): the env's
default guard rails (nine metrics, alpha 0.05 split evenly), a 10 % step long enough never to
advance, and arms that differ only in:

- outcome: a 5-point drop in the outcome success rate (90 % -> 85 %);
- refund tool: runs with a failed tool call 1 % -> 6 %;
- identical: nothing (every rollback is a false one).

For each: the candidate-arm runs (and all runs) at the rollback, min / median / max over the
seeds, and how many seeds rolled back. These are counts, not times: nothing here depends on
the machine. The canary looks after every run (the sequential test allows it), so a count is
the run at which a server judging continuously would have acted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from agentdeck.core.deploy.canary import canary_config  # noqa: E402
from agentdeck.core.deploy.simulate import ArmModel, simulate  # noqa: E402

SCENARIOS = {
    "outcome -5 points": (ArmModel(outcome_success=0.90), ArmModel(outcome_success=0.85)),
    "refund tool errors +5 points": (ArmModel(tool_error=0.01), ArmModel(tool_error=0.06)),
    "identical": (ArmModel(), ArmModel()),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=50)
    ap.add_argument("--max-candidate-runs", type=int, default=3000)
    args = ap.parse_args()
    cfg = canary_config(
        {
            "plan": [{"share": 10, "min_runs": args.max_candidate_runs}, {"share": 100}],
            "tune_runs": 500,
        }
    )
    print(f"alpha {cfg.alpha} over {len(cfg.guardrails)} guard rails; 10 % of traffic; "
          f"{args.seeds} seeds; at most {args.max_candidate_runs} candidate runs")  # fmt: skip
    for name, (stable, cand) in SCENARIOS.items():
        t = time.process_time()
        res = [simulate(cfg, stable, cand, seed) for seed in range(args.seeds)]
        caught = [r for r in res if r.rolled_back]
        line = f"{name:30s} rolled back {len(caught):3d}/{len(res)}"
        if caught:
            c = sorted(r.candidate_runs for r in caught)
            a = sorted(r.runs for r in caught)
            line += (
                f"  candidate runs min {c[0]} median {statistics.median(c):.0f} max {c[-1]}"
                f"  (all runs median {statistics.median(a):.0f})"
            )
        print(f"{line}  [{time.process_time() - t:.1f} s CPU]")


if __name__ == "__main__":
    main()
