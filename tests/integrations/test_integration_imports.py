"""Each integration is an optional extra: importing it without its framework names the extra,
and nothing imports a framework before its integration module is imported."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

CASES = [
    ("openai", ["openai"], "agentdeck[openai]"),
    ("anthropic", ["anthropic"], "agentdeck[anthropic]"),
    ("langchain", ["langchain_core.callbacks"], "agentdeck[langchain]"),
    ("openai_agents", ["agents", "agents.tracing"], "agentdeck[agents]"),
]


@pytest.mark.parametrize(("module", "blocked", "extra"), CASES)
def test_missing_framework_raises_import_error_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, module: str, blocked: list[str], extra: str
) -> None:
    for name in blocked:
        monkeypatch.setitem(sys.modules, name, None)  # makes `import name` fail
    monkeypatch.delitem(sys.modules, f"agentdeck.integrations.{module}", raising=False)
    with pytest.raises(ImportError, match=extra.replace("[", r"\[").replace("]", r"\]")):
        importlib.import_module(f"agentdeck.integrations.{module}")


def test_importing_agentdeck_and_the_package_imports_no_framework() -> None:
    code = (
        "import sys, agentdeck, agentdeck.integrations, agentdeck.tracing.sdk.api\n"
        "bad = [m for m in ('openai', 'anthropic', 'langchain_core', 'langgraph', 'agents')"
        " if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
