"""Run every benchmark in bench/ (``make bench``); each prints its own ratios."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = []
    for path in sorted(HERE.glob("*_bench.py")):
        print(f"\n=== {path.name} ===", flush=True)
        code = subprocess.call([sys.executable, str(path)], cwd=HERE.parent)
        if code != 0:
            failed.append(path.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
