"""No module over 500 lines (issue 13): small modules with one job."""

from __future__ import annotations

from pathlib import Path

import agentdeck

LIMIT = 500


def test_no_module_is_over_500_lines() -> None:
    root = Path(agentdeck.__file__).parent
    modules = sorted(root.rglob("*.py"))
    assert len(modules) > 100  # the package really was found
    sizes = {str(p.relative_to(root)): len(p.read_text().splitlines()) for p in modules}
    over = {name: n for name, n in sizes.items() if n > LIMIT}
    assert over == {}, f"modules over {LIMIT} lines: {over}"
