"""Start-up time of the ``agentdeck`` CLI: median wall time of ``agentdeck --help`` and of
``agentdeck runs --json`` on a fresh SQLite store, as ratios to ``python -c pass`` (the
interpreter's own start-up, measured in the same run), so the numbers carry across machines.

Each command runs as a real subprocess (``python -m agentdeck.cli.main`` with the same
interpreter, so the console script's shim costs nothing extra); the store is created and
migrated once before timing, so ``runs --json`` measures opening an existing store.
``BENCH_CLI_RUNS`` sets the number of timed runs per command (default 15).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _ratios import Ratio, emit

RUNS = int(os.environ.get("BENCH_CLI_RUNS", "15"))
CLI = [sys.executable, "-m", "agentdeck.cli.main"]


def _env(db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTDECK_")}
    env["AGENTDECK_DATABASE_URL"] = db_url
    env["COLUMNS"] = "120"
    return env


def _timings(argv: list[str], env: dict[str, str], cwd: Path) -> list[float]:
    """Wall times of ``RUNS`` runs after one warm-up (which fills the OS page cache and the
    .pyc files, as a user's second invocation would find them)."""
    times = []
    for i in range(RUNS + 1):
        t0 = time.perf_counter()
        proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
        dt = time.perf_counter() - t0
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode()}")
        if i:
            times.append(dt)
    return times


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="agentdeck-cli-bench-") as tmp:
        cwd = Path(tmp)
        env = _env(f"sqlite:///{cwd / 'bench.db'}")
        # Create and migrate the store once, outside the timing.
        subprocess.run([*CLI, "runs", "--json"], env=env, cwd=cwd, capture_output=True, check=True)
        base = _timings([sys.executable, "-c", "pass"], env, cwd)
        rows = [
            ("agentdeck --help", _timings([*CLI, "--help"], env, cwd)),
            ("agentdeck runs --json", _timings([*CLI, "runs", "--json"], env, cwd)),
        ]
    base_median = statistics.median(base)
    print(
        f"{RUNS} runs each; baseline python -c pass: median {base_median * 1000:.0f} ms, "
        f"min {min(base) * 1000:.0f} ms"
    )
    # The median is the figure; the min (against the baseline's min) shows the cost without
    # the noise of a busy machine.
    for label, times in rows:
        median = statistics.median(times)
        print(
            f"{label:<24} median {median * 1000:5.0f} ms = {median / base_median:5.1f}x baseline"
            f"   (min {min(times) * 1000:5.0f} ms = {min(times) / min(base):5.1f}x)"
        )
    emit("cli_startup", *(Ratio(f"{label}/python -c pass (median)",
                                statistics.median(t) / base_median) for label, t in rows))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
