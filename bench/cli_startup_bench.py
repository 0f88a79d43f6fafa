"""Start-up time of the ``agentdeck`` CLI's read-only commands, as ratios to ``python -c pass``
(the interpreter's own start-up, measured in the same run), so the numbers carry across
machines. Goal (issue 17): every command below under 10x.

Each command runs as a real subprocess (``python -m agentdeck.cli.main`` with the same
interpreter, so the console script's shim costs nothing extra) against a SQLite store that
is created, migrated and seeded (the example agent promoted to dev, its policy, one run)
before timing, so the commands measure opening an existing store at head: the read commands
below take their fast read paths (:mod:`agentdeck.cli.fast`: read-only ``sqlite3``, no Typer,
pydantic or SQLAlchemy), ``--help`` builds the whole Typer app. Commands and the
baseline are interleaved round by round, so a burst of load on the shared machine hits them
alike. For each command the bench prints min / median / max over the rounds of its time
divided by the baseline's median, and the goal, in wall time and in CPU time (user +
system of the child: on a shared machine the wall-clock baseline swings 2x with the
neighbours' load, CPU time much less). ``BENCH_CLI_RUNS`` sets the number of rounds
(default 15). ``AGENTDECK_DATABASE_URL`` is left unset: the store is the default
``.agentdeck/agentdeck.db`` of the working directory, as a user's would be.
``BENCH_CLI_FULL=1`` sets it to that store's URL instead, which makes every fast read path
step aside: the figures are then those of the full commands (Typer, the SQLAlchemy store).
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _ratios import Ratio, emit

RUNS = int(os.environ.get("BENCH_CLI_RUNS", "15"))
FULL = os.environ.get("BENCH_CLI_FULL") == "1"
GOAL = 10.0
CLI = [sys.executable, "-m", "agentdeck.cli.main"]
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "support-bot"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTDECK_")}
    env["COLUMNS"] = "120"
    return env


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of ``argv``."""
    c0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, check=False)
    dt, dc = time.perf_counter() - t0, _children_cpu() - c0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode()}")
    return dt, dc


def _seed(env: dict[str, str], cwd: Path) -> str:
    """Register and promote the example agent and its policy, and store one run; return the
    run's trace id."""
    for argv in (
        ["policy", "register", str(EXAMPLES / "policy.yaml")],
        ["register", str(EXAMPLES / "agent.v1.yaml")],
        ["promote", "support-bot@1", "--to", "dev"],
    ):
        subprocess.run([*CLI, *argv], env=env, cwd=cwd, capture_output=True, check=True)
    from agentdeck.core.trace.model import (
        Run,
        Span,
        SpanKind,
        SpanStatus,
        new_span_id,
        new_trace_id,
    )
    from agentdeck.store import open_store

    tid, root, t0 = new_trace_id(), new_span_id(), time.time_ns()
    span = Span(tid, root, None, "support-bot", SpanKind.AGENT, t0, t0 + 1_000_000, 0,
                SpanStatus.OK, attributes={"agent.name": "support-bot"})  # fmt: skip
    run = Run(trace_id=tid, agent_name="support-bot", agent_version=1, agent_digest=None,
              env="dev", deployment_id=None, start_ns=t0, end_ns=t0 + 1_000_000,
              status=SpanStatus.OK)  # fmt: skip
    store = open_store(f"sqlite:///{cwd / '.agentdeck' / 'agentdeck.db'}")
    store.write_batch([run], [span])
    store.close()
    return tid


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="agentdeck-cli-bench-") as tmp:
        cwd = Path(tmp)
        env = _env()
        tid = _seed(env, cwd)
        if FULL:
            env["AGENTDECK_DATABASE_URL"] = f"sqlite:///{cwd / '.agentdeck' / 'agentdeck.db'}"
        commands = {
            "agentdeck --help": ["--help"],
            "agentdeck runs --json": ["runs", "--json"],
            "agentdeck runs": ["runs"],
            "agentdeck trace ID": ["trace", tid[:12]],
            "agentdeck versions NAME": ["versions", "support-bot"],
            "agentdeck show REF": ["show", "support-bot@1"],
            "agentdeck history": ["history", "support-bot", "--env", "dev"],
            "agentdeck policy versions": ["policy", "versions", "support-refunds"],
        }
        base: list[tuple[float, float]] = []
        times: dict[str, list[tuple[float, float]]] = {label: [] for label in commands}
        for i in range(RUNS + 1):  # round 0 warms the page cache and the .pyc files
            b = _run([sys.executable, "-c", "pass"], env, cwd)
            row = {label: _run([*CLI, *argv], env, cwd) for label, argv in commands.items()}
            if i:
                base.append(b)
                for label, dt in row.items():
                    times[label].append(dt)
    base_wall = statistics.median(w for w, _ in base)
    base_cpu = statistics.median(c for _, c in base)
    print(
        f"{RUNS} rounds{' (full commands)' if FULL else ''}; baseline python -c pass: median {base_wall * 1000:.1f} ms wall, "
        f"{base_cpu * 1000:.1f} ms CPU; ratio = time / the baseline's median; goal < {GOAL:g}x"
    )
    print(
        f"{'command':<26} {'wall ms':>7}  {'wall ratio min/median/max':>25}   "
        f"{'CPU ms':>6}  {'CPU ratio min/median/max':>24}  goal"
    )
    ratios = []
    for label, ts in times.items():
        walls = sorted(w / base_wall for w, _ in ts)
        cpus = sorted(c / base_cpu for _, c in ts)
        med = statistics.median(walls)
        verdict = "met" if med < GOAL else "MISSED"
        print(
            f"{label:<26} {statistics.median(w for w, _ in ts) * 1000:7.0f}  "
            f"{walls[0]:7.1f}x {med:7.1f}x {walls[-1]:7.1f}x   "
            f"{statistics.median(c for _, c in ts) * 1000:6.0f}  "
            f"{cpus[0]:6.1f}x {statistics.median(cpus):6.1f}x {cpus[-1]:6.1f}x  "
            f"< {GOAL:g}x {verdict}"
        )
        ratios.append(Ratio(f"{label}/python -c pass (median wall)", med, f"< {GOAL:g}"))
        ratios.append(
            Ratio(f"{label}/python -c pass (median CPU)", statistics.median(cpus), f"< {GOAL:g}")
        )
    emit("cli_startup_full" if FULL else "cli_startup", *ratios)
    return 0


if __name__ == "__main__":
    sys.exit(main())
