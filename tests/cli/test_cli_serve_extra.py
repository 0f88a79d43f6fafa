"""``agentdeck serve`` in an install without the ``[server]`` extra: one line naming
``pip install 'agentdeck[server]'``, exit 2, no traceback. The missing packages are simulated
in a subprocess by a ``sys.meta_path`` finder that refuses to import them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BLOCKER = """
import sys
class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Missing())
from agentdeck.cli.main import main
main(sys.argv[1:])
"""


@pytest.mark.parametrize("blocked", [("uvicorn",), ("fastapi", "starlette"), ("jinja2",)])
def test_serve_without_the_server_extra_names_it_in_one_line(
    tmp_path: Path, blocked: tuple[str, ...]
) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    done = subprocess.run(
        [sys.executable, "-c", BLOCKER.format(blocked=set(blocked)), "serve", "--db", db],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "pip install 'agentdeck[server]'" in lines[0] and blocked[0] in lines[0]
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not (tmp_path / "x.db").exists()  # refused before opening the store
