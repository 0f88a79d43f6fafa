"""Helpers shared by the foundation tests (registry, deployments, audit, CLI).

Plain functions, not fixtures, so that tests in any folder can import them
(``from foundation import ...``; pytest puts ``tests/`` on ``sys.path`` for its conftest).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import func, select

from agentdeck.core.policy.spec import parse_policy_spec
from agentdeck.core.spec.agent import AgentSpec, parse_agent_spec
from agentdeck.core.spec.artifacts import AuditEvent, PolicyVersion
from agentdeck.store import SqlStore
from agentdeck.store.tables import agent_versions, audit_log, deployments, policy_versions

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "support-bot"
EXAMPLE_V1 = EXAMPLES / "agent.v1.yaml"
EXAMPLE_V2 = EXAMPLES / "agent.v2.yaml"
EXAMPLE_POLICY = "support-refunds"

BASE_SPEC: dict[str, Any] = {
    "name": "bot",
    "model": {"provider": "openai", "id": "gpt-4o-2024-08-06", "params": {"temperature": 0.2}},
    "system_prompt": "You help.",
    "tools": [
        {
            "name": "lookup",
            "description": "Look an order up.",
            "input_schema": {
                "type": "object",
                "properties": {"order_id": {"type": "string"}},
                "required": ["order_id"],
            },
            "output_schema": {"type": "object", "properties": {"status": {"type": "string"}}},
        }
    ],
}


def spec_dict(**changes: Any) -> dict[str, Any]:
    """A copy of :data:`BASE_SPEC` with top-level keys replaced (``None`` removes a key)."""
    data = copy.deepcopy(BASE_SPEC)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def make_spec(name: str = "bot", prompt: str = "You help.", **changes: Any) -> AgentSpec:
    """A valid, normalized spec; ``prompt`` varies the content (and so the digest)."""
    return parse_agent_spec(spec_dict(name=name, system_prompt=prompt, **changes), "test.yaml")


def seed_policy(store: SqlStore, name: str = EXAMPLE_POLICY) -> PolicyVersion:
    """Register a policy version straight through the store (no CEL compiler needed)."""
    policy = parse_policy_spec(
        {
            "name": name,
            "default_effect": "allow",
            "rules": [{"id": "no-big-refunds", "when": "args.amount > 500", "effect": "deny"}],
        },
        "policy.yaml",
    )
    pv, _ = store.put_policy_version(policy, "test", AuditEvent("test", "policy.register", name))
    return pv


def row_counts(store: SqlStore) -> dict[str, int]:
    """Row counts of the tables a user error must leave untouched."""
    out: dict[str, int] = {}
    with store.engine.connect() as conn:
        for table in (agent_versions, policy_versions, deployments, audit_log):
            out[table.name] = int(
                conn.execute(select(func.count()).select_from(table)).scalar_one()
            )
    return out


def root_conftest(config: pytest.Config) -> ModuleType:
    """``tests/conftest.py`` as pytest loaded it (``import conftest`` is ambiguous: every test
    folder may have one)."""
    module = config.pluginmanager.get_plugin(str(REPO / "tests" / "conftest.py"))
    assert isinstance(module, ModuleType), "tests/conftest.py is not loaded"
    return module


# -- CLI results -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """What one in-process ``agentdeck`` invocation did."""

    code: int
    out: str
    err: str


Cli = Callable[..., Result]


def assert_user_error(result: Result, *words: str) -> None:
    """Exit 2, exactly one line on stderr containing ``words``, no traceback, nothing on stdout."""
    assert result.code == 2, result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: ")
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert "Traceback" not in result.err
    assert result.out == ""
