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


def test_record_conversation_is_public_lazy_and_documented() -> None:
    from pathlib import Path

    assert "record_conversation" in agentdeck.__all__
    code = (
        "import sys, agentdeck; f = agentdeck.record_conversation; "
        "print(sorted(m for m in sys.modules if m.startswith(('sqlalchemy', 'agentdeck.tracing.otlp', "
        "'agentdeck.policy', 'agentdeck.integrations'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"  # the SDK call loads no store, OTLP decoder, policy or integration
    docs = (Path(__file__).resolve().parent.parent / "docs" / "import.md").read_text("utf-8")
    assert "agentdeck.record_conversation(" in docs
