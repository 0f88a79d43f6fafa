"""A CLI command line run through the real entry point in fresh interpreters, on a copy of a
store as the working directory's default store: once as a user runs it, once with
``AGENTDECK_DATABASE_URL`` set (which makes it take the full command), each reporting the
heavy libraries it imported."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from agentdeck.store.engine import DEFAULT_DIR, DEFAULT_FILE

_PROBE = (
    "import sys\nfrom agentdeck.cli.main import main\ntry:\n    main(sys.argv[1:])\n"
    "finally:\n    heavy = sorted({{m.split('.')[0] for m in sys.modules}} & {heavy!r})\n"
    "    sys.stderr.write(f'HEAVY={{heavy}}\\n')\n"
)


def fast_and_full(
    db: str, cwd: Path, argv: list[str], heavy: Iterable[str], columns: int | None = None
) -> tuple[subprocess.CompletedProcess[bytes], subprocess.CompletedProcess[bytes]]:
    """(the command as a user runs it, the full command), after copying the SQLite store
    ``db`` to ``cwd``'s default store. Each one's stderr ends ``HEAVY=[...]``: which of
    ``heavy`` it imported."""
    (cwd / DEFAULT_DIR).mkdir()
    src = Path(db.removeprefix("sqlite:///"))
    with sqlite3.connect(src) as a, sqlite3.connect(cwd / DEFAULT_DIR / DEFAULT_FILE) as b:
        a.backup(b)
    probe = _PROBE.format(heavy=set(heavy))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTDECK_")}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    cmd = [sys.executable, "-c", probe, *argv]
    fast = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=True)
    url = f"sqlite:///{cwd / DEFAULT_DIR / DEFAULT_FILE}"
    full = subprocess.run(cmd, cwd=cwd, env={**env, "AGENTDECK_DATABASE_URL": url},
                          capture_output=True, check=True)  # fmt: skip
    return fast, full
