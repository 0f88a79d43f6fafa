"""Shared helpers for the replay tests: the shop agent's two registered versions, an SDK that
records into the store under test, and recorded runs made through the real SDK."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from replay_agents import shop

from agentdeck.core.spec.agent import AgentSpec, ModelSpec, ResolvedAgent
from agentdeck.registry.resolver import CachingResolver
from agentdeck.registry.service import Registry
from agentdeck.store.protocol import Store
from agentdeck.tracing.replay.entrypoint import run_entrypoint
from agentdeck.tracing.sdk import api as sdk

HERE = Path(__file__).resolve().parent
PATHS = (HERE,)

V1 = AgentSpec(
    name="shop-bot",
    model=ModelSpec("scripted", "scripted-1", {"temperature": 0}),
    system_prompt="You are the shop assistant.",
    tools=shop.TOOL_SPECS[:2],
    entrypoint="replay_agents.agent_v1:run_agent",
)
V2 = AgentSpec(
    name="shop-bot",
    model=ModelSpec("scripted", "scripted-1", {"temperature": 0}),
    system_prompt="You are the shop assistant. Tell the customer.",
    tools=shop.TOOL_SPECS,
    entrypoint="replay_agents.agent_v2:run_agent",
)


def register_both(store: Store) -> tuple[ResolvedAgent, ResolvedAgent]:
    reg = Registry(store)
    reg.register_agent(V1)
    reg.register_agent(V2)
    return reg.resolve("shop-bot@1"), reg.resolve("shop-bot@2")


def start_recording(store: Store, tmp_path: Path) -> None:
    sdk.init(
        sink=store,
        resolver=CachingResolver(Registry(store)),
        spill_dir=tmp_path / "spill",
        schedule_delay=0.02,
    )


def record(agent: ResolvedAgent, question: str) -> str:
    """Run ``agent`` on ``question`` through the real SDK; the trace id, once stored."""
    out = run_entrypoint(agent, question, paths=PATHS)
    assert out.ok, out.error
    assert sdk.flush(10)
    return out.trace_id


def _shop(store: Store, tmp_path: Path) -> Iterator[Store]:
    register_both(store)
    start_recording(store, tmp_path)
    shop.LIVE_CALLS.clear()
    yield store
    sdk.shutdown(10)


@pytest.fixture
def shop_store(sqlite_store: Store, tmp_path: Path) -> Iterator[Store]:
    """A SQLite store with both versions registered and the SDK recording into it."""
    yield from _shop(sqlite_store, tmp_path)


@pytest.fixture
def shop_any_store(store: Store, tmp_path: Path) -> Iterator[Store]:
    """The same on each backend (the ``store`` fixture: SQLite and PostgreSQL)."""
    yield from _shop(store, tmp_path)
