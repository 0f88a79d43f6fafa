"""The public SDK surface: small, curated, lazy."""

from __future__ import annotations

import subprocess
import sys

import agentdeck


def test_all_is_sorted_and_matches_the_lazy_exports() -> None:
    assert agentdeck.__all__ == sorted(agentdeck.__all__)
    assert set(agentdeck.__all__) == set(agentdeck._EXPORTS)


def test_every_exported_name_resolves() -> None:
    for name in agentdeck.__all__:
        assert getattr(agentdeck, name) is not None


def test_importing_agentdeck_loads_nothing_else() -> None:
    code = "import sys, agentdeck; print(sorted(m for m in sys.modules if m.startswith(('agentdeck.', 'sqlalchemy', 'httpx', 'orjson'))))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"
