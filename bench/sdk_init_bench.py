"""``import agentdeck; agentdeck.init()`` in a fresh interpreter: CPU and wall time, first use
(the embedded store is created) and warm (it exists), for one or more installs.

Each install is a Python executable (a venv's ``bin/python``); the installs are measured in
turns, so machine load falls on each alike. ``python -c pass`` of the same executable is the
baseline printed beside them. Prints min / median / max over ``--repeats``::

    python bench/sdk_init_bench.py /tmp/before/bin/python /tmp/after/bin/python --repeats 9
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import tempfile
import time

INIT = "import agentdeck; agentdeck.init()"


def _child(python: str, code: str, cwd: str) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTDECK_", "PYTHONPATH"))}
    env["HOME"] = cwd
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([python, "-c", code], cwd=cwd, env=env, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return cpu, wall


def _fmt(xs: list[float]) -> str:
    return f"{min(xs) * 1e3:7.0f} / {statistics.median(xs) * 1e3:7.0f} / {max(xs) * 1e3:7.0f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pythons", nargs="+")
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.repeats):
        for python in args.pythons:
            workdir = tempfile.mkdtemp(prefix="agentdeck-init-")
            try:
                results.setdefault((python, "pass"), []).append(_child(python, "pass", workdir))
                results.setdefault((python, "first"), []).append(_child(python, INIT, workdir))
                results.setdefault((python, "warm"), []).append(_child(python, INIT, workdir))
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
    print(
        f"{'install':40} {'case':6} {'CPU min / median / max':>28} {'wall min / median / max':>28}"
    )
    for (python, case), runs in results.items():
        cpu = [c for c, _ in runs]
        wall = [w for _, w in runs]
        print(f"{python[-40:]:40} {case:6} {_fmt(cpu):>28} {_fmt(wall):>28}")


if __name__ == "__main__":
    main()
