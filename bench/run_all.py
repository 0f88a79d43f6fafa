"""Run the benchmarks in bench/ (``make bench``) and print one table of their ratios.

Each benchmark runs ``--repeats`` times (``BENCH_REPEATS``, default 3), each time in a fresh
process; its own output is shown, and the ratios it reports (the ``BENCH-RATIOS`` line of
``bench/_ratios.py``) are gathered into one table of min / median / max over the repeats, so
the spread on a shared machine is visible instead of one flattering figure.

``sdk_overhead_bench.py`` predates that line: its two ratios are read from the lines it prints.

    python bench/run_all.py                      # every *_bench.py
    python bench/run_all.py policy server -r 5   # the benchmarks whose names contain these
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _ratios import Ratio, parse  # noqa: E402

#: Ratios printed by benchmarks that do not emit the common line: (bench, pattern, name, goal).
PRINTED = (
    ("sdk_overhead", re.compile(r"^ratio agentdeck/OTel overhead\s+([0-9.]+)"),
     "agentdeck/OTel per-call overhead", "<= 0.5"),
    ("sdk_overhead", re.compile(r"^ratio agentdeck/bare call\s+([0-9.]+)x"),
     "agentdeck @tool/bare call", ""),
)  # fmt: skip


def ratios_of(bench: str, output: str) -> list[Ratio]:
    """The ratios in one run's output: its ``BENCH-RATIOS`` lines, else the known printed ones."""
    found: list[Ratio] = []
    for line in output.splitlines():
        parsed = parse(line)
        if parsed is not None:
            found.extend(parsed[1])
            continue
        for name, pattern, label, goal in PRINTED:
            m = pattern.match(line.strip())
            if name == bench and m:
                found.append(Ratio(label, float(m.group(1)), goal))
    return found


def run_one(path: Path) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, str(path)], cwd=HERE.parent, capture_output=True, text=True, check=False
    )
    return proc.returncode, proc.stdout + proc.stderr


def table(rows: dict[tuple[str, str], list[float]], goals: dict[tuple[str, str], str]) -> str:
    head = f"{'benchmark':<18}{'ratio':<48}{'n':>3}{'min':>9}{'median':>9}{'max':>9}  goal"
    lines = [head, "-" * len(head)]
    for (bench, name), values in rows.items():
        lines.append(
            f"{bench:<18}{name:<48}{len(values):>3}{min(values):>9.3f}"
            f"{statistics.median(values):>9.3f}{max(values):>9.3f}  {goals[(bench, name)]}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("only", nargs="*", help="run only benchmarks whose file names contain these")
    ap.add_argument("-r", "--repeats", type=int, default=int(os.environ.get("BENCH_REPEATS", "3")))
    a = ap.parse_args(argv)
    paths = [
        p for p in sorted(HERE.glob("*_bench.py")) if not a.only or any(o in p.name for o in a.only)
    ]
    rows: dict[tuple[str, str], list[float]] = {}
    goals: dict[tuple[str, str], str] = {}
    failed: list[str] = []
    for path in paths:
        bench = path.name.removesuffix("_bench.py")
        for i in range(a.repeats):
            print(f"\n=== {path.name} ({i + 1}/{a.repeats}) ===", flush=True)
            code, output = run_one(path)
            print(output, end="", flush=True)
            if code != 0:
                failed.append(f"{path.name} (repeat {i + 1}: exit {code})")
                break
            for r in ratios_of(bench, output):
                rows.setdefault((bench, r.name), []).append(r.value)
                goals[(bench, r.name)] = r.goal
    print(
        f"\n=== ratios over {a.repeats} repeats (each measured against its baseline in the same run) ==="
    )
    print(table(rows, goals))
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
